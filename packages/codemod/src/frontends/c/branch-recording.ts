import type { Node } from './syntax-tree.js';
import { actionFor, failureTests, type FailureTest, successValue } from './actions.js';
import { openedFailureTests } from './opened-fd-failure.js';
import { type ActionEntry, BRANCHED, CANCEL } from './action-entry.js';
import { leaves, statementsOf } from './child-statements.js';
import { recordLoopBody } from './loop-continue.js';
import type { GuardedMacro } from './facts.js';
import { EXEC_CALLS, EXIT_CALLS, NORETURN_CALLS, operationOf } from './operations.js';
import { answersInParent, pureCondition } from './parent-answers.js';
import type { Planner } from './recorder.js';
import {
  callArgs,
  chain,
  calleeName,
  callsUnder,
  identifiers,
  preprocStatements,
  statementCall,
  unparen,
} from './syntax.js';

// The child's control flow, recorded as the parent's: paths of an `if` on memory (cancelled when they cannot be
// recorded), loops with their own counter, #if parts, macros that act under a condition, an exec in both branches.

/**
 * Runs list's statements into a fresh action list; a path that leaves before the exec cancels the fast path, and so
 * does a path with something the parent cannot record (`if (debug) fprintf(stderr, …);`): the parent knows which
 * path the child takes, and on that one the slow path runs the original code, so nothing of it is recorded.
 */
export function recordBranch(p: Planner, node: Node | Node[] | null | undefined, why: string): ActionEntry[] {
  const before = snapshot(p);
  const list = recordPath(
    p,
    () => {
      const statements = !node ? [] : Array.isArray(node) ? node : statementsOf(node);
      if (statements.length && leaves(statements.at(-1)!, p.noreturn)) p.actions.push(CANCEL);
      else p.statements(statements);
    },
    why,
  );
  if (p.blockers.length === before.blockers) return list;
  cancelled.set(p, p.blockers[before.blockers]);
  restore(p, before);
  return [CANCEL];
}

/** Why the last path recordBranch cancelled could not be recorded (a loop, which may not cancel, says it). */
const cancelled = new WeakMap<Planner, string>();

/** A loop's round that cancels: why, with the reason its path could not be recorded when there was one. */
function roundRefused(p: Planner): void {
  const why = cancelled.get(p);
  cancelled.delete(p);
  p.block(
    why
      ? `a loop in the child does what the parent cannot record in a round (${why})`
      : 'a loop in the child leaves before exec',
  );
}

/** What recording a path may change, so a cancelled path leaves no trace: copied code, locals, blockers. */
export function snapshot(p: Planner) {
  return {
    blockers: p.blockers.length,
    hoisted: p.hoisted.length,
    frees: p.frees.length,
    declarations: p.declarations.length,
    locals: new Set(p.locals),
    changed: new Map(p.changed),
    shadows: new Set(p.shadows.keys()),
    usesEnvActions: p.usesEnvActions,
  };
}

/** Back to a snapshot, keeping what only refuses more (variables the path changed, state it read or acted on). */
export function restore(p: Planner, s: ReturnType<typeof snapshot>): void {
  p.blockers.length = s.blockers;
  p.hoisted.length = s.hoisted;
  p.frees.length = s.frees;
  p.declarations.length = s.declarations;
  for (const name of [...p.locals]) if (!s.locals.has(name)) p.locals.delete(name);
  for (const [name, why] of s.changed) if (!p.changed.has(name)) p.changed.set(name, why);
  for (const name of [...p.shadows.keys()]) if (!s.shadows.has(name)) p.shadows.delete(name);
  p.usesEnvActions = s.usesEnvActions;
}

/**
 * Runs record into a fresh action list, one path's: what it copies in front would run on every path, so that
 * blocks with why; an fd it opens is known on that path only (after it, the variable may hold another value).
 */
export function recordPath(p: Planner, record: () => void, why: string): ActionEntry[] {
  const saved = p.actions;
  const hoisted = p.hoisted.length;
  const known = new Set(p.known.keys());
  p.actions = [];
  record();
  const list = p.actions;
  p.actions = saved;
  if (p.hoisted.length !== hoisted) p.block(why);
  for (const name of [...p.known.keys()].filter((k) => !known.has(k))) {
    p.known.delete(name);
    p.changed.set(name, 'the fd an open() on one path of the child returned');
  }
  return list;
}

/**
 * `for (fd = 3; fd < getdtablesize(); fd++) close(fd);` closes a range (closeRange). `for (int i = 0; i < n; i++) close(fds[i]);`,
 * with its own counter and a body of actions, is the same loop run by the parent over the action list.
 */
export function recordLoop(p: Planner, stmt: Node): void {
  const init = stmt.childForFieldName('initializer');
  const cond = stmt.childForFieldName('condition');
  const update = stmt.childForFieldName('update');
  const body = stmt.childForFieldName('body')!;
  const bodyStmts = statementsOf(body);
  const counter = update?.type === 'update_expression' ? update.childForFieldName('argument')?.text : undefined;
  if (counter && cond && bodyStmts.length === 1 && /^(?:\+\+\s*\w+|\w+\s*\+\+)$/.test(update!.text.trim())) {
    const range = closeRange(p, counter, init, cond, bodyStmts[0]);
    if (range === 'refused') return;
    if (range) {
      if (!p.locals.has(counter) && !p.helperLocals.has(counter)) p.writeOther(counter, stmt);
      p.record(range);
      return;
    }
  }
  const assigned = init?.type === 'assignment_expression' && init.child(1)?.type === '=' ? init : null;
  const left = assigned?.childForFieldName('left');
  const stepped = left?.type === 'identifier' ? steps(left.text).test(update?.text.trim() ?? '') : false;
  if (left?.type === 'identifier' && stepped && cond)
    return recordCountedLoop(p, stmt, left.text, assigned!.childForFieldName('right')!, cond, update!, body);
  const declared = init?.type === 'declaration' ? init.descendantsOfType('identifier')[0]?.text : undefined;
  const ownCounter =
    !!declared &&
    !!update &&
    steps(declared).test(update.text.trim()) &&
    !cond?.descendantsOfType(['assignment_expression', 'update_expression']).length;
  const impure = [init, cond, update].some(
    (n) => n && (n.descendantsOfType('call_expression').length > 0 || /\b(?:errno|environ)\b/.test(n.text)),
  );
  const headerNames = [init, cond, update].flatMap((n) => (n ? identifiers(n) : []));
  if (!ownCounter || impure || !init || p.subst.size || headerNames.some((id) => p.known.has(id) || p.shadows.has(id)))
    return p.block(loopRefusal(p, stmt, impure, ownCounter));
  if (![cond, init.childForFieldName('declarator')].every((n) => !n || p.reads(n))) return;
  const header = stmt.text
    .slice(stmt.child(1)!.endIndex - stmt.startIndex, body.startIndex - stmt.startIndex)
    .replace(/\)\s*$/, '');
  p.locals.add(declared);
  cancelled.delete(p);
  const list = recordLoopBody(p, body, (round) => recordBranch(p, round, LOOP_MEMORY));
  p.locals.delete(declared);
  if (list.includes(CANCEL)) return roundRefused(p);
  p.actions.push({ loop: header, body: list });
}

/** A step of the counter: `i++`, `--i`, `i += 2`. */
function steps(counter: string): RegExp {
  return new RegExp(`^(?:(?:\\+\\+|--)\\s*${counter}|${counter}\\s*(?:\\+\\+|--)|${counter}\\s*[-+]=\\s*[0-9]+)$`);
}

/** Why a loop in the child is left as written, as precisely as its header says. */
function loopRefusal(p: Planner, stmt: Node, impure: boolean, ownCounter: boolean): string {
  const header = loopHeader(stmt);
  const where = p.inlining.length ? ` in ${p.inlining.at(-1)}()` : '';
  if (impure)
    return `a loop${where} in the child (${header}) whose test calls a function or reads errno: its actions depend on it`;
  if (p.inlining.length)
    return `a loop${where} in the child (${header}) over the helper's own counter, which the recording has no copy of`;
  if (ownCounter) return `a loop in the child (${header}) reads a variable the child changed`;
  return `a loop in the child (${header}) whose counter is no variable the parent can copy (the child's own, changed, or not stepped by ++, --, += or -= a number): its actions depend on it`;
}

/** A loop's text up to its body: `for (i = 1; i < NSIG; i++)`. */
function loopHeader(stmt: Node): string {
  return stmt.text.slice(0, stmt.childForFieldName('body')!.startIndex - stmt.startIndex).trim();
}

const LOOP_MEMORY = 'a loop in the child computes memory: only actions may repeat';

/** The loop's bounds that are the fd limit, asked in the parent (the same unless the child's setrlimit changed it),
 * or a constant. */
const FD_LIMIT = /^(?:getdtablesize\(\)|sysconf\(_SC_OPEN_MAX\)|OPEN_MAX)$/;

/**
 * `for (fd = 3; fd < getdtablesize(); fd++) close(fd);`, also with `if (fd != keep && …)` around the close: every fd
 * from the start up to the bound but the kept ones is closed, and the fds at or above the bound stay open (a limit
 * lowered after they were opened), which is forkexec_close_range(start, bound - 1, kept), not closefrom. The start is
 * a number or a constant, the bound the fd limit (FD_LIMIT), a kept fd anything the parent reads as the child.
 * Null: not such a loop; 'refused': such a loop whose bound or kept fds the parent cannot read as the child.
 */
function closeRange(p: Planner, counter: string, init: Node | null, cond: Node, body: Node): string | null | 'refused' {
  const start = new RegExp(
    `^(?:int\\s+)?${counter}\\s*=\\s*([0-9]+|[A-Z_][A-Z0-9_]*(?:\\s*\\+\\s*[0-9]+)?)\\s*;?$`,
  ).exec(init?.text ?? '');
  const op = cond.type === 'binary_expression' ? cond.childForFieldName('operator')?.type : undefined;
  const bound = cond.childForFieldName('right')?.text.replace(/\s+/g, '') ?? '';
  if (!start || cond.childForFieldName('left')?.text !== counter || !/^<=?$/.test(op ?? '') || !FD_LIMIT.test(bound))
    return null;
  // the body: close(fd), or under `fd != a && fd != b`
  let closing = body;
  const kept: Node[] = [];
  if (body.type === 'if_statement' && !body.childForFieldName('alternative')) {
    for (const t of chain(body.childForFieldName('condition')!, '&&', (term) => [term])!) {
      const [l, r] = [t.childForFieldName('left'), t.childForFieldName('right')];
      const other =
        t.childForFieldName('operator')?.type !== '!='
          ? null
          : l?.text === counter
            ? r
            : r?.text === counter
              ? l
              : null;
      if (!other || identifiers(other).includes(counter)) return null;
      kept.push(other);
    }
    const then = body.childForFieldName('consequence')!;
    const inner = statementsOf(then);
    if (inner.length !== 1) return null;
    closing = inner[0];
  }
  const call = statementCall(closing);
  if (!call || calleeName(call) !== 'close' || callArgs(call).length !== 1 || callArgs(call)[0].text !== counter)
    return null;
  if (kept.length > 64) return null;
  const asked = /^(\w+)\(/.exec(bound)?.[1];
  if (asked && !answersInParent(p, asked)) return 'refused';
  if (!kept.every((k) => p.pure(k, true) && p.reads(k))) return 'refused';
  const high = op === '<' ? `${cond.childForFieldName('right')!.text} - 1` : cond.childForFieldName('right')!.text;
  const spared = kept.length ? `(int[]){ ${kept.map((k) => p.text(k)).join(', ')} }, ${kept.length}` : 'NULL, 0';
  return `forkexec_close_range(fx, ${start[1]}, ${high}, ${spared})`;
}

/**
 * `for (fd = STDERR + 1; fd < fds; fd++) close(fd);`: the counter is a variable of the function, from and up to
 * values the parent reads as the child would (cronie's `fds`, a static of its file): the parent runs the same loop on
 * a counter of the recording's own, each round's actions reading it. The child's counter is its memory, which exec
 * discards: nothing recorded after the loop may read it (and a vfork child's would be the parent's: refused). The
 * condition may be any test of memory the counter indexes (`signal_info[i].sig != -1`), the step `++`, `--`, `+= N`
 * or `-= N`: the parent evaluates it on its counter, each round, as the child does on its own.
 */
function recordCountedLoop(
  p: Planner,
  stmt: Node,
  counter: string,
  start: Node,
  cond: Node,
  update: Node,
  body: Node,
): void {
  const bound = cond.childForFieldName('right');
  const bounded =
    cond.type === 'binary_expression' &&
    cond.childForFieldName('left')?.text === counter &&
    /^(?:<|<=)$/.test(cond.childForFieldName('operator')?.type ?? '') &&
    /\+\+/.test(update.text);
  if (p.locals.has(counter) || p.known.has(counter) || p.shadows.has(counter) || p.inlining.length)
    return p.block(loopRefusal(p, stmt, false, false));
  if (identifiers(start).includes(counter) || (bounded && identifiers(bound!).includes(counter)))
    return p.block(loopRefusal(p, stmt, false, false));
  // a test of memory other than `counter < bound`: no call (a round's actions could change what it reads), no write
  if (!bounded && (callsUnder(cond).length || /\b(?:errno|environ)\b/.test(cond.text)))
    return p.block(loopRefusal(p, stmt, true, false));
  if (!bounded && !identifiers(cond).includes(counter)) return p.block(loopRefusal(p, stmt, false, false));
  if (![start, ...(bounded ? [bound!] : [])].every((n) => p.pure(n, true))) return;
  const blockers = p.blockers.length;
  p.writeOther(counter, stmt);
  if (p.blockers.length !== blockers) return;
  const copy = `fx_loop_${counter}`;
  p.known.set(counter, copy);
  if (!bounded && !pureCondition(p, cond)) return void p.known.delete(counter);
  cancelled.delete(p);
  const list = recordLoopBody(p, body, (round) => recordBranch(p, round, LOOP_MEMORY));
  p.known.delete(counter);
  if (list.includes(CANCEL)) return roundRefused(p);
  const declaration = `__typeof__(${counter}) ${copy};`;
  if (!p.declarations.includes(declaration)) p.declarations.push(declaration);
  p.known.set(counter, copy);
  const [test, step] = [p.text(cond), p.text(update)];
  p.known.delete(counter);
  const every = everySignalToDefault(stmt, start, cond, list, copy);
  if (every === 'wrapped') {
    const header = loopHeader(stmt);
    const wrapper = calleeName(loopCall(stmt)!);
    return p.block(
      `the loop in the child (${header}) sets SIGKILL's disposition through ${wrapper}(), which fails there every time and runs ${wrapper}()'s failure branch: the fast start could never finish`,
    );
  }
  if (every) return void p.actions.push('forkexec_sigdefault(fx, 0)');
  p.actions.push({ loop: `${copy} = ${p.text(start)}; ${test}; ${step}`, body: list });
}

/**
 * `for (i = 1; i < NSIG; i++) signal(i, SIG_DFL);`, the result unused: every signal back to default, SIGKILL's,
 * SIGSTOP's and the C library's own failing unseen. Recorded round by round, those failures would cancel every start;
 * forkexec_sigdefault's every-signal form skips the same ones, so the fast path finishes as the child does. Through a
 * project's wrapper (openssh's ssh_signal), the wrapper's failure branch runs on those signals (a log line): 'wrapped'.
 */
function everySignalToDefault(
  stmt: Node,
  start: Node,
  cond: Node,
  list: ActionEntry[],
  copy: string,
): 'all' | 'wrapped' | null {
  const call = loopCall(stmt);
  if (!call || list.length !== 1 || list[0] !== `forkexec_sigdefault(fx, ${copy})`) return null;
  const bound = cond.childForFieldName('right')?.text.replace(/\s+/g, '');
  const op = cond.childForFieldName('operator')?.type;
  const whole = op === '<' ? /^_?NSIG$/.test(bound ?? '') : op === '<=' && /^_?NSIG-1$/.test(bound ?? '');
  if (!whole || !/^[01]$/.test(start.text)) return null;
  return calleeName(call) === 'signal' ? 'all' : 'wrapped';
}

/** The call a loop's body is made of, as a statement of its own (its result unused). */
function loopCall(stmt: Node): Node | null {
  const body = stmt.childForFieldName('body');
  const inner = body ? statementsOf(body) : [];
  const call = inner.length === 1 && inner[0].type === 'expression_statement' ? inner[0].namedChildren[0] : null;
  return call?.type === 'call_expression' ? call : null;
}

/**
 * `if (fd != 1) { dup2(fd, 1); close(fd); }`: when the condition reads only memory (no calls, no writes, nothing the
 * child's earlier steps change), the parent evaluates it while it builds the actions, with the same result.
 * `if (chdir(dir) < 0) …` is the action; its failure takes the slow path, which runs the check as written.
 */
export function recordConditional(p: Planner, stmt: Node): void {
  const condition = unparen(stmt.childForFieldName('condition')!);
  const alternative = stmt.childForFieldName('alternative')?.namedChildren.at(-1);
  const failing = failureTests(condition) ?? openedFailureTests(p, condition);
  if (failing && !alternative) return failing.forEach((t) => failureTestCall(p, t));
  // `if (isolate_child()) return 1;`: a helper of the project that returns 0 once all its actions succeeded
  const helper = condition.type === 'call_expression' ? calleeName(condition) : null;
  if (helper && !alternative && p.helpers.has(helper)) return p.call(condition, null, null, 'nonzero');
  if (danglingElse(p, stmt)) return;
  if (!pureCondition(p, condition)) return;
  const why = 'a conditional in the child computes memory: only actions may depend on a condition';
  const then = recordBranch(p, stmt.childForFieldName('consequence'), why);
  const otherwise = recordBranch(p, alternative, why);
  branchOn(p, p.text(condition), then, otherwise);
}

/**
 * `if (x) M(); else …` with a macro M whose body is a bare `if`: the else is the macro's, so the statement has
 * other paths than written. Refused outright (a cancelled path would not cover it).
 */
export function danglingElse(p: Planner, stmt: Node): boolean {
  const consequence = stmt.childForFieldName('consequence');
  const call = consequence && statementCall(consequence);
  const name = call && calleeName(call);
  if (!stmt.childForFieldName('alternative') || !name) return false;
  if (p.danglingMacros.has(name)) p.block(`${name}() before an else: the else binds to the if inside the macro`);
  // a name from outside the project may be such a macro too: only a known function's path may be cancelled
  else if (!knownFunction(p, name))
    p.block(`${name}() before an else: a macro of another project's header could take that else`);
  else return false;
  return true;
}

/** A function (or call-like macro) the rewrite knows: the C library's, the project's, or a macro for calls. */
export function knownFunction(p: Planner, name: string): boolean {
  return (
    operationOf(name) !== null ||
    EXEC_CALLS.has(name) ||
    EXIT_CALLS.has(name) ||
    NORETURN_CALLS.has(name) ||
    p.noreturn.has(name) ||
    p.helpers.has(name) ||
    p.signalWrappers.has(name) ||
    p.asks(name) ||
    !!p.callMacros.get(name) ||
    !!p.guardedMacros.get(name)
  );
}

/** A call of a failure test: recorded as an action (its failure takes the slow path), under its guards. */
export function failureTestCall(p: Planner, { call, guards, target, lands }: FailureTest): void {
  // the dup lands on the lowest free fd, which the parent computes: elsewhere, the child's failure branch runs
  const record = () =>
    lands === undefined ? p.call(call, null, target) : landsOn(p, p.dupOntoNext(call, null), lands);
  if (!guards.length) return record();
  if (!guards.every((g) => pureCondition(p, g))) return;
  const then = recordPath(p, record, 'a guarded call in the child computes memory');
  branchOn(p, guards.map((g) => p.text(g)).join(' && '), then, []);
}

/** `dup(x) != fd`: the slow path runs the child's branch when the dup lands elsewhere (its fd the parent computed). */
function landsOn(p: Planner, fd: string | undefined, lands: string): void {
  if (fd) p.actions.push({ condition: `${fd} != ${lands}`, then: [CANCEL], otherwise: [] });
}

/** Records a branch the parent takes as the child would; a helper's flag bound to a number needs no `if (1)`. */
export function branchOn(p: Planner, condition: string, then: ActionEntry[], otherwise: ActionEntry[]): void {
  const parts = condition.split(' && ').map(openedFdTest);
  if (parts.every((part) => /^\(?\s*[0-9]+\s*\)?$/.test(part)))
    p.actions.push(...(parts.every((part) => /[1-9]/.test(part)) ? then : otherwise));
  else p.actions.push({ condition, then, otherwise });
}

/**
 * A test of the fd an open() of the child returned (fx_fd, forkexec_next_fd's answer): on the fast path that open
 * succeeded, so `fx_fd >= 0` holds and `fx_fd < 0` does not (its failure takes the slow path). Else the part as is.
 */
function openedFdTest(part: string): string {
  const test = /^\(?\s*fx_fd\d*\s*(>=\s*0|!=\s*-1|>\s*-1|<\s*0|==\s*-1)\s*\)?$/.exec(part);
  return !test ? part : /^(?:>|!)/.test(test[1]) ? '1' : '0';
}

/** `#ifdef X … #else … #endif` in the child: the same directives around what each configuration records. */
export function recordPreprocessor(p: Planner, stmt: Node): void {
  const parts: { directive: string; body: ActionEntry[] }[] = [];
  const why = 'the child computes memory under #if: the copy in front would need the same directives';
  for (let n: Node | null = stmt; n; n = n.childForFieldName('alternative')) {
    const name = n.childForFieldName('name') ?? n.childForFieldName('condition');
    const directive = n.type === 'preproc_else' ? '#else' : `${n.child(0)!.text.trim()} ${name?.text ?? ''}`.trim();
    const part = n;
    parts.push({ directive, body: recordPath(p, () => p.statements(preprocStatements(part)), why) });
  }
  p.actions.push({ preprocessor: parts });
}

/**
 * `DEBUG("x");` of a macro that acts only when its condition holds (`do { if (debug) { fprintf(…); } } while (0)`):
 * with the condition false it does nothing; with it true the slow path runs it. The condition, the parameters bound
 * to the call's arguments, must read only memory the parent sees as the child does.
 */
export function recordGuardedMacro(p: Planner, name: string, guard: GuardedMacro, call: Node): void {
  if (p.subst.size) return p.block(`${name}() in ${p.inlining.at(-1)}(): a macro that acts on a condition`);
  const args = callArgs(call).map((a) => p.text(a));
  const named = guard.params.filter((param) => param !== '...');
  let condition = guard.condition;
  for (const [i, param] of named.entries())
    condition = condition.replace(new RegExp(`\\b${param}\\b`, 'g'), () =>
      /^(?:[A-Za-z_]\w*|[0-9]+)$/.test(args[i] ?? '') ? args[i] : `(${args[i] ?? ''})`,
    );
  const code = condition.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
  if (failingAction(p, name, condition)) return;
  const callIn = [...code.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)].find((m) => m[1] !== 'sizeof');
  if (callIn) return p.block(`${name}() in the child acts when ${condition}, which calls ${callIn[1]}()`);
  if (/(?:^|[^=!<>])=(?!=)|\+\+|--/.test(code))
    return p.block(`${name}() in the child acts when ${condition}, which changes memory`);
  const ids = [...code.matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b/g)].filter((m) => !m[1]).map((m) => m[2]);
  if (ids.includes('errno')) return p.block(`${name}() in the child acts when ${condition}, which reads errno`);
  if (
    !p.readsNames(
      ids.filter((id) => id !== 'sizeof'),
      `${name}()`,
      false,
    )
  )
    return;
  branchOn(p, condition, [CANCEL], []);
}

/**
 * `FD_CLOSEONEXEC(fd)` of a macro that acts only when an action fails (`if (fcntl(x, F_SETFD, FD_CLOEXEC) == -1)
 * fatal(…)`): the action, whose failure takes the slow path, where the macro runs as written. True when handled
 * (recorded or refused); false when the condition is no such test.
 */
function failingAction(p: Planner, macro: string, condition: string): boolean {
  // literals blanked, same length: offsets in code are offsets in condition
  const code = condition.replace(
    /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g,
    (m) => m[0] + ' '.repeat(m.length - 2) + m[0],
  );
  const test = /^\s*([A-Za-z_]\w*)\s*\(/.exec(code);
  if (!test) return false;
  const open = test[0].length - 1;
  let depth = 0;
  let end = -1;
  const commas: number[] = [];
  for (let i = open; i < code.length && end < 0; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) end = i;
    else if (code[i] === ',' && depth === 1) commas.push(i);
  }
  // true exactly when the call returns -1, which it does only when it fails
  if (end < 0 || !/^\s*(?:==\s*-\s*1|<\s*0)\s*$/.test(code.slice(end + 1))) return false;
  const name = test[1];
  const bounds = [open, ...commas, end];
  const args = bounds.slice(1).map((at, i) => condition.slice(bounds[i] + 1, at).trim());
  const argsCode = code.slice(open + 1, end);
  // an action whose success answers otherwise than -1 (a close's EBADF is no failure of the action: none)
  if (name === 'close' || successValue(name, args) === null) return false;
  if (
    /\b[A-Za-z_]\w*\s*\(/.test(argsCode.replace(/\bsizeof\s*\(/g, '')) ||
    /(?:^|[^=!<>])=(?!=)|\+\+|--/.test(argsCode)
  )
    return false;
  const mapped = actionFor(name, args);
  if ('blocker' in mapped) {
    p.block(mapped.blocker);
    return true;
  }
  const ids = [...argsCode.matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b/g)].filter((m) => !m[1]).map((m) => m[2]);
  if (ids.includes('errno')) return false;
  if (
    !p.readsNames(
      ids.filter((id) => id !== 'sizeof'),
      `${macro}()`,
    )
  )
    return true;
  if (name === 'setenv' || name === 'unsetenv' || name === 'putenv') p.usesEnvActions = true;
  p.record(mapped.action);
  return true;
}

/**
 * `if (full) execlp(a…); else execlp(b…);`: an exec in each branch, under a condition the parent evaluates as the
 * child would. Each branch records its own actions and ends in its own fork_before_exec (an exec entry).
 */
export function execInBoth(p: Planner, condition: Node, consequence: Node, alternative: Node): typeof BRANCHED | null {
  if (!pureCondition(p, condition)) return null;
  // a branch that does what has no action before its exec (dcron's `if (!SendMail) { fdprintlogf(…); execl(…); }`)
  // cancels on that path only, as recordBranch's: the parent knows which branch the child takes
  const dropped: string[] = [];
  const branch = (node: Node): ActionEntry[] => {
    const before = snapshot(p);
    const list = recordPath(
      p,
      () => {
        const found = p.untilExec(statementsOf(node));
        if (found && found !== BRANCHED) p.actions.push({ exec: found });
      },
      'a conditional in the child computes memory: only actions may depend on a condition',
    );
    if (p.blockers.length === before.blockers) return list;
    dropped.push(...p.blockers.slice(before.blockers));
    restore(p, before);
    return [CANCEL];
  };
  const then = branch(consequence);
  const otherwise = branch(alternative);
  // no branch starts its program: the site is left, for what its branches do
  if (dropped.length && !startsIn(then) && !startsIn(otherwise)) {
    dropped.forEach((why) => p.block(why));
    return null;
  }
  p.actions.push({ condition: p.text(condition), then, otherwise });
  return BRANCHED;
}

/** Does an action list start a program on some path (an exec leaf)? */
function startsIn(list: ActionEntry[]): boolean {
  return list.some(
    (e) =>
      typeof e !== 'string' &&
      ('exec' in e ||
        ('condition' in e && (startsIn(e.then) || startsIn(e.otherwise))) ||
        ('loop' in e && startsIn(e.body)) ||
        ('preprocessor' in e && e.preprocessor.some((part) => startsIn(part.body)))),
  );
}
