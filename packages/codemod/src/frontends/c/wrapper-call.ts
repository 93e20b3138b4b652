import type { Node } from './syntax-tree.js';
import { type Path, statementOf, walkFrom } from './child-path.js';
import type { SiteAnalysis } from './classify.js';
import type { Planner } from './recorder.js';
import type { OtherFileWrapper } from './other-file-wrappers.js';
import type { Twin } from './recording-twin.js';
import { parentCompanion } from './wrapper-companion.js';
import { FORK_CALLS } from './operations.js';
import {
  blockStatements,
  calledNames,
  callArgs,
  calleeName,
  callsUnder,
  enclosingFunction,
  identifierNodes,
  parameterList,
  same,
  statementCall,
  unparen,
} from './syntax.js';

// A fork through a wrapper of the same file (nnn's `pid = xfork(flag); if (pid == 0) { …; execvp(…); }`): the
// wrapper's child side, its parameters bound to the call's arguments, is recorded in front of the caller's child,
// the fast start's pid goes through the wrapper's parent side (written at the call, its pid the caller's), and the
// slow path calls the wrapper as written, which does both sides itself.

/** What a wrapper call needs beyond a fork call's conversion. */
export interface WrapperCall {
  name: string;
  /** The wrapper's child statements, from its fork to its `return` of the pid (0 there). */
  child: Node[];
  /** The wrapper's locals but its pid: the caller cannot name them, so nothing recorded may read them. */
  locals: string[];
  /** The wrapper's parameters → the call's arguments (C text), its pid variable → 0 (the child's value). */
  subst: Map<string, string>;
  /** The wrapper's parent statements after its fork, up to its `return` of the pid, with the pid and parameters
   * written as the caller's: run once a fast start returned a pid. */
  parent: { node: Node; text: string }[];
  /** A wrapper of another file: its parent side as a function of its file (wrapper-companion.ts), which the caller's
   * `parent` calls. */
  companion?: Twin;
}

/** Calls the parent side may hand the child's pid to: they wait for it or write it out, whenever they run. A call
 * that acts on the process (a cgroup placement, kill, setpgid, ptrace) would run only after the fast child's exec,
 * where the original runs it while the child sets itself up. */
const PID_READERS =
  /^(?:waitpid|wait4|waitid|v?[fds]?n?printf|syslog|perror|warnx?|errx?|f?puts)$|^(?:log|dbg|debug|dprint|trace_log)/i;

const SIMPLE_ARGUMENT = /^(?:[A-Za-z_]\w*|-?[0-9]+[uUlL]*|"(?:[^"\\\n]|\\.)*")$/;

/** The wrapper's declarations, top-level and nested: the names a path through it may declare. */
function declaredNames(node: Node): Set<string> {
  const names = new Set<string>();
  for (const decl of node.descendantsOfType('declaration')) {
    for (const d of decl!.childrenForFieldName('declarator')) {
      let id: Node | null = d;
      while (id && id.type !== 'identifier') id = id.childForFieldName('declarator');
      if (id) names.add(id.text);
    }
  }
  return names;
}

/** node's text with the identifiers of names replaced (the wrapper's pid and parameters, as the caller's). */
function substituted(node: Node, names: Map<string, string>): string {
  const ids = identifierNodes(node)
    .filter((id) => names.has(id.text))
    .sort((x, y) => y.startIndex - x.startIndex);
  let out = node.text;
  for (const id of ids) {
    const value = names.get(id.text)!;
    const at = id.startIndex - node.startIndex;
    out = out.slice(0, at) + (SIMPLE_ARGUMENT.test(value) ? value : `(${value})`) + out.slice(at + id.text.length);
  }
  return out;
}

/** Is the site a call of one of the project's fork wrapper functions (classify.ts says so in its reason)? */
export function isWrapperCall(a: SiteAnalysis): boolean {
  return a.forkCall.type === 'call_expression' && !!a.site.reason?.startsWith(`forks through wrapper ${a.site.call}()`);
}

/**
 * The wrapper behind a fork site's call, read for a conversion: its definition in the caller's file, its fork the first
 * thing it does, both sides returning the pid; the parent side is written in the caller's function, so its names must
 * mean the same there. A string says why not.
 */
export function wrapperCall(
  a: SiteAnalysis,
  functions: Map<string, Node>,
  others?: Map<string, OtherFileWrapper>,
): WrapperCall | string {
  const { forkCall: call, noreturn, variable: target } = a;
  const name = calleeName(call)!;
  const other = functions.has(name) ? undefined : others?.get(name);
  if (typeof other === 'string') return other;
  const def = functions.get(name) ?? other?.def;
  if (!def) return `${name}() is defined in another file: the rewrite reads the wrappers of the caller's file only`;
  const params = parameterList(def);
  const args = callArgs(call);
  if (!params || params.length !== args.length) return `${name}()'s parameters do not match the call`;
  const body = blockStatements(def.childForFieldName('body')!);
  const forks = callsUnder(def.childForFieldName('body')!).filter((c) => FORK_CALLS.has(calleeName(c) ?? ''));
  const fork = forks[0];
  if (fork && calleeName(fork) !== 'fork')
    return `${name}() forks with ${calleeName(fork)}(): a wrapper's call is converted when the wrapper forks with fork()`;
  if (!fork) return `${name}() does not fork() itself`;
  const at = body.findIndex((st) => st.startIndex <= fork.startIndex && fork.endIndex <= st.endIndex);
  const forkStatement = body[at];
  const pid = pidVariable(forkStatement, fork);
  const bare = forkStatement?.type === 'return_statement' && same(unparen(forkStatement.namedChild(0)!), fork);
  if (at < 0 || (!pid && !bare)) {
    const inner = statementOf(fork);
    const parent = walkFrom(inner, { call: fork, variable: pidVariable(inner, fork), value: 4242 }, noreturn);
    return parent.end === 'loop'
      ? `${name}()'s parent goes back into the loop around its fork and never returns the pid: only its child returns to the caller`
      : `${name}()'s fork is not a statement of its own body that stores the pid`;
  }
  const unsafe = args.find((a) => !SIMPLE_ARGUMENT.test(unparen(a).text));
  if (unsafe)
    return `${name}() is called with ${unsafe.text}: the fast path reads its arguments, and the slow path's call would evaluate them again`;
  const before = body.slice(0, at).find((st) => st.type !== 'declaration' || calledNames(st).length);
  if (before) return `${name}() runs ${before.text.split('\n')[0]} before its fork, which the fast path would not`;
  const caller = enclosingFunction(call);
  if (!target || !caller) return 'the caller keeps no pid in a variable';
  // `return fork();`: nothing but the fork on either side
  if (!pid) return { name, child: [], locals: [], subst: new Map(), parent: [] };
  const callerNames = new Set([...declaredNames(caller), ...(parameterList(caller) ?? [])]);
  const value = (v: number) => ({ call: fork, variable: pid, value: v });
  const child = walkFrom(forkStatement, value(0), noreturn);
  const parent = walkFrom(forkStatement, value(4242), noreturn);
  const returnsPid = (path: Path, inChild: boolean) =>
    path.end === 'return' &&
    !!path.last &&
    [pid, ...(inChild ? ['0'] : [])].includes(unparen(path.last.namedChild(0) ?? path.last).text);
  if (!returnsPid(child, true)) return `${name}()'s child does not return the pid to the caller`;
  if (!returnsPid(parent, false)) return `${name}()'s parent does not return the pid`;
  const own = (path: Path) => path.statements.filter((s) => !same(s, forkStatement) && !same(s, path.last));
  const parentStatements = own(parent);
  const childStatements = own(child);
  if (other && childStatements.length)
    return `${name}()'s child side (${childStatements[0].text.split('\n')[0]}) is code of ${fileName(other.file)}, which the recording of the caller's file does not read`;
  // the parent side is written in the caller: its names must mean there what they mean in the wrapper
  const locals = declaredNames(def.childForFieldName('body')!);
  for (const c of parentStatements.flatMap((st) => callsUnder(st))) {
    const callee = calleeName(c) ?? c.childForFieldName('function')!.text;
    if (!PID_READERS.test(callee) && callArgs(c).some((a) => identifierNodes(a).some((id) => id.text === pid)))
      return `${name}()'s parent passes the child's pid to ${callee}() while the child sets itself up: fork_before_exec returns it only once the child has exec'd`;
  }
  for (const st of parentStatements) {
    if (st.descendantsOfType(['return_statement', 'goto_statement']).length)
      return `${name}()'s parent side leaves early (${st.text.split('\n')[0]})`;
    const named = identifierNodes(st).map((id) => id.text);
    const local = named.find((n) => locals.has(n) && n !== pid);
    if (local) return `${name}()'s parent side uses its local ${local}, which the caller cannot name`;
    if (!other) continue;
    // the companion runs in the wrapper's file and gets the pid only
    const param = named.find((n) => params.includes(n));
    if (param) return `${name}()'s parent side reads its parameter ${param}, which its companion is not given`;
    if (other.conditional)
      return `${name}() is defined under #if in ${fileName(other.file)}: its parent side's companion would need the same condition`;
    continue;
    const clash = named.find((n) => callerNames.has(n) && !params!.includes(n) && n !== pid);
    if (clash) return `${name}()'s parent side names ${clash}, which the caller declares too`;
  }
  if (other) {
    const companion = parentStatements.length ? parentCompanion(name, pid, parentStatements, other.file) : undefined;
    const parent = companion ? [{ node: a.forkStatement, text: `${companion.name}(${target});` }] : [];
    return { name, child: [], locals: [], subst: new Map(), parent, ...(companion ? { companion } : {}) };
  }
  const childClash = childStatements
    .flatMap((st) => identifierNodes(st).map((id) => id.text))
    .find((n) => callerNames.has(n) && !params.includes(n) && !locals.has(n));
  if (childClash) return `${name}()'s child side names ${childClash}, which the caller declares too`;
  const asCaller = new Map(params.map((param, i) => [param, unparen(args[i]).text] as const));
  asCaller.set(pid, target);
  return {
    name,
    child: childStatements,
    locals: [...locals].filter((n) => n !== pid && !params.includes(n)),
    subst: new Map([...params.map((param, i) => [param, unparen(args[i]).text] as const), [pid, '0']]),
    parent: parentStatements.map((node) => ({ node, text: substituted(node, asCaller) })),
  };
}

const fileName = (file: string) => file.split(/[\\/]/).pop() || file;

/** The wrapper's pid variable: `pid_t p = fork();` or `p = fork();`, a plain name. */
function pidVariable(st: Node | undefined, fork: Node): string | null {
  if (!st) return null;
  if (st.type === 'declaration') {
    const [d, ...more] = st.childrenForFieldName('declarator');
    const value = d?.type === 'init_declarator' ? d.childForFieldName('value') : null;
    const id = d?.childForFieldName('declarator');
    return !more.length && value && same(unparen(value), fork) && id?.type === 'identifier' ? id.text : null;
  }
  const e = statementCall(st) ? null : st.namedChild(0) && unparen(st.namedChild(0)!);
  if (e?.type !== 'assignment_expression' || e.child(1)?.type !== '=') return null;
  const left = unparen(e.childForFieldName('left')!);
  return left.type === 'identifier' && same(unparen(e.childForFieldName('right')!), fork) ? left.text : null;
}

/** Records the wrapper's child side with its parameters bound, before the caller's child (planner.untilExec). */
export function recordWrapperChild(p: Planner, w: WrapperCall): void {
  const saved = p.subst;
  const hoisted = p.hoisted.length;
  p.subst = w.subst;
  const before = w.locals.map((local) => [local, p.changed.get(local)] as const);
  for (const local of w.locals) p.changed.set(local, `a local of ${w.name}()`);
  p.inlining.push(w.name);
  p.statements(w.child);
  p.inlining.pop();
  p.subst = saved;
  for (const [local, why] of before) {
    if (why === undefined) p.changed.delete(local);
    else p.changed.set(local, why);
  }
  // copied code is written as the wrapper's text, whose names are not the caller's
  if (p.hoisted.length !== hoisted) p.block(`${w.name}()'s child side computes memory of its own`);
}
