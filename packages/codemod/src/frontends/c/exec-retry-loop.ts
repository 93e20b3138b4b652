import type { Node } from './syntax-tree.js';
import type { Planner } from './recorder.js';
import { CANCEL } from './action-entry.js';
import { leadingExec, statementsOf } from './child-statements.js';
import { calledNames, identifierNodes, unparen } from './syntax.js';

// An exec that opens a retry loop (entr's `for (i = 0; i < 10; i++) { ret = execvp(…); if (errno == ETXTBSY)
// nanosleep(…); else break; }`): the child's first round starts with the exec, which either succeeds, as the fast
// start's, or fails, and the slow path's child then runs the whole loop as written, retries included. The parent
// records the first round's test, the counter at its first value; a loop whose first test is false cancels.

/** The exec the loop's first round starts with, its first test recorded; null with a refusal when it cannot be. */
export function execInFirstRound(p: Planner, loop: Node): Node | null {
  const refuse = (why: string) => (p.block(`${loop.text.split('\n')[0]}: ${why}`), null);
  const first = statementsOf(loop.childForFieldName('body')!)[0];
  const exec = first && leadingExec(first);
  if (!exec) return refuse("the child's exec is not the first thing the loop's round does");
  const init = loop.childForFieldName('initializer');
  const cond = loop.childForFieldName('condition');
  // `for (;;)`, `for (; tries > 0; tries--)`: no counter set, the test reads what the parent reads as the child
  const start = init ? counterStart(init) : { counter: null, value: null };
  if (!start) return refuse('a loop whose counter does not start from one value the rewrite reads');
  if (p.vfork && init && init.type !== 'declaration') return refuse("a vfork child's counter is the parent's memory");
  const { counter, value } = start;
  if (counter && (p.shadows.has(counter) || p.known.has(counter) || p.subst.has(counter)))
    return refuse(`the loop's counter ${counter} has a value of the recording's own`);
  if (counter && identifierNodes(exec).some((id) => id.text === counter))
    return refuse(`the exec reads ${counter}, the loop's counter`);
  if (!cond) return exec;
  const effect = cond.descendantsOfType(['assignment_expression', 'update_expression', 'comma_expression']).length;
  if (effect || calledNames(cond).length || /\b(?:errno|environ)\b/.test(cond.text))
    return refuse('the loop test calls or writes');
  // the first test, the counter at its first value: the parent reads the rest as the child would
  if (value && !p.pure(value, true)) return null;
  const others = identifierNodes(cond).filter((id) => id.text !== counter);
  if (
    !p.readsNames(
      others.map((id) => id.text),
      cond.text,
    )
  )
    return null;
  const test = replaceCounter(cond, counter, value ? `(${p.text(value)})` : '', p);
  if (!literallyTrue(test)) p.actions.push({ condition: `!(${test})`, then: [CANCEL], otherwise: [] });
  return exec;
}

/** `i = 0` or `int i = 0`: the counter and its first value. */
function counterStart(init: Node): { counter: string; value: Node } | null {
  if (init.type === 'declaration') {
    const ds = init.childrenForFieldName('declarator');
    const d = ds.length === 1 ? ds[0] : null;
    const name = d?.type === 'init_declarator' ? d.childForFieldName('declarator') : null;
    const value = d?.childForFieldName('value');
    return name?.type === 'identifier' && value ? { counter: name.text, value } : null;
  }
  const e = unparen(init);
  if (e.type !== 'assignment_expression' || e.child(1)?.type !== '=') return null;
  const left = e.childForFieldName('left')!;
  return left.type === 'identifier' ? { counter: left.text, value: e.childForFieldName('right')! } : null;
}

/** The condition's C text with each read of the counter replaced by value, and the recording's names for the rest. */
function replaceCounter(cond: Node, counter: string | null, value: string, p: Planner): string {
  let out = cond.text;
  for (const id of identifierNodes(cond).sort((a, b) => b.startIndex - a.startIndex)) {
    const at = id.startIndex - cond.startIndex;
    out = out.slice(0, at) + (id.text === counter ? value : p.text(id)) + out.slice(at + id.text.length);
  }
  return out;
}

/** `(0) < 10`: a comparison of two integer literals that holds. */
function literallyTrue(test: string): boolean {
  const m = /^\(?\s*\(?(-?\d+)\)?\s*(<=|>=|<|>|!=)\s*\(?(-?\d+)\)?\s*\)?$/.exec(test.trim());
  if (!m) return false;
  const [a, op, b] = [Number(m[1]), m[2], Number(m[3])];
  return { '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b, '!=': a !== b }[op]!;
}
