import type { Companion } from '../../model.js';
import { parseC } from './parser.js';
import { applyEdits, type Edit, includeEdits } from './rewrite.js';
import { functionName } from './syntax.js';

/**
 * A file of the project with the recording twins other files' conversions call (recording-twin.ts): each right after
 * the definition it records (the file's one top-level definition of that name), once (a twin the file already defines
 * stays as it is), and `#include "forkexec.h"` after the last top-level #include in front of the first. Throws when a
 * definition is not in the file once (the file changed since the scan read it).
 */
export async function addTwins(source: string, companions: Companion[]): Promise<string> {
  const tree = await parseC(source);
  try {
    const top = tree.rootNode.namedChildren.filter((n) => n?.type === 'function_definition').map((d) => d!);
    const defined = new Set(top.map((d) => functionName(d)));
    const eol = source.includes('\r\n') ? '\r\n' : '\n';
    const edits: Edit[] = [];
    const anchors: number[] = [];
    const added = new Set<string>();
    for (const c of companions) {
      if (defined.has(c.name) || added.has(c.name)) continue;
      const defs = top.filter((d) => functionName(d) === c.after);
      if (defs.length !== 1)
        throw new Error(`${c.after}() is not defined once at the top level of the file: its twin has no place`);
      const end = defs[0].endIndex;
      edits.push({ start: end, end, text: `${eol}${eol}${c.text.replace(/\n/g, eol)}` });
      anchors.push(defs[0].startIndex);
      added.add(c.name);
    }
    if (!edits.length) return source;
    return applyEdits(source, [...edits, ...includeEdits(tree, source, ['"forkexec.h"'], Math.min(...anchors))]);
  } finally {
    tree.delete();
  }
}
