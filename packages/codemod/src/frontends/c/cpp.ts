import type { ProjectFacts } from './facts.js';
import type { SiteAnalysis } from './classify.js';
import type { Edit } from './rewrite.js';
import type { Node, Tree } from './syntax-tree.js';
import type { TransformResult } from '../../model.js';
import { parseC, parseCpp } from './parser.js';

// C++ files go through the C frontend where the child is C-like: the C grammar reads what the recorder needs (function
// bodies, calls, conditions), and tree-sitter-cpp reads the same bytes to say whether the child holds anything the C
// reading would take for something else or not see at all: a constructor, operator or destructor call hides behind
// `new`, a member call, a lambda, a throw. Such a child is refused, naming the construct.

const CPP_ONLY: Record<string, string> = {
  lambda_expression: 'a lambda',
  throw_statement: 'a throw',
  try_statement: 'a try block',
  new_expression: 'a new expression',
  delete_expression: 'a delete expression',
  reference_declarator: 'a reference',
  abstract_reference_declarator: 'a reference',
  template_function: 'a template or C++ cast',
  template_type: 'a template',
  template_method: 'a template',
  template_declaration: 'a template',
  qualified_identifier: 'a qualified name',
  this: 'this',
  for_range_loop: 'a range for loop',
  co_await_expression: 'a coroutine',
  co_return_statement: 'a coroutine',
  co_yield_statement: 'a coroutine',
  structured_binding_declarator: 'a structured binding',
  operator_name: 'an operator',
};

/** The construct's first line; a declarator's with its declaration (`int& target = fd;`). */
function firstLine(node: Node): string {
  let n = node;
  while (n.parent && /declarator$/.test(n.type)) n = n.parent;
  return n.text.split('\n')[0].trim();
}

/** The first node under node that tree-sitter-cpp reads as C++ only, with what it is; null when the code is C-like. */
function cppConstruct(node: Node): { node: Node; what: string } | null {
  if (node.type in CPP_ONLY) return { node, what: CPP_ONLY[node.type] };
  // obj.f() / p->f(): a method (or, C-style, a function pointer of a struct): code the codemod cannot see
  if (node.type === 'call_expression' && node.childForFieldName('function')?.type === 'field_expression')
    return { node, what: 'a member call' };
  for (const child of node.namedChildren) {
    const found = child && cppConstruct(child);
    if (found) return found;
  }
  return null;
}

/** The smallest nodes of tree that hold the bytes from start to end. */
function nodesIn(tree: Tree, start: number, end: number): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    if (n.endIndex <= start || n.startIndex >= end) return;
    if (n.startIndex >= start && n.endIndex <= end) return void out.push(n);
    for (const c of n.children) if (c) walk(c);
  };
  walk(tree.rootNode);
  return out;
}

/** The functions the file defines by a plain name (`void f(…) {…}`; a method's qualified name is none). */
function definedFunctions(cpp: Tree): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const def of cpp.rootNode.descendantsOfType('function_definition')) {
    let d = def?.childForFieldName('declarator');
    while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
    const name = d?.childForFieldName('declarator');
    if (def && name?.type === 'identifier') out.set(name.text, def);
  }
  return out;
}

/** A function of the file the child calls (or those call, as deep as a recording inlines) that is not C-like: the
 * C reading would inline it as C (`throw e;` reads as a declaration). */
function calledFunctionRefusal(cpp: Tree, calls: string[]): string | null {
  const defined = definedFunctions(cpp);
  const seen = new Set<string>();
  let names = calls;
  for (let depth = 0; depth < 3 && names.length; depth++) {
    const next: string[] = [];
    for (const name of names) {
      const def = defined.get(name);
      if (!def || seen.has(name)) continue;
      seen.add(name);
      const found = cppConstruct(def);
      if (found)
        return `the child calls ${name}(), which has ${found.what} (${firstLine(found.node)}): only C-like code is recorded`;
      for (const call of def.descendantsOfType('call_expression')) {
        const fn = call?.childForFieldName('function');
        if (fn?.type === 'identifier') next.push(fn.text);
      }
    }
    names = next;
  }
  return null;
}

/** Why a site of a C++ file is refused, read from its child's bytes in both grammars; null when it is C-like. */
export function cppChildRefusal(cpp: Tree, a: SiteAnalysis): string | null {
  const child = a.childStatements;
  if (!child.length) return null;
  const start = Math.min(...child.map((s) => s.startIndex));
  const end = Math.max(...child.map((s) => s.endIndex));
  const nodes = nodesIn(cpp, start, end);
  for (const n of nodes) {
    const found = cppConstruct(n);
    if (found) return `the child has ${found.what} (${firstLine(found.node)}): only C-like child code is recorded`;
  }
  if (nodes.some((n) => n.hasError)) return 'tree-sitter-cpp does not read the child';
  const helper = calledFunctionRefusal(cpp, a.childCalls);
  if (helper) return helper;
  if (child.some((s) => s.hasError)) return 'the C grammar does not read the child of this C++ file';
  return null;
}

/** Why a conversion's inserted code would not compile as C++, or null. */
export function cppEditsRefusal(edits: Edit[]): string | null {
  // close-range's kept fds: the address of a temporary array, which C++ refuses
  if (edits.some((e) => /\(\w+\[\]\)\s*\{/.test(e.text)))
    return 'the recording would pass a C99 compound literal, which C++ lacks';
  // an allocation made in front (ending-allocators.ts) assigns malloc's void * as C does; C++ wants a cast
  if (edits.some((e) => /=\s*malloc\s*\(/.test(e.text)))
    return "the recording would assign malloc()'s void * without a cast, which C++ refuses";
  return null;
}

/** Why a function of the project (a helper the child's recording would inline) is no C-like code, or null. */
async function cppFunctionRefusal(text: string): Promise<string | null> {
  const tree = await parseCpp(text);
  try {
    const found = cppConstruct(tree.rootNode);
    if (found) return `has ${found.what} (${firstLine(found.node)}), C++ the C reading cannot see into`;
    return tree.rootNode.hasError ? 'tree-sitter-cpp does not read' : null;
  } finally {
    tree.delete();
  }
}

/** The project's facts with the functions a recording inlines (helpers, signal wrappers, twins) that are not C-like
 * taken out, each a refused helper saying why: the C grammar reads a C++ body otherwise (`throw e;` as a
 * declaration). */
export async function cLikeFacts(facts: ProjectFacts | undefined): Promise<ProjectFacts | undefined> {
  if (!facts) return facts;
  const refused: Record<string, string> = { ...facts.refusedHelpers };
  const keep = async <T>(defs: Record<string, T | null> | undefined, text: (def: T) => string) => {
    if (!defs) return defs;
    const out: Record<string, T | null> = {};
    for (const [name, def] of Object.entries(defs)) {
      const why = def === null ? null : await cppFunctionRefusal(text(def));
      if (why) refused[name] = why;
      out[name] = why ? null : def;
    }
    return out;
  };
  return {
    ...facts,
    helpers: await keep(facts.helpers, (t) => t),
    signalWrappers: await keep(facts.signalWrappers, (t) => t),
    twinHelpers: await keep(facts.twinHelpers, (t) => t.text),
    refusedHelpers: refused,
  };
}

/** Converts the C-like sites of a C++ file; transform: the C frontend's transform, given the C++ checks. header: a
 * `.h`, C or C++: its children are checked as a C++ file's, its rewrite stays C (C-only syntax allowed, parsed as C). */
export async function transformCpp(
  source: string,
  file: string,
  facts: ProjectFacts | undefined,
  transform: (
    source: string,
    file: string,
    facts: ProjectFacts | undefined,
    cpp: CppChecks,
  ) => Promise<TransformResult>,
  header = false,
): Promise<TransformResult> {
  const tree = await parseCpp(source);
  try {
    const checks: CppChecks = {
      child: (a) => cppChildRefusal(tree, a),
      edits: header ? () => null : cppEditsRefusal,
      parse: header ? parseC : parseCpp,
    };
    return await transform(source, file, await cLikeFacts(facts), checks);
  } finally {
    tree.delete();
  }
}

/** What the C frontend asks of a C++ file: a child's refusal, an edit list's, and the grammar the output is checked
 * with (the rewrite must leave the file as parseable as it found it). */
export interface CppChecks {
  child(a: SiteAnalysis): string | null;
  edits(edits: Edit[]): string | null;
  parse(source: string): Promise<Tree>;
}
