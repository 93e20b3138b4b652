import type { Node } from './syntax-tree.js';
import { isNullPointer } from './actions.js';
import type { CallMacro, GuardedMacro, PureRead } from './facts.js';
import type { GuardedLog } from './guarded-log.js';
import type { FormatWrapper } from './format-wrapper.js';
import type { CloseWalk } from './close-walk.js';
import type { EndingAllocator } from './ending-allocators.js';
import type { OpenWrapper } from './open-wrapper.js';
import type { OtherFileWrapper } from './other-file-wrappers.js';
import type { SiteAnalysis } from './classify.js';
import { type ActionEntry, BRANCHED, CANCEL } from './action-entry.js';
import { Planner } from './recorder.js';
import type { Twin } from './recording-twin.js';
import { type PtyStart, ptyStart, recordLoginTty } from './forkpty.js';
import { EXEC_CALLS } from './operations.js';
import { isWrapperCall, recordWrapperChild, wrapperCall } from './wrapper-call.js';
import { callArgs, calledNames, calleeName, functionName, identifiers, unparen } from './syntax.js';

/**
 * How a convertible site gets its fast path. The child's code stays as written (the slow path runs it in a real
 * child when the fast path fails); the parent records, in front of the fork, what the child would do up to its
 * exec, mirroring the child's control flow. Texts are C source; `fx` names the action list.
 */
export interface ConversionPlan extends ExecStart {
  /** Child statements that only build memory (argv, env, buffers): copied in front, so the actions can read them. */
  hoisted: Node[];
  /** A copied declaration's text without the variables nothing copied, recorded or exec'd names (`old` of
   * `struct sigaction sa, old;`), where it is not the statement's own. */
  trimmed: Map<Node, string>;
  /** The recording's own variables (`int fx_fd = -1;`), declared after the action list. */
  declarations: string[];
  /** Locals the copied code allocates, freed after the call. */
  frees: string[];
  /** forkexec_* calls in the child's order, some under conditions the parent evaluates as the child would. */
  actions: ActionEntry[];
  /** An exec in each branch of an `if`: each start is an action entry of its branch, none follows the list. */
  branched?: boolean;
  /** Recording twins the actions call (recording-twin.ts), each written into its function's own file. */
  twins?: Twin[];
  /** A forkpty site: the pty is opened in front, login_tty is the first actions and the slow child's first steps. */
  pty?: PtyStart;
  /** A fork through a wrapper of the file (wrapper-call.ts): its parent side, run after a fast start. */
  wrapperParent?: { node: Node; text: string }[];
}

/** The fork_before_exec call for one exec of the child. */
export interface ExecStart {
  /** The arguments of an execl-style call after its file, as written (the null pointer included): fork_before_execl. */
  list?: string[];
  file: string;
  argv: string;
  envp: string;
  flags: string;
}

export type { ActionEntry } from './action-entry.js';

export type PlanResult = { plan: ConversionPlan } | { blockers: string[] };

const FUNCTIONS = new WeakMap<object, Map<string, Node>>();

/** The functions defined in the file of node, by name (read once per tree). */
function fileFunctions(node: Node): Map<string, Node> {
  const tree = node.tree;
  let map = FUNCTIONS.get(tree);
  if (!map) {
    map = new Map();
    for (const def of tree.rootNode.descendantsOfType('function_definition')) {
      const name = def && functionName(def);
      if (name && def.childForFieldName('body')) map.set(name, def);
    }
    FUNCTIONS.set(tree, map);
  }
  return map;
}

/** Functions of other files of the project (facts.ts), parsed; this file's own shadow them. */
export interface ProjectFunctions {
  /** Inlinable as the child's own statements. */
  helpers: Map<string, Node>;
  /** Calling sigaction: signal() when signal-wrapper.ts recognises them. */
  signalWrappers: Map<string, Node>;
  /** Macros that stand for calls (facts.ts: callMacros). */
  callMacros?: Map<string, string[] | null>;
  /** Macros that act only under a condition (facts.ts: guardedMacros). */
  guardedMacros?: Map<string, GuardedMacro | null>;
  /** Macros whose body is a bare `if` (facts.ts: danglingMacros). */
  danglingMacros?: Set<string>;
  /** Functions of other files that call actions but cannot be inlined: why (facts.ts: refusedHelpers). */
  refusedHelpers?: Map<string, string>;
  /** Functions that only read (facts.ts: pureReads). */
  pureReads?: Map<string, PureRead | null>;
  /** snprintf wrappers that end the program on truncation (facts.ts: formatWrappers). */
  formatWrappers?: Map<string, FormatWrapper | null>;
  /** Functions that close every fd up to the fd limit but one (facts.ts: closeWalks). */
  closeWalks?: Map<string, CloseWalk | null>;
  /** Functions of other files a recording twin may record (facts.ts: twinHelpers), parsed. */
  twinHelpers?: Map<string, { def: Node; file: string }>;
  /** Macros that are one call of such a function (facts.ts: callMacros). */
  twinMacros?: Map<string, CallMacro>;
  /** Log functions of other files that write nothing while a guard holds, and the macros for them (guarded-log.ts). */
  guardedLogs?: Map<string, GuardedLog>;
  logMacros?: Map<string, CallMacro>;
  /** Allocators that end the program when they fail (facts.ts: endingAllocators). */
  endingAllocators?: Map<string, EndingAllocator | null>;
  /** open() wrappers (facts.ts: openWrappers). */
  openWrappers?: Map<string, OpenWrapper | null>;
  /** Fork wrappers of other files the file calls (other-file-wrappers.ts). */
  otherWrappers?: Map<string, OtherFileWrapper>;
}

/** The copied statements without the declarations nothing copied, recorded or exec'd names (`sigset_t old;` for a
 * mask the fast path never keeps, `int moved = 0;` for a local only a cancelled path writes), and declarations
 * without such variables (`struct sigaction sa, old;` copied as `struct sigaction sa;`): an unused variable would
 * warn, and fail a -Werror build. A declaration whose initializer calls (an allocation, freed later) stays. */
function usedDeclarations(
  hoisted: Node[],
  actions: ActionEntry[],
  execArgs: Node[],
): { hoisted: Node[]; trimmed: Map<Node, string> } {
  const words = (text: string) => new Set(text.match(/[A-Za-z_]\w*/g) ?? []);
  const droppable = (n: Node) =>
    n.type === 'declaration' &&
    n
      .childrenForFieldName('declarator')
      .every((d) => d?.type !== 'init_declarator' || !calledNames(d.childForFieldName('value')!).length);
  const name = (d: Node) => identifiers(d.childForFieldName('declarator') ?? d)[0];
  const trimmed = new Map<Node, string>();
  const kept = hoisted.filter((n) => {
    if (!droppable(n)) return true;
    const others = [...hoisted.filter((h) => h !== n).map((h) => h.text), actionsText(actions)];
    const used = words([...others, ...execArgs.map((e) => e.text)].join(' '));
    const all = n.childrenForFieldName('declarator').filter((d): d is Node => !!d);
    const keep = all.filter((d) => used.has(name(d)));
    // a kept variable's initializer may name another of the same declaration (`int n = 3, m = n + 1;`)
    for (let more = true; more;) {
      const mentioned = words(keep.map((d) => d.text).join(' '));
      const next = all.filter((d) => !keep.includes(d) && mentioned.has(name(d)));
      keep.push(...next);
      more = next.length > 0;
    }
    if (keep.length && keep.length < all.length) {
      const text = n.text;
      const at = (i: number) => i - n.startIndex;
      const list = all
        .filter((d) => keep.includes(d))
        .map((d) => d.text)
        .join(', ');
      trimmed.set(n, text.slice(0, at(all[0].startIndex)) + list + text.slice(at(all.at(-1)!.endIndex)));
    }
    return keep.length > 0;
  });
  return { hoisted: kept, trimmed };
}

export function planConversion(a: SiteAnalysis, project?: ProjectFunctions): PlanResult {
  const { site } = a;
  if (site.class !== 'fork+exec') return { blockers: [site.reason ?? `class ${site.class}`] };
  const pty = a.forks === 'forkpty' && site.call === 'forkpty' ? ptyStart(a.forkCall) : null;
  if (typeof pty === 'string') return { blockers: [pty] };
  const viaWrapper = a.forks !== 'fork' && a.forks !== 'vfork' && !pty && isWrapperCall(a);
  if (a.forks !== 'fork' && a.forks !== 'vfork' && !pty && !viaWrapper)
    return { blockers: [site.reason ?? `forks through ${site.call}()`] };
  const test = a.forkStatement.parent?.type === 'if_statement' ? a.forkStatement.parent : null;
  if (
    test &&
    a.variable &&
    unparen(test.childForFieldName('condition')!).text.replace(/\s+/g, '') === `${a.variable}<0`
  )
    return { blockers: ['already converted: this fork is the slow path of a fork_before_exec'] };
  // a converted forkpty keeps the call as written under #else, where the system's forkpty is not declared
  const converted = a.forkStatement.parent?.type === 'preproc_else' ? a.forkStatement.parent.parent : null;
  if (pty && converted && /\bopenpty\s*\(\s*&fx_ptm\b/.test(converted.text))
    return { blockers: ['already converted: this forkpty is the #else of a fork_before_exec'] };
  const holder = a.forkStatement.parent?.type ?? '';
  // inside #if, the fast path goes in front of the fork, under the same directive
  if (
    !['compound_statement', 'case_statement', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif'].includes(
      holder,
    )
  )
    return { blockers: ['the fork statement is not directly in a block'] };
  const own = fileFunctions(a.forkCall);
  const planner = new Planner(
    a.forks === 'vfork',
    a.noreturn,
    a.variable,
    new Map([...(project?.helpers ?? []), ...own]),
    new Map([...(project?.signalWrappers ?? []), ...own]),
    project?.callMacros,
    project?.guardedMacros,
    project?.danglingMacros,
    project?.refusedHelpers,
    project?.pureReads,
    project?.formatWrappers,
    project?.closeWalks,
    project?.endingAllocators,
    project?.openWrappers,
  );
  planner.forkStart = a.forkStatement.startIndex;
  if (project?.twinHelpers) planner.twinHelpers = project.twinHelpers;
  if (project?.twinMacros) planner.twinMacros = project.twinMacros;
  if (project?.guardedLogs) planner.guardedLogs = project.guardedLogs;
  if (project?.logMacros) planner.logMacros = project.logMacros;
  if (pty) recordLoginTty(planner);
  const wrapper = viaWrapper ? wrapperCall(a, own, project?.otherWrappers) : null;
  if (typeof wrapper === 'string') return { blockers: [wrapper] };
  if (wrapper) recordWrapperChild(planner, wrapper);
  const throughMacro = !!a.execs && a.execs !== site.exec;
  // a project's own exec macro (`EXECVP(f, a)`): the recorder looks for exec calls, which it stands for
  if (throughMacro && !EXEC_CALLS.has(site.exec ?? ''))
    return {
      blockers: [`the child execs through macro ${site.exec}(): the rewrite reads the call, not its expansion`],
    };
  const exec = planner.untilExec(a.childStatements);
  if (!exec) return { blockers: planner.blockers };
  const expansion = throughMacro && exec !== BRANCHED ? execMacroExpansion(exec) : null;
  if (throughMacro && expansion?.name !== a.execs)
    return {
      blockers: [
        `the child execs through macro ${site.exec}(), which its file does not define as one exec of its parameters`,
      ],
    };
  if (expansion) {
    // `execvpe` is a libc function and, where the file defines it, its macro: each start under its own directive
    const asMacro = execStart(expansion.name, expansion.args, planner);
    if (typeof asMacro === 'string') return { blockers: [asMacro] };
    planner.actions.push({
      preprocessor: [
        { directive: `#ifdef ${site.exec}`, body: [{ exec: exec as Node, start: asMacro }] },
        { directive: '#else', body: [{ exec: exec as Node }] },
      ],
    });
  }
  const branched = exec === BRANCHED || !!expansion;
  const leaves: Extract<ActionEntry, { exec: Node }>[] = branched ? [] : [{ exec }];
  if (branched) execLeaves(planner.actions, (e) => leaves.push(e));
  const starts = leaves.map((e) => e.start ?? execStart(calleeName(e.exec)!, callArgs(e.exec), planner));
  const refused =
    starts.find((s): s is string => typeof s === 'string') ??
    (planner.actions.includes(CANCEL) || (branched && !leaves.length) // every branch with an exec cancels
      ? 'every path of the child cancels before its exec (an action or a step with no fork_before_exec form on each): the fast start could never finish'
      : undefined);
  if (refused || planner.blockers.length)
    return { blockers: [...(refused ? [refused] : []), ...planner.blockers.filter((b) => b !== refused)] };
  leaves.forEach((e, i) => (e.start = starts[i] as ExecStart));
  const args = leaves.flatMap((e) => callArgs(e.exec));
  const unread = unreadShadows(
    planner,
    leaves.map((e) => e.start!),
  );
  const actions = unread.size
    ? withoutWrites(planner.actions, (e) => unread.has(planner.shadowWrites.get(e) ?? ''), planner.bareWrites)
    : planner.actions;
  const used = usedDeclarations(planner.hoisted, actions, args);
  const plan: ConversionPlan = {
    ...used,
    trimmed: new Map([...planner.rewritten, ...used.trimmed]),
    declarations: [
      ...[...planner.shadows]
        .filter(([name]) => !unread.has(name))
        .map(([name, copy]) =>
          planner.arrays.has(name) || planner.uninitialized.has(name)
            ? `__typeof__(${name}) ${copy};`
            : `__typeof__(${name}) ${copy} = ${name};`,
        ),
      ...planner.declarations,
      // an array's copy starts as the array, unless the child sets every element before anything reads it
      ...[...planner.arrays.keys()]
        .filter((name) => planner.shadows.has(name) && !unread.has(name) && !setWhole(planner, name, actions))
        .map((name) => `memcpy(${planner.shadows.get(name)}, ${name}, sizeof(${planner.shadows.get(name)}));`),
    ],
    frees: planner.frees,
    actions,
    ...(branched ? { file: '', argv: '', envp: '', flags: '', branched: true } : leaves[0].start!),
    ...(pty ? { pty } : {}),
    ...(planner.twins.size || wrapper?.companion
      ? { twins: [...planner.twins.values(), ...(wrapper?.companion ? [wrapper.companion] : [])] }
      : {}),
    ...(wrapper ? { wrapperParent: wrapper.parent } : {}),
  };
  return { plan };
}

/** Does the child set every element of the array name on its own path (not under a condition) before anything
 * recorded reads the copy? Its copy then needs none of the array's values, which may be indeterminate at the fork. */
function setWhole(planner: Planner, name: string, entries: ActionEntry[]): boolean {
  const copy = new RegExp(`\\b${planner.shadows.get(name)}\\b`);
  const set = new Set<number>();
  for (const e of entries) {
    const write = typeof e === 'string' ? planner.elementWrites.get(e) : undefined;
    if (write?.name === name && !copy.test(write.value)) {
      set.add(write.index);
      if (set.size === planner.arrays.get(name)) return true;
    } else if (copy.test(emittedText([e]))) return false;
  }
  return false;
}

/** The shadows nothing but their own writes names (nor the writes of shadows that are read): set but never used, a
 * warning (-Wunused-but-set-variable) that fails -Werror builds. Read off the text the rewrite emits. */
function unreadShadows(planner: Planner, starts: ExecStart[]): Set<string> {
  const unread = new Set<string>();
  for (let more = true; more;) {
    more = false;
    const kept = withoutWrites(
      planner.actions,
      (e) => unread.has(planner.shadowWrites.get(e) ?? ''),
      planner.bareWrites,
    );
    for (const [name, copy] of planner.shadows) {
      if (unread.has(name)) continue;
      const others = withoutWrites(kept, (e) => planner.shadowWrites.get(e) === name, planner.bareWrites);
      const texts = [emittedText(others), ...starts.flatMap((s) => [s.file, s.argv, s.envp, ...(s.list ?? [])])].join(
        ' ',
      );
      if (!new RegExp(`\\b${copy}\\b`).test(texts)) {
        unread.add(name);
        more = true;
      }
    }
  }
  return unread;
}

/** The C text of the entries as the rewrite emits them, exec leaves as their starts. */
function emittedText(entries: ActionEntry[]): string {
  return entries
    .map((e): string => {
      if (typeof e === 'string') return e;
      if ('exec' in e)
        return e.start ? [e.start.file, e.start.argv, e.start.envp, ...(e.start.list ?? [])].join(' ') : '';
      if ('condition' in e) return `${e.condition} ${emittedText(e.then)} ${emittedText(e.otherwise)}`;
      if ('loop' in e) return `${e.loop} ${emittedText(e.body)}`;
      return e.preprocessor.map((part) => `${part.directive} ${emittedText(part.body)}`).join(' ');
    })
    .join(' ');
}

/** The entries without the actions drop names (a shadow's writes nothing reads), and without branches left empty; a
 * write that also has an effect (bare: `fx_ret = snprintf(buf, …)`) keeps the call alone. */
function withoutWrites(
  entries: ActionEntry[],
  drop: (action: string) => boolean,
  bare: Map<string, string> = new Map(),
): ActionEntry[] {
  return entries.flatMap((e): ActionEntry[] => {
    if (typeof e === 'string') return !drop(e) ? [e] : bare.has(e) ? [bare.get(e)!] : [];
    if ('condition' in e) {
      const then = withoutWrites(e.then, drop, bare);
      const otherwise = withoutWrites(e.otherwise, drop, bare);
      const emptied = then.length + otherwise.length === 0 && e.then.length + e.otherwise.length > 0;
      return emptied ? [] : [{ ...e, then, otherwise }];
    }
    if ('loop' in e) {
      const body = withoutWrites(e.body, drop, bare);
      return !body.length && e.body.length ? [] : [{ ...e, body }];
    }
    if ('preprocessor' in e)
      return [
        { preprocessor: e.preprocessor.map((part) => ({ ...part, body: withoutWrites(part.body, drop, bare) })) },
      ];
    return [e];
  });
}

/** The C text the action entries will be emitted with (each exec leaf: its arguments). */
function actionsText(entries: ActionEntry[]): string {
  return entries
    .map((e) => {
      if (typeof e === 'string') return e;
      if ('exec' in e) return e.exec.text;
      if ('condition' in e) return `${e.condition} ${actionsText(e.then)} ${actionsText(e.otherwise)}`;
      if ('loop' in e) return `${e.loop} ${actionsText(e.body)}`;
      return e.preprocessor.map((part) => `${part.directive} ${actionsText(part.body)}`).join(' ');
    })
    .join(' ');
}

/** The exec leaves of a branched action list (`if (full) execlp(...); else execlp(...);`). */
function execLeaves(entries: ActionEntry[], visit: (leaf: Extract<ActionEntry, { exec: Node }>) => void): void {
  for (const e of entries) {
    if (typeof e === 'string') continue;
    if ('exec' in e) visit(e);
    else if ('condition' in e) [e.then, e.otherwise].forEach((list) => execLeaves(list, visit));
    else if ('loop' in e) execLeaves(e.body, visit);
    else e.preprocessor.forEach((part) => execLeaves(part.body, visit));
  }
}

/**
 * `execvpe(file, argv, env)` where the site's file defines `#define execvpe(ARG0, ARGV, ENV) execvp(ARG0, ARGV)` (a
 * platform without it): the exec the macro stands for, with the call's arguments its parameters name. Null unless the
 * file defines the name before the call, one way, as one exec call whose arguments are parameters.
 */
function execMacroExpansion(exec: Node): { name: string; args: Node[] } | null {
  const name = calleeName(exec);
  const defs = exec.tree.rootNode
    .descendantsOfType('preproc_function_def')
    .filter((d): d is Node => !!d && d.childForFieldName('name')?.text === name);
  if (!defs.length || defs.some((d) => d.text.trim() !== defs[0].text.trim() || d.startIndex > exec.startIndex))
    return null;
  const params = (defs[0].childForFieldName('parameters')?.namedChildren ?? []).map((n) => n?.text ?? '');
  const body = /^\s*(\w+)\s*\(([^()]*)\)\s*$/.exec(defs[0].childForFieldName('value')?.text ?? '');
  const args = callArgs(exec);
  if (!body || !EXEC_CALLS.has(body[1]) || params.length !== args.length) return null;
  const taken = body[2].split(',').map((t) => params.indexOf(t.trim()));
  return taken.every((i) => i >= 0) ? { name: body[1], args: taken.map((i) => args[i]) } : null;
}

/** What fork_before_exec gets for the child's exec call, or why it has no equivalent. */
function execStart(execName: string, args: Node[], planner: Planner): ExecStart | string {
  const flags = { execv: '0', execve: '0', execl: '0', execle: '0', execvp: 'FORKEXEC_SEARCH_PATH' } as Record<
    string,
    string
  >;
  flags.execlp = flags.execvp;
  // execvpe searches the PATH of the child's environ (the parent's copy: no env action may precede it, below)
  flags.execvpe = 'FORKEXEC_SEARCH_ENVIRON_PATH';
  if (!(execName in flags)) return `${execName}() has no fork_before_exec equivalent`;
  const inner = args.flatMap((n) => calledNames(n));
  if (inner.length) planner.block(`${execName}() calls ${inner[0]}() in its arguments: it would run in the parent`);
  // exec's arguments are written as the child wrote them, a local it changed read from its copy (shadow-locals.ts)
  args.forEach((n) => planner.reads(n, 'exec'));
  const text = args.map((n) => planner.text(n));
  const start: ExecStart = { file: text[0], argv: '', envp: 'environ', flags: flags[execName] };
  if (execName.startsWith('execl')) {
    const list = text.slice(1);
    if (execName === 'execle') start.envp = list.pop() ?? 'NULL';
    if (!isNullPointer(list.at(-1) ?? '')) return `${execName}()'s argument list does not end with a null pointer`;
    start.list = list;
  } else {
    start.argv = text[1] ?? 'NULL';
    if (execName === 'execve' || execName === 'execvpe') start.envp = text[2] ?? 'NULL';
  }
  if (planner.usesEnvActions && start.envp !== 'environ')
    return 'the child changes its environment but execs with an explicit one';
  return start;
}
