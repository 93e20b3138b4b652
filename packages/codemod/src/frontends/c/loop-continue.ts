import type { Node } from './syntax-tree.js';
import { type ActionEntry, CANCEL } from './action-entry.js';
import { statementsOf } from './child-statements.js';
import { pureCondition } from './parent-answers.js';
import type { Planner } from './recorder.js';
import { callsUnder, identifiers, unparen } from './syntax.js';

/**
 * A loop's body with `if (i == SIGKILL || …) continue;` among its statements (lxc's signal reset): the rest of the
 * round runs when the condition is false, which the parent evaluates as the child would (memory, the loop's own
 * counter, no call): `if (!(condition)) { …the rest's actions… }` in the parent's loop. A `continue` anywhere else (nested, or
 * with more in its branch) stays what leaves the round, which the recorder refuses.
 */
export function recordLoopBody(p: Planner, body: Node, record: (list: Node[]) => ActionEntry[]): ActionEntry[] {
  return roundOf(p, sunkDeclarations(statementsOf(body)), record);
}

/**
 * `sighandler_t sigerr;` at the top of the body, first used after the `continue`: a declaration without a value does
 * nothing, so it moves down to just before the first statement that names it (no statement it passes names it: each
 * reads the same variables as before). There checkedResult sees it with the store and the test that follow.
 */
function sunkDeclarations(list: Node[]): Node[] {
  const out = [...list];
  for (const d of list) {
    const declarators = d.type === 'declaration' ? d.childrenForFieldName('declarator') : [];
    const name = declarators.length === 1 && declarators[0]?.type === 'identifier' ? declarators[0].text : null;
    // no expression in the type (`__typeof__(f())`, a VLA): nothing is evaluated where it stood
    if (!name || d.text.includes('(')) continue;
    const from = out.indexOf(d);
    const next = out.findIndex((s, j) => j > from && identifiers(s).includes(name));
    if (next < 0) continue;
    out.splice(from, 1);
    out.splice(next - 1, 0, d);
  }
  return out;
}

/** The round's statements, each run of them without a `continue` recorded as a path (record: recordBranch's). */
function roundOf(p: Planner, list: Node[], record: (list: Node[]) => ActionEntry[]): ActionEntry[] {
  const at = list.findIndex(continues);
  if (at < 0) return record(list);
  const before = record(list.slice(0, at));
  const condition = unparen(list[at].childForFieldName('condition')!);
  // memory only: a call's answer could change with the actions of the rounds before, which the parent has not run
  if (callsUnder(condition).length) {
    p.block(`a loop in the child skips a round on a call (${condition.text.split('\n')[0]}): its answer may change`);
    return before;
  }
  if (!pureCondition(p, condition)) return before;
  const rest = roundOf(p, list.slice(at + 1), record);
  // a round the parent cannot record stays the loop's to refuse, not a cancel under the condition
  if (rest.includes(CANCEL)) return [...before, CANCEL];
  return [...before, ...(rest.length ? [{ condition: `!(${p.text(condition)})`, then: rest, otherwise: [] }] : [])];
}

/** `if (condition) continue;` with no else (also `{ continue; }`). */
function continues(stmt: Node): boolean {
  if (stmt.type !== 'if_statement' || stmt.childForFieldName('alternative')) return false;
  const then = stmt.childForFieldName('consequence')!;
  const inner = statementsOf(then);
  return inner.length === 1 && inner[0].type === 'continue_statement';
}
