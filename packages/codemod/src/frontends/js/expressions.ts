/** Side-effect-free expressions, which may move from the child to the fork call, and const inlining. */
import type { NodePath } from '@babel/traverse';
import * as t from '@babel/types';
import { importedName } from './bindings.js';

const PATH_MODULES = new Set(['path', 'node:path']);
// Not resolve/relative: they read the working directory, which the child may have changed.
const PURE_PATH_FUNCTIONS = new Set(['join', 'dirname', 'basename', 'extname', 'normalize']);
const PURE_GLOBALS = new Set(['String', 'Number']);

/** A short text for messages: `execvp(...)`, `foo.bar()`. */
export function calleeText(callee: t.Node): string {
  if (t.isIdentifier(callee)) return callee.name;
  if (t.isMemberExpression(callee) && !callee.computed && t.isIdentifier(callee.property))
    return `${calleeText(callee.object)}.${callee.property.name}`;
  return 'a computed function';
}

/**
 * Why `node` cannot be evaluated in the parent instead of the child (a call, an assignment, an
 * await...), or null when it is free of side effects. `at` resolves names for the few known calls.
 */
export function impurity(node: t.Node, at: NodePath): string | null {
  if (t.isLiteral(node) && !t.isTemplateLiteral(node)) return null;
  if (t.isIdentifier(node) || t.isThisExpression(node)) return null;
  if (t.isTemplateLiteral(node)) return first(node.expressions, at);
  if (
    t.isTSAsExpression(node) ||
    t.isTSNonNullExpression(node) ||
    t.isTSSatisfiesExpression(node) ||
    t.isParenthesizedExpression(node) ||
    t.isTSTypeAssertion(node)
  )
    return impurity(node.expression, at);
  if (t.isMemberExpression(node) || t.isOptionalMemberExpression(node))
    return impurity(node.object, at) ?? (node.computed ? impurity(node.property, at) : null);
  if (t.isArrayExpression(node))
    return first(
      node.elements.filter((e): e is t.Expression | t.SpreadElement => e !== null),
      at,
    );
  if (t.isSpreadElement(node)) return impurity(node.argument, at);
  if (t.isObjectExpression(node))
    return first(
      node.properties.map((p) =>
        t.isObjectProperty(p)
          ? p.computed
            ? t.sequenceExpression([p.key as t.Expression, p.value as t.Expression])
            : (p.value as t.Expression)
          : p,
      ),
      at,
    );
  if (t.isSequenceExpression(node)) return first(node.expressions, at);
  if (t.isUnaryExpression(node)) return node.operator === 'delete' ? 'deletes a property' : impurity(node.argument, at);
  if (t.isBinaryExpression(node) || t.isLogicalExpression(node))
    return impurity(node.left, at) ?? impurity(node.right, at);
  if (t.isConditionalExpression(node))
    return impurity(node.test, at) ?? impurity(node.consequent, at) ?? impurity(node.alternate, at);
  if (t.isCallExpression(node) && isPureCall(node, at)) return first(node.arguments, at);
  if (t.isCallExpression(node) || t.isNewExpression(node) || t.isOptionalCallExpression(node))
    return `calls ${calleeText(node.callee)}()`;
  if (t.isAssignmentExpression(node) || t.isUpdateExpression(node)) return 'assigns a variable';
  if (t.isAwaitExpression(node) || t.isYieldExpression(node)) return 'awaits';
  if (t.isFunction(node)) return 'creates a function';
  return `has a ${node.type}`;
}

function first(nodes: t.Node[], at: NodePath): string | null {
  for (const n of nodes) {
    const problem = impurity(n, at);
    if (problem) return problem;
  }
  return null;
}

function isPureCall(node: t.CallExpression, at: NodePath): boolean {
  const callee = node.callee;
  if (t.isIdentifier(callee) && PURE_GLOBALS.has(callee.name) && !at.scope.hasBinding(callee.name)) return true;
  const name = importedName(at, callee, PATH_MODULES);
  return name !== null && PURE_PATH_FUNCTIONS.has(name);
}

/** Identifiers of `node` in expression position (not property keys). */
export function identifiersOf(node: t.Node): t.Identifier[] {
  const found: t.Identifier[] = [];
  const walk = (n: t.Node | null | undefined, parent: t.Node | null, key: string | null): void => {
    if (!n) return;
    if (t.isIdentifier(n)) {
      if (parent && t.isMemberExpression(parent) && key === 'property' && !parent.computed) return;
      if (parent && t.isObjectProperty(parent) && key === 'key' && !parent.computed) return;
      found.push(n);
      return;
    }
    for (const k of t.VISITOR_KEYS[n.type] ?? []) {
      const child = (n as unknown as Record<string, t.Node | t.Node[] | null>)[k];
      if (Array.isArray(child)) child.forEach((c) => walk(c, n, k));
      else walk(child, n, k);
    }
  };
  walk(node, null, null);
  return found;
}

/** `node` with child-local constants replaced by their values; `node` itself when none occurs. */
export function inline<T extends t.Node>(node: T, consts: ReadonlyMap<string, t.Expression>): T {
  if (!identifiersOf(node).some((id) => consts.has(id.name))) return node;
  const copy = t.cloneNode(node, true);
  const replace = (n: t.Node, parent: t.Node | null, key: string | null): t.Node => {
    if (t.isIdentifier(n) && consts.has(n.name)) {
      const keyPos =
        (t.isMemberExpression(parent) && key === 'property' && !parent.computed) ||
        (t.isObjectProperty(parent) && key === 'key' && !parent.computed);
      if (!keyPos) return foldIndex(t.cloneNode(consts.get(n.name)!, true));
    }
    for (const k of t.VISITOR_KEYS[n.type] ?? []) {
      const rec = n as unknown as Record<string, t.Node | t.Node[] | null>;
      const child = rec[k];
      if (Array.isArray(child)) rec[k] = child.map((c) => (c ? replace(c, n, k) : c));
      else if (child) rec[k] = replace(child, n, k);
    }
    // `['ls', '-l'][0]` after inlining reads better as `'ls'`.
    return t.isMemberExpression(n) ? foldIndex(n) : n;
  };
  return replace(copy, null, null) as T;
}

function foldIndex(n: t.Node): t.Expression {
  if (t.isMemberExpression(n) && n.computed && t.isArrayExpression(n.object) && t.isNumericLiteral(n.property)) {
    const element = n.object.elements[n.property.value];
    if (
      element &&
      !t.isSpreadElement(element) &&
      n.object.elements.slice(0, n.property.value).every((e) => e && !t.isSpreadElement(e))
    )
      return element;
  }
  return n as t.Expression;
}
