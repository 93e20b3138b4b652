/** One fork call: its model (class, operations, reason) and, when provable, the rewrite. */
import type { NodePath } from '@babel/traverse';
import * as t from '@babel/types';
import type { ForkSite } from '../../model.js';
import { ExportRefs, importedName, isProcessMember } from './bindings.js';
import { analyseChild, type ChildPlan, type Ref } from './child.js';
import { parseForRewrite } from './parse.js';
import { findChildBranch } from './shape.js';
import { backendNote } from '../../backend-note.js';

/** An expression parsed by recast from `code`, so that recast reprints it as written. */
function parsedExpression(code: string): t.Expression {
  const statement = parseForRewrite(`x = ${code};`, 'template.js').program.body[0] as t.ExpressionStatement;
  return (statement.expression as t.AssignmentExpression).right;
}

export interface SiteAnalysis {
  site: ForkSite;
  /** Rewrites the site into one fork_before_exec call; only for convertible sites. See ChildBranch.remove. */
  apply?: (forRecast: boolean) => void;
}

function enclosingFunction(path: NodePath): string | null {
  const fn = path.getFunctionParent();
  if (!fn) return null;
  const node = fn.node;
  if ((t.isFunctionDeclaration(node) || t.isFunctionExpression(node)) && node.id) return node.id.name;
  if ((t.isClassMethod(node) || t.isObjectMethod(node)) && t.isIdentifier(node.key)) return node.key.name;
  const parent = fn.parentPath;
  if (parent?.isVariableDeclarator() && t.isIdentifier(parent.node.id)) return parent.node.id.name;
  if (parent?.isObjectProperty() && t.isIdentifier(parent.node.key)) return parent.node.key.name;
  return '(anonymous)';
}

/** `fork_before_exec(file, argv, [actions], env, options)` with the trailing defaults left out. */
function buildCall(plan: ChildPlan, ref: Ref, forRecast: boolean): t.CallExpression {
  const { exec, actions, envChanges } = plan;
  let env: t.Expression | null = exec.env;
  if (envChanges.length) {
    // `process.env` with the child's assignments: what the exec variant without `e` passes on.
    env = t.objectExpression([
      t.spreadElement(t.memberExpression(t.identifier('process'), t.identifier('env'))),
      ...envChanges.map(({ key, computed, value }) =>
        t.objectProperty(
          computed && !t.isStringLiteral(key) ? key : t.isIdentifier(key) ? t.identifier(key.name) : key,
          value ?? t.identifier('undefined'),
          computed && !t.isStringLiteral(key),
        ),
      ),
    ]);
  }
  const searchPath = exec.name.includes('p');
  const args: t.Expression[] = [
    exec.file,
    exec.argv,
    t.arrayExpression(actions.map((build) => build(ref))),
    env ?? t.identifier('undefined'),
  ];
  // Parsed from text for recast, which then prints it as written (it would spread a new object over three lines).
  if (!searchPath)
    args.push(
      forRecast
        ? parsedExpression('{ searchPath: false }')
        : t.objectExpression([t.objectProperty(t.identifier('searchPath'), t.booleanLiteral(false))]),
    );
  else {
    if (!env) args.pop();
    if (!env && actions.length === 0) args.pop();
  }
  return t.callExpression(ref('fork_before_exec'), args);
}

export function analyseSite(
  fork: NodePath<t.CallExpression>,
  file: string,
  program: NodePath<t.Program>,
  modules: ReadonlySet<string>,
  addedImports: Map<t.Node, Map<string, string>>,
): SiteAnalysis {
  const loc = fork.node.loc?.start;
  const site: ForkSite = {
    file,
    line: loc?.line ?? 0,
    column: (loc?.column ?? 0) + 1,
    function: enclosingFunction(fork),
    call: 'fork',
    class: 'unresolved',
    convertible: false,
    operations: [],
  };
  const isExit = (call: NodePath<t.CallExpression>) =>
    importedName(call, call.node.callee, modules) === '_exit' || isProcessMember(call, call.node.callee, 'exit');
  const shape = findChildBranch(fork, isExit);
  if (!shape.ok) {
    site.class = shape.class;
    site.reason = shape.reason;
    return { site };
  }
  const child = analyseChild(shape.branch.statements, { modules, pid: shape.branch.pid, isExit });
  site.class = child.class;
  site.operations = child.operations;
  if (child.exec) site.exec = child.exec;
  if (!child.plan) {
    site.reason = child.reason;
    if (child.blockers.length) site.blockers = child.blockers;
    return { site };
  }
  site.convertible = true;
  const plan = child.plan;
  const refs = new ExportRefs(program, fork.node.callee as t.Expression, fork, addedImports);
  return {
    site,
    apply: (forRecast) => {
      // The call reuses the child's nodes, so that recast prints them as written.
      fork.replaceWith(buildCall(plan, (name) => refs.ref(name, fork), forRecast));
      shape.branch.remove(forRecast);
      site.converted = true;
      const note = backendNote(site.operations);
      if (note) site.note = note;
    },
  };
}
