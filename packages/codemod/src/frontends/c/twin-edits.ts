import type { Companion } from '../../model.js';
import { parseC } from './parser.js';
import { applyEdits, type Edit, includeEdits } from './rewrite.js';
import { functionName } from './syntax.js';

/**
 * A file of the project with the recording twins other files' conversions call (recording-twin.ts): each right after
 * the definition it records (found by its text, as the project's scan read it), once (a twin the file already defines
 * stays as it is), and `#include "forkexec.h"` after the last top-level #include in front of the first. Throws when a
 * definition is not in the file once (the file changed since the scan read it).
 */
export async function addTwins(source: string, companions: Companion[]): Promise<string> {
  const tree = await parseC(source);
  try {
    const defined = new Set(
      tree.rootNode.namedChildren.filter((n) => n?.type === 'function_definition').map((d) => functionName(d!)),
    );
    const eol = source.includes('\r\n') ? '\r\n' : '\n';
    const edits: Edit[] = [];
    const anchors: number[] = [];
    const added = new Set<string>();
    for (const c of companions) {
      if (defined.has(c.name) || added.has(c.name)) continue;
      const at = source.indexOf(c.after);
      if (at < 0 || source.indexOf(c.after, at + 1) >= 0)
        throw new Error(`the definition ${c.name.split('__')[0]}() is not in the file once: its twin has no place`);
      const end = at + c.after.length;
      edits.push({ start: end, end, text: `${eol}${eol}${c.text.replace(/\n/g, eol)}` });
      anchors.push(at);
      added.add(c.name);
    }
    if (!edits.length) return source;
    return applyEdits(source, [...edits, ...includeEdits(tree, source, ['"forkexec.h"'], Math.min(...anchors))]);
  } finally {
    tree.delete();
  }
}
