import type { Node } from './syntax-tree.js';
import { EXEC_CALLS, EXIT_CALLS, NORETURN_CALLS } from './operations.js';
import { blockStatements, calleeName, callsUnder, statementCall, unparen } from './syntax.js';

// How the recorder reads a child's statements: where a path ends, where the exec is, what an lvalue writes.

/** The variable at the root of an lvalue: `args[i]` → args, `&set` → set, `rl.rlim_cur` → rl, `*p` → p. */
export function baseName(node: Node): string | null {
  let n = unparen(node);
  for (;;) {
    if (n.type === 'identifier') return n.text;
    if (n.type === 'subscript_expression' || n.type === 'field_expression' || n.type === 'pointer_expression')
      n = unparen(n.childForFieldName('argument')!);
    else return null;
  }
}

/** Does this statement end the child's path here (exit, return, jump, a call that never returns)? */
export function leaves(stmt: Node, noreturn: Set<string>): boolean {
  if (stmt.type === 'compound_statement') {
    const list = blockStatements(stmt);
    return list.length > 0 && leaves(list.at(-1)!, noreturn);
  }
  if (['return_statement', 'goto_statement', 'break_statement', 'continue_statement'].includes(stmt.type)) return true;
  const name = statementCall(stmt) && calleeName(statementCall(stmt)!);
  return !!name && (EXIT_CALLS.has(name) || NORETURN_CALLS.has(name) || noreturn.has(name));
}

/** The statements of a branch. */
export function statementsOf(node: Node): Node[] {
  return node.type === 'compound_statement' ? blockStatements(node) : [node];
}

export function hasExec(node: Node): boolean {
  return callsUnder(node).some((c) => EXEC_CALLS.has(calleeName(c) ?? ''));
}

/** The exec call a statement starts with: the statement itself, `x = exec(...)`, `(void)`, `if (exec(...) < 0)`,
 * `return exec(...)`. The exec must be the first thing the statement does. */
export function leadingExec(stmt: Node): Node | null {
  let e: Node | null = null;
  if (stmt.type === 'expression_statement' || stmt.type === 'return_statement') e = stmt.namedChild(0);
  else if (stmt.type === 'if_statement') e = stmt.childForFieldName('condition');
  for (let n = e; n;) {
    n = unparen(n);
    if (n.type === 'call_expression') return EXEC_CALLS.has(calleeName(n) ?? '') ? n : null;
    if (n.type === 'cast_expression') n = n.childForFieldName('value');
    else if (n.type === 'assignment_expression') n = n.childForFieldName('right');
    else if (n.type === 'unary_expression' && n.child(0)?.type === '!') n = n.childForFieldName('argument');
    else if (n.type === 'binary_expression' && ['<', '==', '!=', '<=', '>', '>='].includes(n.child(1)?.type ?? ''))
      n = n.childForFieldName('left');
    else return null;
  }
  return null;
}
