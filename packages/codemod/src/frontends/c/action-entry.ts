import type { Node } from './syntax-tree.js';
import type { ExecStart } from './plan.js';

// The action list a site's parent records: what the recorder builds and the rewrite emits.

/** A forkexec_* call, a branch on a condition whose value the parent knows just as well, or a loop of its own. */
export type ActionEntry =
  | string
  | { exec: Node; start?: ExecStart }
  | { condition: string; then: ActionEntry[]; otherwise: ActionEntry[] }
  | { loop: string; body: ActionEntry[] }
  | { preprocessor: { directive: string; body: ActionEntry[] }[] };

/** untilExec's answer when the child execs in each branch of an `if`: the exec entries are in the action list. */
export const BRANCHED = 'branched';

/** The cancel entry: this path of the child does not reach the exec, so only the slow path can run it. */
export const CANCEL = 'forkexec_cancel(fx)';
