import { CANCEL } from './action-entry.js';
import { branchOn } from './branch-recording.js';
import { pureCondition } from './parent-answers.js';
import type { Planner } from './recorder.js';
import type { Node } from './syntax-tree.js';
import { callArgs } from './syntax.js';

/**
 * `assert(x);` in the child (<assert.h>): when x is false it aborts, or with NDEBUG does nothing and the child goes on.
 * Either way the fast path may start only when x holds: the parent evaluates x as the child would (a condition on
 * memory), and cancels otherwise, so the slow path runs the assert as the build compiled it. A project's own assert
 * (a macro of the file) is not this one and is refused.
 */
export function recordAssert(p: Planner, call: Node): void {
  const [condition, ...more] = callArgs(call);
  if (!condition || more.length) return p.block(`${call.text.split('\n')[0]}: an assert() of another form`);
  if (p.callMacros.has('assert') || /^\s*#\s*(?:define|undef)\s+assert\b/m.test(call.tree.rootNode.text))
    return p.block('assert() defined by the project: not the C library one');
  if (!pureCondition(p, condition)) return;
  branchOn(p, `!(${p.text(condition)})`, [CANCEL], []);
}
