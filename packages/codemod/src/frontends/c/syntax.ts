import type { Node } from './syntax-tree.js';

// Small helpers over tree-sitter-c nodes.

export function unparen(node: Node): Node {
  let n = node;
  while (n.type === 'parenthesized_expression' && n.namedChildCount === 1) n = n.namedChild(0)!;
  return n;
}

export function same(a: Node | null | undefined, b: Node | null | undefined): boolean {
  return !!a && !!b && a.id === b.id;
}

/** The called name of a call_expression when it is a plain identifier, else null (function pointer, member...). */
export function calleeName(call: Node): string | null {
  const fn = call.childForFieldName('function');
  if (!fn) return null;
  const inner = unparen(fn);
  return inner.type === 'identifier' ? inner.text : null;
}

export function callArgs(call: Node): Node[] {
  const args = call.childForFieldName('arguments');
  return args ? args.namedChildren.filter((n): n is Node => !!n && n.type !== 'comment') : [];
}

/** The call an expression statement makes (`f(x);`, `(void) f(x);`), or null. */
export function statementCall(stmt: Node): Node | null {
  if (stmt.type !== 'expression_statement') return null;
  let e = stmt.namedChild(0);
  if (!e) return null;
  e = unparen(e);
  if (e.type === 'cast_expression') e = unparen(e.childForFieldName('value')!);
  return e.type === 'call_expression' ? e : null;
}

const NOT_STATEMENTS = new Set(['comment']);

/** The statements of a block, in order. For a switch body the case labels stay in the list as markers and the
 * statements each case holds are flattened after them: tree-sitter-c attaches statements that follow an `#endif`
 * inside `case 0:` to the switch body, so only the flat order tells which case they belong to. */
/** A lone `;`: an expression statement without an expression. */
export function isEmptyStatement(node: Node): boolean {
  return node.type === 'expression_statement' && node.namedChildCount === 0;
}

export function blockStatements(block: Node): Node[] {
  const out: Node[] = [];
  for (const child of block.namedChildren) {
    if (!child || NOT_STATEMENTS.has(child.type)) continue;
    out.push(child);
    if (child.type === 'case_statement') out.push(...caseStatements(child));
  }
  return out;
}

function caseStatements(label: Node): Node[] {
  const value = label.childForFieldName('value');
  return label.namedChildren.filter((n): n is Node => !!n && !NOT_STATEMENTS.has(n.type) && !same(n, value));
}

/** Every call_expression under node (node included), in source order. */
export function callsUnder(node: Node): Node[] {
  return node.type === 'call_expression'
    ? [node, ...node.descendantsOfType('call_expression').filter((n): n is Node => !!n && !same(n, node))]
    : node.descendantsOfType('call_expression').filter((n): n is Node => !!n);
}

/** The name a function is defined with; for a name built by a macro (`TRANS(open)(...)`), the macro call's text. */
export function functionName(def: Node): string | null {
  const d = ownDeclarator(def);
  const id = d?.childForFieldName('declarator');
  return id ? id.text.replace(/\s+/g, '') : null;
}

/** Preprocessor conditionals whose bodies are statement lists inside a function. */
export const PREPROC_BLOCKS = ['preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef'];

/** The statements of a preprocessor conditional's body (not its condition, not its #else). */
export function preprocStatements(node: Node): Node[] {
  const out: Node[] = [];
  for (let i = 0; i < node.namedChildCount; i++) {
    const field = node.fieldNameForNamedChild(i);
    const child = node.namedChild(i);
    if (child && !field && !NOT_STATEMENTS.has(child.type)) out.push(child);
  }
  return out;
}

export function enclosingFunction(node: Node): Node | null {
  let n = node.parent;
  while (n && n.type !== 'function_definition') n = n.parent;
  return n;
}

/** Leading whitespace of the line the index is on. */
export function lineIndent(source: string, index: number): string {
  const start = source.lastIndexOf('\n', index - 1) + 1;
  return /^[ \t]*/.exec(source.slice(start))![0];
}

export function lineStart(source: string, index: number): number {
  return source.lastIndexOf('\n', index - 1) + 1;
}

function declaratorNames(node: Node): string[] {
  return node.type === 'identifier' ? [node.text] : node.descendantsOfType('identifier').map((n) => n!.text);
}

/** The parameter names of a function definition in order; [] for (void); null when one has no name (K&R, `...`). */
/** The function declarator that names a definition: the first, or for a function returning a function pointer
 * (`void (*xsignal(int sig, void (*func)(int)))(int)`) the inner one, whose declarator is the name. */
function ownDeclarator(def: Node): Node | null {
  let d = def.childForFieldName('declarator');
  while (d && !(d.type === 'function_declarator' && d.childForFieldName('declarator')?.type === 'identifier'))
    d = d.childForFieldName('declarator') ?? (d.type === 'parenthesized_declarator' ? d.namedChild(0) : null);
  if (d) return d;
  d = def.childForFieldName('declarator');
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  return d;
}

export function parameterList(def: Node): string[] | null {
  const d = ownDeclarator(def);
  const params = (d?.childForFieldName('parameters')?.namedChildren ?? []).filter((p) => p && p.type !== 'comment');
  if (params.length === 1 && params[0]!.text.trim() === 'void') return [];
  const names: string[] = [];
  for (const p of params) {
    if (p!.type !== 'parameter_declaration') return null;
    const id = declaratorNames(p!.childForFieldName('declarator') ?? p!).at(-1);
    if (!id || !p!.childForFieldName('declarator')) return null;
    names.push(id);
  }
  return names;
}

/** The identifier nodes of node, itself included. */
export function identifierNodes(node: Node): Node[] {
  return node.type === 'identifier' ? [node] : node.descendantsOfType('identifier').map((n) => n!);
}

export function identifiers(node: Node): string[] {
  return identifierNodes(node).map((n) => n.text);
}

export function calledNames(node: Node): string[] {
  return callsUnder(node).map((c) => calleeName(c) ?? c.childForFieldName('function')!.text);
}

/** The operands of `a op b op …`, each turned into items by `each`, left to right; null if any operand gives null. */
export function chain<T>(condition: Node, op: '||' | '&&', each: (operand: Node) => T[] | null): T[] | null {
  const c = unparen(condition);
  if (c.type === 'binary_expression' && c.childForFieldName('operator')?.type === op) {
    const left = chain(c.childForFieldName('left')!, op, each);
    const right = left && chain(c.childForFieldName('right')!, op, each);
    return left && right ? [...left, ...right] : null;
  }
  return each(c);
}
