import type { Node, Tree } from './syntax-tree.js';
import type { ForkSite } from '../../model.js';
import { type ForkValue, type Path, statementOf, walkFrom } from './child-path.js';
import { factsOf, mergeFacts, type ProjectFacts } from './facts.js';
import { EXEC_CALLS, EXIT_CALLS, FORK_CALLS, NORETURN_CALLS, operationOf } from './operations.js';
import { calleeName, callsUnder, enclosingFunction, functionName, same, statementCall, unparen } from './syntax.js';

/** What the census needs to know of a function to follow calls into it. */
export interface FunctionSummary {
  name: string;
  /** The exec variant it calls directly, or null. */
  execs: string | null;
  calls: string[];
}

export type FunctionIndex = Map<string, { execs: string | null; calls: Set<string> }>;

/** A fork site with the syntax behind it, for the rewrite. */
export interface SiteAnalysis {
  site: ForkSite;
  forkCall: Node;
  forkStatement: Node;
  variable: string | null;
  child: Path;
  /** The parent's path when the fork returned a pid, and when it failed. */
  parent: Path;
  failed: Path;
  /** Child statements up to the end of its path, without the fork statement itself. */
  childStatements: Node[];
  /** Names the child calls: used to follow helpers across files. */
  childCalls: string[];
  /** Functions that never return (the well-known ones, and what the project declares). */
  noreturn: Set<string>;
  /** The fork call behind the site's call (a macro's body), as fork, vfork, forkpty. */
  forks: string;
  /** The exec behind the child's exec call, when it is a macro. */
  execs?: string;
}

/** What the analysis of one file knows beyond its syntax: never-returning functions, fork and exec macros. */
interface Known {
  noreturn: Set<string>;
  aliases: Record<string, string>;
}

function isFork(name: string, known: Known): boolean {
  return FORK_CALLS.has(name) || FORK_CALLS.has(known.aliases[name] ?? '');
}

function isExec(name: string, known: Known): boolean {
  return EXEC_CALLS.has(name) || EXEC_CALLS.has(known.aliases[name] ?? '');
}

export interface FileAnalysis {
  functions: FunctionSummary[];
  sites: SiteAnalysis[];
}

const EXEC_TEXT = /\b(?:exec(?:v|vp|ve|vpe|l|lp|le|veat|vP)|fexecve)\s*\(/;
const FORK_TEXT = /\b(?:v?fork|forkpty|__fork|rfork)\s*\(/;

/** The nodes the analysis needs, gathered in one walk of the tree (each walk crosses into wasm node by node). */
interface Gathered {
  functions: Node[];
  calls: Node[];
  macros: Node[];
}

function gather(root: Node): Gathered {
  const out: Gathered = { functions: [], calls: [], macros: [] };
  for (const n of root.descendantsOfType([
    'function_definition',
    'call_expression',
    'preproc_function_def',
    'preproc_def',
  ])) {
    if (!n) continue;
    if (n.type === 'call_expression') out.calls.push(n);
    else if (n.type === 'function_definition') out.functions.push(n);
    else out.macros.push(n);
  }
  return out;
}

function summarize(g: Gathered): FunctionSummary[] {
  const out: FunctionSummary[] = [];
  // Calls come in source order: sweep them into the (non-nested) functions that hold them.
  let c = 0;
  for (const def of g.functions) {
    while (c < g.calls.length && g.calls[c].startIndex < def.startIndex) c++;
    const name = functionName(def);
    let execs: string | null = null;
    const calls = new Set<string>();
    for (; c < g.calls.length && g.calls[c].startIndex < def.endIndex; c++) {
      const callee = calleeName(g.calls[c]);
      if (!callee) continue;
      if (EXEC_CALLS.has(callee)) execs ??= callee;
      else calls.add(callee);
    }
    if (name) out.push({ name, execs, calls: [...calls] });
  }
  return out;
}

export function summarizeFunctions(root: Node): FunctionSummary[] {
  return summarize(gather(root));
}

export function indexFunctions(summaries: Iterable<FunctionSummary>, into: FunctionIndex = new Map()): FunctionIndex {
  for (const f of summaries) {
    const entry = into.get(f.name);
    if (!entry) into.set(f.name, { execs: f.execs, calls: new Set(f.calls) });
    else {
      entry.execs ??= f.execs;
      for (const c of f.calls) entry.calls.add(c);
    }
  }
  return into;
}

/** A helper the child calls that execs one or two calls deep. */
export function execThroughHelper(
  calls: string[],
  index: FunctionIndex,
): { helper: string; depth: number; exec: string } | null {
  // A helper that forks itself runs its exec in a grandchild: not this child's exec.
  const forks = (f: { calls: Set<string> } | undefined) => !!f && [...f.calls].some((c) => FORK_CALLS.has(c));
  for (const name of calls) {
    const f = index.get(name);
    if (f?.execs && !forks(f)) return { helper: name, depth: 1, exec: f.execs };
  }
  for (const name of calls) {
    const f = index.get(name);
    if (forks(f)) continue;
    for (const inner of f?.calls ?? []) {
      const g = index.get(inner);
      if (g?.execs && !forks(g)) return { helper: name, depth: 2, exec: g.execs };
    }
  }
  return null;
}

function parameterNames(fn: Node | null): Set<string> {
  const names = new Set<string>();
  let d = fn?.childForFieldName('declarator');
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  for (const p of d?.childForFieldName('parameters')?.namedChildren ?? []) {
    const decl = p?.childForFieldName('declarator');
    if (!decl) continue;
    for (const id of [decl, ...decl.descendantsOfType('identifier')]) if (id?.type === 'identifier') names.add(id.text);
  }
  return names;
}

/** The variable a fork's result is stored in (`pid = fork()`, `pid_t pid = fork()`), or null. */
function resultVariable(call: Node): string | null {
  let e = call;
  while (e.parent?.type === 'parenthesized_expression') e = e.parent;
  const p = e.parent;
  if (p?.type === 'assignment_expression' && same(p.childForFieldName('right'), e) && p.child(1)?.type === '=')
    return unparen(p.childForFieldName('left')!).text;
  if (p?.type === 'init_declarator') return p.childForFieldName('declarator')!.text;
  return null;
}

function macroBodies(defs: Node[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const def of defs) {
    const name = def.childForFieldName('name')?.text;
    if (name) out.set(name, def.childForFieldName('value')?.text ?? '');
  }
  return out;
}

/** A function whose body ends in an exit (or a never-returning call) and has no return: it never returns. */
function endsEveryPath(def: Node, noreturn: Set<string>): boolean {
  const body = def.childForFieldName('body');
  const last = body?.namedChildren.filter((n) => n?.type !== 'comment').at(-1);
  const call = last && statementCall(last);
  const name = call && calleeName(call);
  return (
    !!name &&
    !!functionName(def) &&
    (EXIT_CALLS.has(name) || noreturn.has(name)) &&
    !body!.descendantsOfType('return_statement').length
  );
}

function lineColumn(node: Node): { line: number; column: number } {
  return { line: node.startPosition.row + 1, column: node.startPosition.column + 1 };
}

function analyzeCall(
  call: Node,
  name: string,
  file: string,
  index: FunctionIndex,
  macroBodies: Map<string, string>,
  known: Known,
): SiteAnalysis {
  const variable = resultVariable(call);
  const forkStatement = statementOf(call);
  const value = (v: number): ForkValue => ({ call, variable, value: v });
  const child = walkFrom(forkStatement, value(0), known.noreturn);
  const parent = walkFrom(forkStatement, value(4242), known.noreturn);
  const failed = walkFrom(forkStatement, value(-1), known.noreturn);
  const fn = enclosingFunction(call);
  const params = parameterNames(fn);
  const childStatements = child.statements.filter((s) => !same(s, forkStatement));
  const operations: string[] = [];
  const childCalls: string[] = [];
  let exec: string | undefined;
  let pointerCall: string | undefined;
  let execMacro: string | undefined;
  let forksAgain = false;
  const calls = childStatements.flatMap((s) => callsUnder(s));
  for (const c of calls) {
    const callee = calleeName(c);
    if (!callee || params.has(callee)) {
      pointerCall ??= callee ?? c.childForFieldName('function')!.text;
      continue;
    }
    if (isExec(callee, known)) {
      exec ??= callee;
      continue;
    }
    if (!exec && isFork(callee, known)) {
      forksAgain = true; // what follows, exec included, is the grandchild's
      break;
    }
    childCalls.push(callee);
    const body = macroBodies.get(callee);
    if (body !== undefined && (EXEC_TEXT.test(body) || FORK_TEXT.test(body))) execMacro ??= callee;
    if (exec) continue; // operations are what the child does before exec
    const op = operationOf(callee) ?? 'call';
    if (operations.at(-1) !== op) operations.push(op);
  }
  const site: ForkSite = {
    file,
    ...lineColumn(call),
    function: fn ? functionName(fn) : null,
    call: name,
    class: 'fork-only',
    convertible: false,
    operations,
  };
  if (exec) {
    site.class = 'fork+exec';
    site.exec = exec;
  } else if (execMacro) {
    site.class = 'unresolved';
    site.reason = `the child calls macro ${execMacro}, whose body execs or forks: not expanded`;
  } else {
    const helper = execThroughHelper(childCalls, index);
    if (helper) {
      site.class = 'exec-via-helper';
      site.exec = helper.exec;
      site.reason = `the child execs through ${helper.helper}() (${helper.depth === 1 ? 'one call' : 'two calls'} deep)`;
    } else if (pointerCall) {
      site.class = 'unresolved';
      site.reason = `the child calls through a function pointer (${pointerCall}): the target is not known`;
    } else if (forksAgain && child.end !== 'return' && child.end !== 'function-end') {
      site.reason = "the child forks again: any exec is the grandchild's";
    } else if (child.end === 'return' || child.end === 'function-end') {
      const parentWaits = parent.statements.some((s) =>
        callsUnder(s).some((c) => /^(?:waitpid|wait|wait3|wait4|waitid)$/.test(calleeName(c) ?? '')),
      );
      if (parent.end === 'exit' && !parentWaits) {
        site.class = 'fork-only';
        site.reason = 'daemonizes: the parent exits and the child carries on without exec';
      } else {
        site.class = 'wrapper';
        site.reason = 'fork wrapper: the child returns to the caller, which decides what runs';
      }
    } else if (child.end === 'loop') {
      site.reason = 'the child goes back into the loop around the fork (prefork server or worker): no exec';
    } else {
      const spawner = childCalls.find((c) => [...(index.get(c)?.calls ?? [])].some((n) => isFork(n, known)));
      site.reason = spawner
        ? `the child forks again in ${spawner}(): any exec is the grandchild's`
        : 'no exec reachable in the child (followed two calls deep)';
    }
  }
  return {
    site,
    forkCall: call,
    forkStatement,
    variable,
    child,
    parent,
    failed,
    childStatements,
    childCalls,
    noreturn: known.noreturn,
    forks: known.aliases[name] ?? name,
    execs: exec && (known.aliases[exec] ?? exec),
  };
}

/**
 * Finds and classifies every fork site in a parsed C file. index: functions known beyond this file (the census);
 * facts: what the whole project declares (never-returning functions, fork and exec macros), else this file's.
 */
export function analyzeTree(
  tree: Tree,
  file: string,
  projectIndex?: FunctionIndex,
  facts?: ProjectFacts,
): FileAnalysis {
  const gathered = gather(tree.rootNode);
  const functions = summarize(gathered);
  const index = indexFunctions(functions, projectIndex ? new Map(projectIndex) : new Map());
  const macros = macroBodies(gathered.macros);
  const merged = mergeFacts([factsOf(tree.rootNode.text), facts ?? { noreturn: [], aliases: {} }]);
  const known: Known = { noreturn: new Set([...NORETURN_CALLS, ...merged.noreturn]), aliases: merged.aliases };
  for (const def of gathered.functions) if (endsEveryPath(def, known.noreturn)) known.noreturn.add(functionName(def)!);
  const sites: SiteAnalysis[] = [];
  // fork() inside a macro body: tree-sitter sees only the macro's text. A macro that is only a fork call is an alias:
  // its calls are the sites.
  for (const def of gathered.macros) {
    const body = def.childForFieldName('value');
    const m = body && FORK_TEXT.exec(body.text);
    if (!body || !m || known.aliases[def.childForFieldName('name')?.text ?? '']) continue;
    sites.push({
      site: {
        file,
        ...lineColumn(def),
        function: null,
        call: m[0].replace(/\s*\($/, ''),
        class: 'unresolved',
        convertible: false,
        operations: [],
        reason: `fork inside macro ${def.childForFieldName('name')?.text}: the code around it is only known where it expands`,
      },
      forkCall: def,
      forkStatement: def,
      variable: null,
      child: { statements: [], end: 'unknown', leftForkStatement: false },
      parent: { statements: [], end: 'unknown', leftForkStatement: false },
      failed: { statements: [], end: 'unknown', leftForkStatement: false },
      childStatements: [],
      childCalls: [],
      noreturn: known.noreturn,
      forks: m[0].replace(/\s*\($/, ''),
    });
  }
  const calls = gathered.calls;
  for (const call of calls) {
    const name = calleeName(call);
    if (name && isFork(name, known)) sites.push(analyzeCall(call, name, file, index, macros, known));
  }
  // Calls to this file's fork wrappers are fork sites too: their child is the caller's code.
  const wrappers = new Set(
    sites.filter((s) => s.site.class === 'wrapper' && s.site.function).map((s) => s.site.function!),
  );
  for (const call of calls) {
    const name = calleeName(call);
    if (!name || !wrappers.has(name)) continue;
    const fn = enclosingFunction(call);
    if (fn && functionName(fn) === name) continue;
    const analysis = analyzeCall(call, name, file, index, macros, known);
    if (analysis.site.class === 'fork+exec')
      analysis.site.reason = `forks through wrapper ${name}(), which may do more than fork: the rewrite converts direct fork calls only`;
    sites.push(analysis);
  }
  sites.sort((a, b) => a.site.line - b.site.line || a.site.column - b.site.column);
  return { functions, sites };
}

/** Cheap test: can this text contain a fork site or an exec at all? */
export function mentionsForkOrExec(source: string): { fork: boolean; exec: boolean } {
  return { fork: FORK_TEXT.test(source), exec: EXEC_TEXT.test(source) };
}
