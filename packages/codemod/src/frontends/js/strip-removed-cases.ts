import { SourceMapConsumer, SourceMapGenerator, type Mapping, type RawSourceMap } from 'source-map';
import { REMOVED_CASE_MARKER } from './shape.js';

const MARKER_LINE = new RegExp(`^[ \\t]*case ${REMOVED_CASE_MARKER}:[ \\t]*$`);

/** Deletes the lines of switch cases blanked for recast (see ChildBranch.remove), and those lines from the map. */
export function stripRemovedCases(code: string, map: RawSourceMap): { code: string; map: RawSourceMap } {
  const lines = code.split('\n');
  const removed = new Set<number>(); // 1-based
  lines.forEach((line, i) => MARKER_LINE.test(line.replace(/\r$/, '')) && removed.add(i + 1));
  if (removed.size === 0) return { code, map };
  const shift = (line: number) => line - [...removed].filter((r) => r < line).length;
  const consumer = new SourceMapConsumer(map);
  const generator = new SourceMapGenerator({ file: map.file });
  consumer.eachMapping((m) => {
    if (removed.has(m.generatedLine)) return;
    generator.addMapping({
      generated: { line: shift(m.generatedLine), column: m.generatedColumn },
      ...(m.source ? { source: m.source, original: { line: m.originalLine, column: m.originalColumn } } : {}),
      ...(m.name ? { name: m.name } : {}),
    } as Mapping);
  });
  for (const source of (consumer as unknown as { sources: string[] }).sources) {
    const content = consumer.sourceContentFor(source, true);
    if (content) generator.setSourceContent(source, content);
  }
  return {
    code: lines.filter((_, i) => !removed.has(i + 1)).join('\n'),
    map: JSON.parse(generator.toString()) as RawSourceMap,
  };
}
