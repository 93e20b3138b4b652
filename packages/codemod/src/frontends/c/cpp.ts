import type { ProjectFacts } from './facts.js';
import type { SiteAnalysis } from './classify.js';
import type { Edit } from './rewrite.js';
import type { Node, Tree } from './syntax-tree.js';
import type { TransformResult } from '../../model.js';
import { parseCpp } from './parser.js';

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

/** Converts the C-like sites of a C++ file; transform: the C frontend's transform, given the C++ checks. */
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
): Promise<TransformResult> {
  const tree = await parseCpp(source);
  try {
    const checks: CppChecks = {
      child: (a) => cppChildRefusal(tree, a),
      edits: cppEditsRefusal,
      parse: parseCpp,
    };
    return await transform(source, file, facts, checks);
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
