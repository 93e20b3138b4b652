import type { Node } from './syntax-tree.js';
import { type Twin, TWIN_SUFFIX } from './recording-twin.js';

/** The companion of wrapper f is `f__forkexec_parent(pid_t pid)`: a reserved suffix, like a twin's. */
export const PARENT_SUFFIX = TWIN_SUFFIX.replace('record', 'parent');

/**
 * A fork wrapper's parent side (the statements after its fork up to its `return` of the pid, none reading its
 * parameters or locals) as a function of the wrapper's own file, next to the wrapper, where the statics it names
 * mean what they mean in the wrapper (rsync's `all_pids[num_pids++] = newpid;`). A fast start at a call in another
 * file calls it with the pid, as the wrapper would have run it after its fork; the slow path calls the wrapper.
 * Written into that file as a recording twin is (twin-edits.ts).
 */
export function parentCompanion(wrapper: string, pid: string, statements: Node[], file: string): Twin {
  const name = `${wrapper}${PARENT_SUFFIX}`;
  const text = statements[0].tree.rootNode.text;
  // each statement one tab in, its continuation lines kept as written relative to its first
  const lines = statements.map((st) => {
    const start = text.lastIndexOf('\n', st.startIndex - 1) + 1;
    const own = /^[ \t]*$/.test(text.slice(start, st.startIndex)) ? text.slice(start, st.startIndex) : '';
    return st.text
      .split('\n')
      .map((line, i) => `\t${i && line.startsWith(own) ? line.slice(own.length) : line}`)
      .join('\n');
  });
  const head = `void ${name}(pid_t ${pid})`;
  return {
    helper: wrapper,
    file,
    name,
    prototype: `${head};`,
    definition: [
      `/* forkexec: ${wrapper}()'s parent side, run after a fork_before_exec at its calls in other files */`,
      `${head};`,
      head,
      '{',
      ...lines,
      '}',
    ].join('\n'),
    performs: [],
    reads: [],
    writes: [],
    asks: false,
    integer: false,
  };
}
