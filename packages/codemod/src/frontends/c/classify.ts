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
  /** The project's fork wrappers (a function whose child returns to its caller): calling one forks. */
  wrappers: Set<string>;
  /** Macros that wrap a fork call in a call (`xvforkwrap(vfork())`): their calls are fork sites. */
  wrappedForks: Record<string, string>;
}

function isFork(name: string, known: Known): boolean {
  return FORK_CALLS.has(name) || FORK_CALLS.has(known.aliases[name] ?? '') || Object.hasOwn(known.wrappedForks, name);
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

const DEPTH_WORDS = ['', 'one call', 'two calls', 'three calls', 'four calls'];

/** How deep the census follows a child's calls into the project's functions for an exec. */
export const HELPER_DEPTH = DEPTH_WORDS.length - 1;

/**
 * A helper the child calls that execs, up to HELPER_DEPTH calls deep, breadth first (the nearest exec wins). A
 * function that forks, itself or through one of the project's fork wrappers, runs its exec in a grandchild: not this
 * child's exec, and not followed.
 */
export function execThroughHelper(
  calls: string[],
  index: FunctionIndex,
  wrappers: Set<string> = new Set(),
): { helper: string; depth: number; exec: string; words: string } | null {
  const forks = (f: { calls: Set<string> }) => [...f.calls].some((c) => FORK_CALLS.has(c) || wrappers.has(c));
  const seen = new Set<string>();
  let level = calls.map((name) => ({ name, helper: name }));
  for (let depth = 1; depth <= HELPER_DEPTH && level.length; depth++) {
    const next: typeof level = [];
    for (const { name, helper } of level) {
      if (seen.has(name)) continue;
      seen.add(name);
      const f = index.get(name);
      if (!f || forks(f)) continue;
      if (f.execs) return { helper, depth, exec: f.execs, words: DEPTH_WORDS[depth] };
      for (const inner of f.calls) next.push({ name: inner, helper });
    }
    level = next;
  }
  return null;
}

/** The census's sentence for a child that execs through a helper. */
export function throughHelper(helper: { helper: string; words: string }): string {
  return `the child execs through ${helper.helper}() (${helper.words} deep)`;
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
  // `pid = cond ? xfork() : XVFORK()`: where this fork ran, its branch is the value
  while (
    e.parent?.type === 'parenthesized_expression' ||
    (e.parent?.type === 'conditional_expression' && !same(e.parent.childForFieldName('condition'), e))
  )
    e = e.parent;
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
    if (known.wrappedForks[name])
      site.reason = `forks through macro ${name}(), which calls more than ${known.wrappedForks[name]}(): the rewrite converts direct fork calls only`;
  } else if (execMacro) {
    site.class = 'unresolved';
    site.reason = `the child calls macro ${execMacro}, whose body execs or forks: not expanded`;
  } else {
    const helper = execThroughHelper(childCalls, index, known.wrappers);
    if (helper) {
      site.class = 'exec-via-helper';
      site.exec = helper.exec;
      site.reason = throughHelper(helper);
    } else if (pointerCall) {
      site.class = 'unresolved';
      site.reason = `the child calls through a function pointer (${pointerCall}): the target is not known`;
    } else if (forksAgain && child.end !== 'return' && child.end !== 'function-end') {
      site.reason = "the child forks again: any exec is the grandchild's";
    } else if (child.end === 'return' || child.end === 'function-end') {
      const parentWaits = parent.statements.some((s) =>
        callsUnder(s).some((c) => /^(?:waitpid|wait|wait3|wait4|waitid)$/.test(calleeName(c) ?? '')),
      );
      // `return pid`: the caller tests the fork's value, as fork's callers do (a detaching wrapper's grandchild)
      const value = child.last?.type === 'return_statement' ? child.last.namedChildren[0] : null;
      const returnsPid = !!variable && !!value && unparen(value).text === variable;
      // no pid kept (`if (vfork()) return;`): the caller cannot tell the child from the parent, so it is no wrapper
      const passesPid = variable !== null || forkStatement.type === 'return_statement';
      if (parent.end === 'exit' && !parentWaits && !returnsPid) {
        site.class = 'fork-only';
        site.reason = 'daemonizes: the parent exits and the child carries on without exec';
      } else if (!passesPid) {
        site.reason = "the child carries on in the caller's code, which cannot tell it from the parent (no pid kept)";
      } else {
        site.class = 'wrapper';
        site.reason = 'fork wrapper: the child returns to the caller, which decides what runs';
      }
    } else if (child.end === 'loop') {
      site.reason = 'the child goes back into the loop around the fork (prefork server or worker): no exec';
    } else {
      const spawner = childCalls.find((c) =>
        [...(index.get(c)?.calls ?? [])].some((n) => isFork(n, known) || known.wrappers.has(n)),
      );
      site.reason = spawner
        ? `the child forks again in ${spawner}(): any exec is the grandchild's`
        : `no exec reachable in the child (followed ${DEPTH_WORDS[HELPER_DEPTH]} deep)`;
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
  const defined = new Set(functions.map((f) => f.name));
  const known: Known = {
    noreturn: new Set([...NORETURN_CALLS, ...merged.noreturn]),
    aliases: merged.aliases,
    wrappedForks: merged.wrappedForks ?? {},
    // wrappers of other files; a function of this file is judged by its own fork site
    wrappers: new Set(
      (merged.wrappers ?? []).filter((w) => !defined.has(w) && !FORK_CALLS.has(merged.aliases[w] ?? w)),
    ),
  };
  const macroNoreturn = () => {
    for (const [macro, { call }] of Object.entries(merged.macroCalls ?? {}))
      if (call && known.noreturn.has(call)) known.noreturn.add(macro);
  };
  macroNoreturn();
  for (const def of gathered.functions) if (endsEveryPath(def, known.noreturn)) known.noreturn.add(functionName(def)!);
  macroNoreturn();
  const sites: SiteAnalysis[] = [];
  // fork() inside a macro body: tree-sitter sees only the macro's text. A macro that is only a fork call is an alias:
  // its calls are the sites.
  for (const def of gathered.macros) {
    const body = def.childForFieldName('value');
    const m = body && FORK_TEXT.exec(body.text);
    const macro = def.childForFieldName('name')?.text ?? '';
    if (!body || !m || known.aliases[macro] || known.wrappedForks[macro]) continue;
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
  const forkSites = () =>
    calls.flatMap((call) => {
      const name = calleeName(call);
      return name && isFork(name, known) ? [analyzeCall(call, name, file, index, macros, known)] : [];
    });
  let forks = forkSites();
  // This file's wrappers fork too: a child that calls a helper forking through one runs no exec of its own.
  const local = forks.filter((s) => s.site.class === 'wrapper' && s.site.function).map((s) => s.site.function!);
  if (local.length && forks.some((s) => s.site.class === 'exec-via-helper')) {
    local.forEach((w) => known.wrappers.add(w));
    forks = forkSites();
  }
  sites.push(...forks);
  // Calls to the project's fork wrappers are fork sites too: their child is the caller's code.
  local.forEach((w) => known.wrappers.add(w));
  for (const call of calls) {
    const name = calleeName(call);
    if (!name || !known.wrappers.has(name) || isFork(name, known)) continue;
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
