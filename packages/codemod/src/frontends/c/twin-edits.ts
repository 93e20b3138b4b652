import type { Companion } from '../../model.js';
import { parseC } from './parser.js';
import { applyEdits, type Edit, includeEdits } from './rewrite.js';
import { functionName } from './syntax.js';

/**
 * A file of the project with the recording twins other files' conversions call (recording-twin.ts): each right after
 * the function it records, once (a twin the file already defines is left as it is), and `#include "forkexec.h"` in
 * front of the first. Throws when a function is not defined at the top level of the file (the file changed since
 * the scan read it).
 */
export async function addTwins(source: string, companions: Companion[]): Promise<string> {
  const tree = await parseC(source);
  try {
    const top = tree.rootNode.namedChildren.filter((n) => n?.type === 'function_definition');
    const defined = new Set(top.map((d) => functionName(d!)));
    const eol = source.includes('\r\n') ? '\r\n' : '\n';
    const edits: Edit[] = [];
    const added = new Set<string>();
    for (const c of companions) {
      if (defined.has(c.name) || added.has(c.name)) continue;
      const def = top.find((d) => functionName(d!) === c.after);
      if (!def) throw new Error(`${c.after}() is not defined at the top level of the file: its twin has no place`);
      edits.push({ start: def.endIndex, end: def.endIndex, text: `${eol}${eol}${c.text.replace(/\n/g, eol)}` });
      added.add(c.name);
    }
    if (!edits.length) return source;
    const first = Math.min(...edits.map((e) => e.start));
    const before = top.find((d) => d!.endIndex === first)!.startIndex;
    return applyEdits(source, [...edits, ...includeEdits(tree, source, ['"forkexec.h"'], before)]);
  } finally {
    tree.delete();
  }
}
