import type { Node } from './syntax-tree.js';
import { CHANGED_BY, SAME_IN_PARENT } from './facts.js';
import type { Planner } from './recorder.js';
import { calleeName, callsUnder, identifiers } from './syntax.js';

// What the parent answers as the child would: a condition on memory, or a call (SAME_IN_PARENT) that reads state --
// the environment, the fd table, the cwd, the user and group ids -- no action recorded before it has changed.

/** A condition the parent can evaluate with the child's result: it reads memory nothing changed, or calls that the
 * parent answers as the child would (facts.ts: SAME_IN_PARENT). */
export function pureCondition(p: Planner, condition: Node): boolean {
  if (
    condition.descendantsOfType(['assignment_expression', 'update_expression']).length > 0 ||
    /\b(?:errno|environ)\b/.test(identifiers(condition).join(' '))
  ) {
    p.block('a conditional in the child tests run-time state (a write, errno, environ): its actions depend on it');
    return false;
  }
  return callsUnder(condition).every((c) => sameInParent(p, c)) && p.reads(condition);
}

/** A call the parent makes in front of the fork with the child's answer: no effect, and it reads only state that no
 * action recorded before it changes. */
export function sameInParent(p: Planner, call: Node): boolean {
  const name = calleeName(call) ?? call.childForFieldName('function')!.text;
  const calls = p.callMacros.get(name);
  // `MY_GID(pw)` for `getgid()`: the parent expands the same macro, so it answers as the calls it stands for
  if (calls && !Object.hasOwn(SAME_IN_PARENT, name)) return calls.every((c) => answersInParent(p, c));
  return answersInParent(p, name);
}

export function answersInParent(p: Planner, name: string): boolean {
  const read = p.pureReads.get(name);
  const states = Object.hasOwn(SAME_IN_PARENT, name) ? [SAME_IN_PARENT[name]] : read?.states;
  if (!states) {
    p.block(`a conditional in the child calls ${name}(), which has an effect or may answer otherwise in the parent`);
    return false;
  }
  for (const state of states) {
    const changer = CHANGED_BY[state].find((a) => p.performed.has(a));
    if (changer) {
      p.block(`${name}() in the child reads its ${state} after its ${changer}(): the parent would answer before it`);
      return false;
    }
  }
  // a project function that only reads: the globals it names must be as the child has them (a local of the same
  // name, which the recording may see otherwise, refuses too)
  const stale = read?.globals.find(
    (g) => p.changed.has(g) || p.shadows.has(g) || p.known.has(g) || p.locals.has(g) || p.orderedLocals.has(g),
  );
  if (stale) {
    p.block(`${name}() reads ${stale}, which the child may have changed: the parent would answer before it`);
    return false;
  }
  return true;
}
