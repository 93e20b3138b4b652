/**
 * Where a fork's child branch is: the pid tests real code uses (`if (pid === 0)`, `if (!pid)`,
 * `switch (pid) { case 0: }`, `if ((pid = fork()) === 0)`, `if (pid > 0) { parent; return }`
 * with the child after it, error branches on `pid < 0` / `-1` kept), and how to remove it.
 */
import type { NodePath } from '@babel/traverse';
import * as t from '@babel/types';
import type { SiteClass } from '../../model.js';

export interface ChildBranch {
  /** The child's statements, in order. */
  statements: NodePath<t.Statement>[];
  /** The pid variable's name, when the result is stored. */
  pid: string | null;
  /**
   * Removes the child branch; call it after `fork()` itself has been replaced. With `forRecast`,
   * a switch case is blanked to `case REMOVED_CASE_MARKER:` instead, for `stripRemovedCases` after
   * printing: recast reprints a switch whose case list changes without indenting its cases.
   */
  remove(forRecast: boolean): void;
}

export const REMOVED_CASE_MARKER = '__forkexec_removed_case__';

type Shape = { ok: true; branch: ChildBranch } | { ok: false; class: SiteClass; reason: string };

type TestKind = 'child' | 'parent' | 'error';

const unwrap = (node: t.Node): t.Node => {
  let n = node;
  while (
    t.isParenthesizedExpression(n) ||
    t.isTSAsExpression(n) ||
    t.isTSNonNullExpression(n) ||
    t.isTypeCastExpression(n)
  )
    n = n.expression;
  return n;
};

function numberOf(node: t.Node): number | null {
  const n = unwrap(node);
  if (t.isNumericLiteral(n)) return n.value;
  if (t.isUnaryExpression(n, { operator: '-' }) && t.isNumericLiteral(n.argument)) return -n.argument.value;
  return null;
}

const FLIP: Record<string, string> = {
  '<': '>',
  '>': '<',
  '<=': '>=',
  '>=': '<=',
  '==': '==',
  '===': '===',
  '!=': '!=',
  '!==': '!==',
};

/** What a test on the pid selects: the child (pid == 0), the parent (pid > 0), or the error (pid < 0). */
function testKind(test: t.Node, isPid: (n: t.Node) => boolean): TestKind | null {
  const n = unwrap(test);
  if (isPid(n)) return 'parent'; // truthy: not the child
  if (t.isUnaryExpression(n, { operator: '!' }) && isPid(unwrap(n.argument))) return 'child';
  if (!t.isBinaryExpression(n)) return null;
  let op = n.operator as string;
  let value: number | null;
  if (isPid(unwrap(n.left))) value = numberOf(n.right);
  else if (isPid(unwrap(n.right))) {
    value = numberOf(n.left);
    op = FLIP[op] ?? '';
  } else return null;
  if (value === null) return null;
  const eq = op === '==' || op === '===';
  const ne = op === '!=' || op === '!==';
  if (value === 0 && eq) return 'child';
  if (value === 0 && (ne || op === '>')) return 'parent';
  if ((value === 0 && op === '<') || (value === -1 && eq)) return 'error';
  if (value === 1 && op === '>=') return 'parent';
  return null;
}

function bodyOf(path: NodePath<t.Statement>): NodePath<t.Statement>[] {
  return path.isBlockStatement() ? path.get('body') : [path];
}

/** Whether control never falls out of the end of `path` (return, throw, break, continue, exit). */
export function terminates(
  path: NodePath<t.Statement> | NodePath<t.Statement>[],
  isExit: (call: NodePath<t.CallExpression>) => boolean,
): boolean {
  const list = Array.isArray(path) ? path : bodyOf(path);
  const last = list[list.length - 1];
  if (!last) return false;
  if (last.isReturnStatement() || last.isThrowStatement() || last.isBreakStatement() || last.isContinueStatement())
    return true;
  if (last.isBlockStatement()) return terminates(last, isExit);
  if (last.isExpressionStatement()) {
    const expr = last.get('expression');
    return expr.isCallExpression() && isExit(expr);
  }
  return false;
}

/**
 * Whether a block's statements can be spliced into the list holding `target` without changing
 * scoping: its let/const/class names must be bound nowhere around it, nor used as globals.
 */
function spliceable(block: t.BlockStatement, target: NodePath): boolean {
  if (!target.parentPath?.isBlock()) return false;
  const globals = (target.scope.getProgramParent() as unknown as { globals: Record<string, unknown> }).globals;
  for (const s of block.body) {
    if (t.isFunctionDeclaration(s)) return false;
    const names =
      t.isVariableDeclaration(s) && s.kind !== 'var'
        ? Object.keys(t.getBindingIdentifiers(s))
        : t.isClassDeclaration(s) && s.id
          ? [s.id.name]
          : [];
    if (names.some((name) => target.scope.hasBinding(name) || name in globals)) return false;
  }
  return true;
}

function replaceWithBranch(target: NodePath<t.Statement>, branch: t.Statement | null | undefined): void {
  if (!branch) target.remove();
  else if (t.isBlockStatement(branch) && spliceable(branch, target)) {
    if (branch.body.length) target.replaceWithMultiple(branch.body);
    else target.remove();
  } else target.replaceWith(branch);
}

/** Finds the child branch of the fork call at `fork`. */
export function findChildBranch(
  fork: NodePath<t.CallExpression>,
  isExit: (call: NodePath<t.CallExpression>) => boolean,
): Shape {
  let expr: NodePath = fork;
  let pid: string | null = null;
  // `pid = fork()` as an expression: the assignment carries the value.
  if (expr.parentPath?.isAssignmentExpression({ operator: '=' }) && expr.key === 'right') {
    const left = (expr.parentPath.node as t.AssignmentExpression).left;
    if (!t.isIdentifier(left))
      return { ok: false, class: 'unresolved', reason: 'the pid is stored in something other than a variable' };
    pid = left.name;
    expr = expr.parentPath;
  }
  while (expr.parentPath?.isParenthesizedExpression() || expr.parentPath?.isTSAsExpression()) expr = expr.parentPath;
  const parent = expr.parentPath!;
  const forkNode = expr.node;
  const isPid = (n: t.Node): boolean => n === forkNode || (pid !== null && t.isIdentifier(n, { name: pid }));

  if (parent.isReturnStatement() || parent.isArrowFunctionExpression())
    return { ok: false, class: 'wrapper', reason: "fork()'s result is returned: the child continues in the caller" };

  let first: NodePath | null = null; // the statement holding the first pid test
  let hoist: NodePath | null = null; // the fork expression, when it sits in that test
  if (parent.isVariableDeclarator() && expr.key === 'init') {
    if (!t.isIdentifier(parent.node.id)) return { ok: false, class: 'unresolved', reason: 'the pid is destructured' };
    pid = parent.node.id.name;
    first = parent.parentPath!.getNextSibling();
  } else if (parent.isExpressionStatement()) {
    if (!pid)
      return {
        ok: false,
        class: 'unresolved',
        reason: "fork()'s result is not tested: parent and child run the same code",
      };
    first = parent.getNextSibling();
  } else {
    // In the test of an if or the discriminant of a switch.
    const holder = expr.findParent((p) => p.isStatement());
    if (holder?.isIfStatement() && expr.isDescendant(holder.get('test'))) {
      first = holder;
      hoist = expr;
    } else if (holder?.isSwitchStatement() && holder.node.discriminant === forkNode) first = holder;
    else
      return {
        ok: false,
        class: 'unresolved',
        reason: "fork()'s result is used in an expression the codemod does not follow",
      };
  }

  // Error branches that end (`if (pid < 0) { perror(); exit(1); }`) may come first, as separate statements.
  while (
    first?.isIfStatement() &&
    !first.node.alternate &&
    testKind(first.node.test, isPid) === 'error' &&
    hoist === null
  ) {
    if (!terminates(first.get('consequent'), isExit))
      return { ok: false, class: 'unresolved', reason: 'the fork error branch does not end' };
    first = first.getNextSibling();
  }
  if (first?.isReturnStatement() && first.node.argument && isPid(unwrap(first.node.argument)))
    return { ok: false, class: 'wrapper', reason: 'the pid is returned: the child continues in the caller' };
  if (!first || (!first.isIfStatement() && !first.isSwitchStatement()))
    return { ok: false, class: 'unresolved', reason: 'the statement after fork() is not a test of the pid' };

  if (first.isSwitchStatement()) return switchShape(first, isPid, isExit, pid);
  return ifShape(first, isPid, isExit, pid, hoist);
}

function switchShape(
  sw: NodePath<t.SwitchStatement>,
  isPid: (n: t.Node) => boolean,
  isExit: (call: NodePath<t.CallExpression>) => boolean,
  pid: string | null,
): Shape {
  if (!isPid(unwrap(sw.node.discriminant)))
    return { ok: false, class: 'unresolved', reason: 'the switch does not test the pid' };
  const cases = sw.get('cases');
  const index = cases.findIndex((c) => c.node.test && numberOf(c.node.test) === 0);
  if (index < 0) return { ok: false, class: 'unresolved', reason: 'the switch on the pid has no case 0' };
  const clause = cases[index];
  const before = cases[index - 1];
  if (before && !terminates(before.get('consequent'), isExit))
    return { ok: false, class: 'unresolved', reason: 'another case falls through into case 0' };
  let statements = clause.get('consequent');
  if (statements.length === 1 && statements[0].isBlockStatement()) statements = statements[0].get('body');
  // A break after exec is only reached when exec fails: it ends the child's statements.
  const last = statements[statements.length - 1];
  if (last?.isBreakStatement() && !last.node.label) statements = statements.slice(0, -1);
  const remove = (forRecast: boolean) => {
    if (!forRecast) return clause.remove();
    clause.node.test = t.identifier(REMOVED_CASE_MARKER);
    clause.node.consequent = [];
  };
  return { ok: true, branch: { statements, pid, remove } };
}

function ifShape(
  top: NodePath<t.IfStatement>,
  isPid: (n: t.Node) => boolean,
  isExit: (call: NodePath<t.CallExpression>) => boolean,
  pid: string | null,
  hoist: NodePath | null,
): Shape {
  // Keeps the fork expression's evaluation (by then rewritten) when the statement holding it goes away.
  const keepForkExpression = () => {
    if (!hoist) return;
    const node = hoist.node as t.Expression;
    // A fresh assignment: the original carries the parentheses it had inside the test.
    const expression = t.isAssignmentExpression(node)
      ? t.assignmentExpression('=', t.cloneNode(node.left), node.right)
      : node;
    top.insertBefore(t.expressionStatement(expression));
  };
  let current: NodePath<t.IfStatement> = top;
  for (;;) {
    const kind = testKind(current.node.test, isPid);
    if (kind === null)
      return { ok: false, class: 'unresolved', reason: 'a test of the pid is not one the codemod recognises' };
    const alternate = current.get('alternate') as NodePath<t.Statement | null | undefined>;
    if (kind === 'child') {
      const target = current;
      const isTop = target === top;
      return {
        ok: true,
        branch: {
          statements: bodyOf(target.get('consequent')),
          pid,
          remove: () => {
            if (isTop) keepForkExpression();
            replaceWithBranch(target, target.node.alternate);
          },
        },
      };
    }
    if (kind === 'parent' && alternate.node && !alternate.isIfStatement()) {
      const target = current;
      return {
        ok: true,
        branch: {
          statements: bodyOf(alternate as NodePath<t.Statement>),
          pid,
          remove: () => {
            target.node.alternate = null;
          },
        },
      };
    }
    if (alternate.node && alternate.isIfStatement()) {
      current = alternate;
      continue;
    }
    if (alternate.node)
      return { ok: false, class: 'unresolved', reason: 'the else after the error test holds both parent and child' };
    if (kind === 'error') return { ok: false, class: 'unresolved', reason: 'no branch of the pid tests is the child' };
    // `if (pid > 0) { parent; return }` with the child after the if statement.
    for (let branch: NodePath<t.IfStatement> | null = top; branch;) {
      if (!terminates(branch.get('consequent'), isExit))
        return {
          ok: false,
          class: 'unresolved',
          reason: 'the parent branch does not end, so the child code after it is shared',
        };
      const alt: NodePath = branch.get('alternate') as NodePath;
      branch = alt.isIfStatement() ? alt : null;
    }
    const after = top.getAllNextSiblings() as NodePath<t.Statement>[];
    if (!top.parentPath.isBlockStatement() && !top.parentPath.isProgram())
      return { ok: false, class: 'unresolved', reason: 'the child code after the parent branch is not in a block' };
    return { ok: true, branch: { statements: after, pid, remove: () => after.forEach((s) => s.remove()) } };
  }
}
