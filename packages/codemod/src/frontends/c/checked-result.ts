import type { Node } from './syntax-tree.js';
import { successValue } from './actions.js';
import type { Planner } from './recorder.js';
import { callArgs, calleeName, chain, identifiers, unparen } from './syntax.js';

/**
 * lxc's `sighandler_t sigerr; sigerr = signal(i, SIG_DFL); if (sigerr == SIG_ERR && !quiet) fprintf(…);`: a local
 * declared for nothing but an action's result, whose only read is the failure test right after it. On the fast path
 * the action succeeded (its failure takes the slow path, where the test runs as written), so the test is false and
 * its branch never runs: the action is recorded, the declaration and the test need nothing. The failure term comes
 * first in the test's `&&` chain, so nothing else of it is evaluated once it is false. Returns the statements used.
 */
export function checkedResult(p: Planner, list: Node[], i: number): number {
  const [declaration, store, check] = list.slice(i, i + 3);
  if (declaration?.type !== 'declaration' || store?.type !== 'expression_statement' || check?.type !== 'if_statement')
    return 0;
  const declarators = declaration.childrenForFieldName('declarator');
  const name = declarators.length === 1 && declarators[0]?.type === 'identifier' ? declarators[0].text : null;
  const assignment = unparen(store.namedChild(0)!);
  const call = assignment.type === 'assignment_expression' ? unparen(assignment.childForFieldName('right')!) : null;
  if (
    !name ||
    assignment.child(1)?.type !== '=' ||
    assignment.childForFieldName('left')?.text !== name ||
    call?.type !== 'call_expression' ||
    check.childForFieldName('alternative')
  )
    return 0;
  const callee = calleeName(call) ?? '';
  const args = callArgs(call).map((a) => a.text);
  const first = chain(unparen(check.childForFieldName('condition')!), '&&', (term) => [term])?.[0];
  if (!first || !failsWhen(unparen(first), name, callee, args)) return 0;
  // the local is read nowhere else: not in the call, not after the test (its branch reads it only on the slow path)
  const later = list.slice(i + 3);
  if (identifiers(call).includes(name) || later.some((s) => identifiers(s).includes(name))) return 0;
  p.call(call, store);
  return 3;
}

/** Is `test` true exactly when the call, stored in name, failed: `name == SIG_ERR` of a signal() that sets a
 * disposition, `name < 0` or `name == -1` of an action whose success value is known (it is never -1). */
function failsWhen(test: Node, name: string, callee: string, args: string[]): boolean {
  if (test.type !== 'binary_expression') return false;
  const op = test.childForFieldName('operator')?.type;
  const [left, right] = [test.childForFieldName('left')!, test.childForFieldName('right')!].map((n) =>
    unparen(n).text.replace(/\s+/g, ''),
  );
  if (left !== name) return false;
  if (callee === 'signal') return op === '==' && right === 'SIG_ERR' && /^SIG_(?:DFL|IGN)$/.test(args[1] ?? '');
  if (callee === 'close' || successValue(callee, args) === null) return false;
  return (op === '<' && right === '0') || (op === '==' && right === '-1');
}
