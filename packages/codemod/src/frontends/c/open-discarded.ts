import type { Node } from './syntax-tree.js';
import type { Planner } from './recorder.js';
import { callArgs } from './syntax.js';

/**
 * `close(STDIN_FILENO); open(_PATH_DEVNULL, O_RDONLY);` (entr): an open whose fd the child drops lands on the lowest
 * free fd, as any open, which the parent computes from its table and the actions so far (forkexec_next_fd); recorded
 * onto it. A failed open, which the child ignores, takes the slow path, where it is ignored as written.
 */
export function recordDiscardedOpen(p: Planner, call: Node): void {
  const args = callArgs(call);
  const what = call.text.split('\n')[0];
  if (args.length < 2 || args.length > 3) return p.block(`${what}: an open() the rewrite does not read`);
  p.openArgsOntoNext(args, what);
}
