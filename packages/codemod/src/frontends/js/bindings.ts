/**
 * Which module a name comes from, by scope analysis: `import { fork as f }`, `import * as posix`,
 * `const { fork } = require(...)`, `const posix = require(...)`. And the reverse: an expression
 * that names an export of the POSIX module at a given place, adding an import specifier if needed.
 */
import type { NodePath } from '@babel/traverse';
import * as t from '@babel/types';

function isRequireOf(
  node: t.Node | null | undefined,
  modules: ReadonlySet<string>,
  path: NodePath,
): node is t.CallExpression {
  return (
    t.isCallExpression(node) &&
    t.isIdentifier(node.callee, { name: 'require' }) &&
    !path.scope.hasBinding('require') &&
    node.arguments.length === 1 &&
    t.isStringLiteral(node.arguments[0]) &&
    modules.has(node.arguments[0].value)
  );
}

function propertyName(key: t.Node, computed: boolean): string | null {
  if (!computed && t.isIdentifier(key)) return key.name;
  if (t.isStringLiteral(key)) return key.value;
  return null;
}

/** The module the binding of `name` at `path` imports, when it is one of `modules`, and what it is. */
function importOf(
  path: NodePath,
  name: string,
  modules: ReadonlySet<string>,
): { module: string; imported: string | '*' } | null {
  const binding = path.scope.getBinding(name);
  if (!binding) return null;
  const bp = binding.path;
  if (bp.isImportSpecifier() || bp.isImportNamespaceSpecifier() || bp.isImportDefaultSpecifier()) {
    const decl = bp.parentPath as NodePath<t.ImportDeclaration>;
    const source = decl.node.source.value;
    if (!modules.has(source) || decl.node.importKind === 'type') return null;
    if (bp.isImportSpecifier()) {
      const imported = bp.node.imported;
      return { module: source, imported: t.isIdentifier(imported) ? imported.name : imported.value };
    }
    return { module: source, imported: '*' };
  }
  if (bp.isVariableDeclarator() && isRequireOf(bp.node.init, modules, bp)) {
    const source = (bp.node.init.arguments[0] as t.StringLiteral).value;
    const id = bp.node.id;
    if (t.isIdentifier(id)) return { module: source, imported: '*' };
    if (t.isObjectPattern(id))
      for (const prop of id.properties)
        if (t.isObjectProperty(prop) && t.isIdentifier(prop.value, { name })) {
          const key = propertyName(prop.key, prop.computed);
          if (key) return { module: source, imported: key };
        }
  }
  return null;
}

/** The export of one of `modules` that `expr` names at `path` (`fork`, `posix.fork`, ...), or null. */
export function importedName(path: NodePath, expr: t.Node, modules: ReadonlySet<string>): string | null {
  if (t.isIdentifier(expr)) {
    const found = importOf(path, expr.name, modules);
    return found && found.imported !== '*' ? found.imported : null;
  }
  if (t.isMemberExpression(expr) && t.isIdentifier(expr.object)) {
    const found = importOf(path, expr.object.name, modules);
    const key = propertyName(expr.property, expr.computed);
    return found && found.imported === '*' ? key : null;
  }
  return null;
}

/** True when `expr` is `process.NAME` (or `process`) with `process` the global. */
export function isProcessMember(path: NodePath, expr: t.Node, name: string): boolean {
  return (
    t.isMemberExpression(expr) &&
    t.isIdentifier(expr.object, { name: 'process' }) &&
    !path.scope.hasBinding('process') &&
    propertyName(expr.property, expr.computed) === name
  );
}

/** The name of a global function call's callee (`console.error` → 'console.error'), when unbound. */
export function globalCallee(path: NodePath, callee: t.Node): string | null {
  if (t.isIdentifier(callee)) return path.scope.hasBinding(callee.name) ? null : callee.name;
  if (t.isMemberExpression(callee) && t.isIdentifier(callee.object) && !path.scope.hasBinding(callee.object.name)) {
    const key = propertyName(callee.property, callee.computed);
    return key ? `${callee.object.name}.${key}` : null;
  }
  return null;
}

/**
 * Emits references to exports of the POSIX module the fork came from, in the same style
 * (namespace member or named import), adding a specifier to the import when needed.
 */
export class ExportRefs {
  constructor(
    private readonly program: NodePath<t.Program>,
    /** The fork callee as written: tells the import style and which declaration to extend. */
    private readonly forkCallee: t.Expression | t.V8IntrinsicIdentifier,
    private readonly forkPath: NodePath,
    /** Specifiers added so far in this program, per declaration: shared by every site of a file. */
    private readonly addedByDecl: Map<t.Node, Map<string, string>>,
  ) {}

  /** An expression naming export `name`, valid at `at`. */
  ref(name: string, at: NodePath): t.Expression {
    const callee = this.forkCallee;
    if (t.isMemberExpression(callee))
      return t.memberExpression(t.identifier((callee.object as t.Identifier).name), t.identifier(name));
    const local = this.localFor(name, at);
    return t.identifier(local);
  }

  private localFor(name: string, at: NodePath): string {
    const decl = this.declarationOfFork();
    const added = this.addedByDecl.get(decl.node) ?? new Map<string, string>();
    this.addedByDecl.set(decl.node, added);
    const known = added.get(name);
    if (known) return known;
    // An existing specifier for the same export, not shadowed where it is used.
    for (const [local, imported] of specifiers(decl.node))
      if (
        imported === name &&
        at.scope.getBinding(local) === this.program.scope.getBinding(local) &&
        at.scope.getBinding(local)
      )
        return local;
    const local =
      this.program.scope.hasBinding(name) || at.scope.hasBinding(name) ? this.program.scope.generateUid(name) : name;
    addSpecifier(decl.node, name, local);
    added.set(name, local);
    return local;
  }

  private declarationOfFork(): NodePath<t.ImportDeclaration | t.VariableDeclarator> {
    const binding = this.forkPath.scope.getBinding((this.forkCallee as t.Identifier).name)!;
    const bp = binding.path;
    if (bp.isImportSpecifier()) return bp.parentPath as NodePath<t.ImportDeclaration>;
    return bp as NodePath<t.VariableDeclarator>;
  }
}

/** [local, imported] pairs of an import declaration or a destructured require. */
function specifiers(node: t.ImportDeclaration | t.VariableDeclarator): [string, string][] {
  const pairs: [string, string][] = [];
  if (t.isImportDeclaration(node)) {
    for (const s of node.specifiers)
      if (t.isImportSpecifier(s))
        pairs.push([s.local.name, t.isIdentifier(s.imported) ? s.imported.name : s.imported.value]);
  } else if (t.isObjectPattern(node.id)) {
    for (const p of node.id.properties)
      if (t.isObjectProperty(p) && t.isIdentifier(p.value)) {
        const key = propertyName(p.key, p.computed);
        if (key) pairs.push([p.value.name, key]);
      }
  }
  return pairs;
}

function addSpecifier(node: t.ImportDeclaration | t.VariableDeclarator, imported: string, local: string): void {
  if (t.isImportDeclaration(node)) {
    node.specifiers.push(t.importSpecifier(t.identifier(local), t.identifier(imported)));
  } else {
    const pattern = node.id as t.ObjectPattern;
    const shorthand = local === imported;
    pattern.properties.push(t.objectProperty(t.identifier(imported), t.identifier(local), false, shorthand));
  }
}

/**
 * Removes the import specifiers (or destructured require properties) of `names` from
 * `modules` that were referenced before the rewrite and are not any more.
 */
export function pruneUnused(
  program: NodePath<t.Program>,
  modules: ReadonlySet<string>,
  wereReferenced: ReadonlySet<string>,
): void {
  program.scope.crawl();
  program.traverse({
    ImportSpecifier(path) {
      const decl = path.parentPath as NodePath<t.ImportDeclaration>;
      if (!modules.has(decl.node.source.value)) return;
      const local = path.node.local.name;
      if (!wereReferenced.has(local) || program.scope.getBinding(local)?.referenced) return;
      // The last specifier goes with its declaration (these modules have no side effects to keep).
      if (decl.node.specifiers.length === 1) removeKeepingComments(decl);
      else path.remove();
    },
    ObjectProperty(path) {
      const declarator = path.parentPath.parentPath;
      if (!declarator?.isVariableDeclarator() || !isRequireOf(declarator.node.init, modules, declarator)) return;
      const value = path.node.value;
      if (t.isIdentifier(value) && wereReferenced.has(value.name) && !program.scope.getBinding(value.name)?.referenced)
        path.remove();
    },
  });
}

type Commented = { comments?: (t.Comment & { leading?: boolean })[]; leadingComments?: t.Comment[] | null };

/** Removes a statement, handing its leading comments (recast's `comments`, Babel's `leadingComments`) to the next one. */
function removeKeepingComments(statement: NodePath): void {
  const from = statement.node as unknown as Commented;
  const next = statement.getNextSibling();
  if (next.node) {
    const to = next.node as unknown as Commented;
    const leading = (from.comments ?? []).filter((c) => c.leading);
    if (leading.length) to.comments = [...leading, ...(to.comments ?? [])];
    if (from.leadingComments?.length) to.leadingComments = [...from.leadingComments, ...(to.leadingComments ?? [])];
  }
  statement.remove();
}

/** Locals bound to `modules` (named or destructured) that are referenced now. */
export function referencedImports(program: NodePath<t.Program>, modules: ReadonlySet<string>): Set<string> {
  const names = new Set<string>();
  for (const [name, binding] of Object.entries(program.scope.bindings))
    if (binding.referenced && importOf(program, name, modules)) names.add(name);
  return names;
}
