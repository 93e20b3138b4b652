import type { Node, Tree } from './syntax-tree.js';
import type { ForkSite } from '../../model.js';
import { type ForkValue, type Path, statementOf, walkFrom } from './child-path.js';
import { factsOf, mergeFacts, type MacroCalls, type ProjectFacts } from './facts.js';
import { EXEC_CALLS, EXIT_CALLS, FORK_CALLS, NORETURN_CALLS, operationOf } from './operations.js';
import {
  calleeName,
  callsUnder,
  enclosingFunction,
  functionName,
  identifiers,
  same,
  statementCall,
  unparen,
} from './syntax.js';

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
  /** A wrapper whose child returns a constant no other return gives (`return FORK_CHILD;`): that constant. */
  childReturns?: string;
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
  /** The function such a macro hands the fork's result to (`xvforkwrap`), where the project's facts name it. */
  wrappedBy: Record<string, string | undefined>;
  /** Wrappers whose child returns a constant of its own: the constant (the child of their calls is where the result
   * equals it). */
  childReturns: Map<string, string>;
}

/**
 * Adds to a project's fork wrappers the macros that are one call of one (`#define sudo_debug_fork()
 * sudo_debug_fork_v1()`, a macro of such a macro): calling one forks the same way. Returns the set it was given.
 */
export function withWrapperMacros(wrappers: Set<string>, macroCalls: Record<string, MacroCalls> = {}): Set<string> {
  for (let grew = true; grew;) {
    grew = false;
    for (const [macro, { call }] of Object.entries(macroCalls))
      if (call && wrappers.has(call) && !wrappers.has(macro)) grew = !!wrappers.add(macro);
  }
  return wrappers;
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
    let pointer = false;
    const calls = new Set<string>();
    for (; c < g.calls.length && g.calls[c].startIndex < def.endIndex; c++) {
      const callee = calleeName(g.calls[c]);
      if (!callee) pointer = true;
      else if (EXEC_CALLS.has(callee)) execs ??= callee;
      else calls.add(callee);
    }
    if (name) out.push({ name, execs: execs ?? (pointer ? execPointedTo(def) : null), calls: [...calls] });
  }
  return out;
}

/**
 * The exec a function that calls through a pointer names as a value (`fn = execve;`, `dlsym(RTLD_NEXT, "execve")`):
 * the pointer it calls is that exec (sudo's exec_wrapper calls the real execve so). Null when it names none.
 */
function execPointedTo(def: Node): string | null {
  for (const n of def.descendantsOfType(['identifier', 'string_content'])) {
    if (!n || !EXEC_CALLS.has(n.text)) continue;
    const called = n.parent?.type === 'call_expression' && same(n.parent.childForFieldName('function'), n);
    if (!called) return n.text;
  }
  return null;
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

/** The names a function declares: its parameters and the variables of its body. */
function localNames(fn: Node): Set<string> {
  const names = parameterNames(fn);
  for (const decl of fn.childForFieldName('body')?.descendantsOfType('declaration') ?? []) {
    for (const d of decl!.childrenForFieldName('declarator')) {
      let id: Node | null = d;
      while (id && id.type !== 'identifier') id = id.childForFieldName('declarator');
      if (id) names.add(id.text);
    }
  }
  return names;
}

/**
 * Whether the variable the fork's result went to reaches the caller: it is no local of the function (a global, a
 * member, `SERVER_PID(serp)`), a return mentions it, an assignment stores it outside the function's locals
 * (`job->pid = pid`, `*pidp = pid`), or the child passes it to a call (`Jim_SetResultInt(interp, pid)`).
 */
function pidReachesCaller(fn: Node | null, variable: string, childStatements: Node[]): boolean {
  if (!fn || !/^[A-Za-z_]\w*$/.test(variable)) return true;
  const locals = localNames(fn);
  if (!locals.has(variable)) return true;
  const mentions = (n: Node | null | undefined) => !!n && identifiers(n).includes(variable);
  if (fn.descendantsOfType('return_statement').some((r) => mentions(r!.namedChildren[0]))) return true;
  const args = (c: Node) => c.childForFieldName('arguments');
  if (childStatements.some((st) => callsUnder(st).some((c) => mentions(args(c))))) return true;
  // a store the child makes too (a parent-only one registers the child: the child cannot tell it happened)
  return childStatements.some((st) =>
    st.descendantsOfType('assignment_expression').some((a) => {
      const left = unparen(a!.childForFieldName('left')!);
      return mentions(a!.childForFieldName('right')) && !(left.type === 'identifier' && locals.has(left.text));
    }),
  );
}

/** The value the child returns when no other return of the function gives it (`return FORK_CHILD;`): the caller
 * tells the child so. Null otherwise. */
function returnsOwnValue(fn: Node | null, child: Path, parent: Path): string | null {
  const last = child.last;
  const value = last?.type === 'return_statement' ? last.namedChildren[0] : null;
  if (!fn || !value || parent.statements.some((s) => same(s, last))) return null;
  const own = fn
    .descendantsOfType('return_statement')
    .every((r) => same(r, last) || r!.namedChildren[0]?.text !== value.text);
  return own ? unparen(value).text : null;
}

/** A call statement at file scope (under #if at most) runs nowhere: a prototype tree-sitter misread (`MOCKABLE pid_t
 * my_fork (void);` after other macro-prefixed prototypes). */
function atFileScope(call: Node): boolean {
  let p = call.parent;
  if (p?.type !== 'expression_statement') return false;
  for (p = p.parent; p?.type.startsWith('preproc_'); p = p.parent);
  return p?.type === 'translation_unit';
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
  const value = (v: number): ForkValue => ({ call, variable, value: v, childConstant: known.childReturns.get(name) });
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
  let childReturns: string | undefined;
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
    if (!exec && (isFork(callee, known) || known.wrappers.has(callee))) {
      forksAgain = true; // what follows, exec included, is the grandchild's (or a wrapper's child's)
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
    const wrapping = known.wrappedForks[name];
    if (wrapping)
      site.reason = known.wrappedBy[name]
        ? `forks through macro ${name}(), which hands ${wrapping}()'s result to ${known.wrappedBy[name]}(): what that function does in the ${wrapping} child is not recorded`
        : `forks through macro ${name}(), which calls more than ${wrapping}(): the rewrite converts direct fork calls only`;
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
      // no pid the caller gets (`if (vfork()) return;`, a local pid nothing returns or stores, both sides returning
      // 0): the caller cannot tell the child from the parent, so it is no wrapper
      const ownValue = returnsOwnValue(fn, child, parent);
      const passesPid =
        forkStatement.type === 'return_statement' ||
        (variable !== null && pidReachesCaller(fn, variable, childStatements)) ||
        !!ownValue;
      if (parent.end === 'exit' && !parentWaits && !returnsPid) {
        site.class = 'fork-only';
        site.reason = 'daemonizes: the parent exits and the child carries on without exec';
      } else if (!passesPid) {
        site.reason = "the child carries on in the caller's code, which cannot tell it from the parent (no pid kept)";
      } else {
        site.class = 'wrapper';
        site.reason = 'fork wrapper: the child returns to the caller, which decides what runs';
        if (ownValue && !returnsPid && /^[A-Za-z_]\w*$/.test(ownValue)) childReturns = ownValue;
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
    childReturns,
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
    wrappedBy: Object.fromEntries(
      Object.keys(merged.wrappedForks ?? {}).map((m) => [m, merged.macroCalls?.[m]?.call] as const),
    ),
    childReturns: new Map(Object.entries(merged.childReturns ?? {})),
    // wrappers of other files; a function of this file is judged by its own fork site
    wrappers: withWrapperMacros(
      new Set((merged.wrappers ?? []).filter((w) => !defined.has(w) && !FORK_CALLS.has(merged.aliases[w] ?? w))),
      merged.macroCalls,
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
      return name && isFork(name, known) && !atFileScope(call)
        ? [analyzeCall(call, name, file, index, macros, known)]
        : [];
    });
  // Calls to the project's fork wrappers are fork sites too: their child is the caller's code.
  const wrapperCalls = () =>
    calls.flatMap((call) => {
      const name = calleeName(call);
      if (!name || !known.wrappers.has(name) || isFork(name, known) || atFileScope(call)) return [];
      const fn = enclosingFunction(call);
      if (fn && functionName(fn) === name) return [];
      const analysis = analyzeCall(call, name, file, index, macros, known);
      if (analysis.site.class === 'fork+exec')
        analysis.site.reason = `forks through wrapper ${name}(), which may do more than fork: the rewrite converts direct fork calls only`;
      return [analysis];
    });
  let found = [...forkSites(), ...wrapperCalls()];
  // This file's wrappers, and its wrappers of wrappers, fork too: their calls are sites, and a child that calls a
  // helper forking through one runs no exec of its own. Each round may find the next level.
  for (let round = 0; round < HELPER_DEPTH; round++) {
    const local = found
      .filter((s) => s.site.class === 'wrapper' && s.site.function && !known.wrappers.has(s.site.function))
      .map((s) => s.site.function!);
    if (!local.length) break;
    local.forEach((w) => known.wrappers.add(w));
    for (const s of found)
      if (s.childReturns && s.site.function) known.childReturns.set(s.site.function, s.childReturns);
    withWrapperMacros(known.wrappers, merged.macroCalls);
    found = [...forkSites(), ...wrapperCalls()];
  }
  sites.push(...found);
  sites.sort((a, b) => a.site.line - b.site.line || a.site.column - b.site.column);
  return { functions, sites };
}

/** Cheap test: can this text contain a fork site or an exec at all? */
export function mentionsForkOrExec(source: string): { fork: boolean; exec: boolean } {
  return { fork: FORK_TEXT.test(source), exec: EXEC_TEXT.test(source) };
}
