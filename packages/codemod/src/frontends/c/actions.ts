import type { Node } from './syntax-tree.js';
import { chain, unparen } from './syntax.js';

// What a child-side call becomes in the action list the parent records (forkexec.h), and how its failure reads.

const NULL_POINTER = /^\(\s*(?:const\s+|struct\s+)*[A-Za-z_]\w*\s*\*\s*\)\s*(?:0|NULL)$|^(?:0|NULL|nullptr)$/;

export function isNullPointer(text: string): boolean {
  return NULL_POINTER.test(text.trim());
}

/** Calls whose effect ends before the exec: `sched_yield()` gives up the CPU once. Nothing to record. */
export const ENDS_BEFORE_EXEC = new Set(['sched_yield']);

/** The forkexec_* call (with `fx` as the list) for a child call, or why there is none. */
export function actionFor(name: string, a: string[]): { action: string } | { blocker: string } {
  const action = (text: string) => ({ action: text });
  const blocker = (text: string) => ({ blocker: text });
  switch (name) {
    case 'close':
      return action(`forkexec_close(fx, ${a[0]})`);
    case 'close-checked': // `if (close(fd) < 0)`: fails with EBADF on a closed fd, as the child's close does
      return action(`forkexec_close_checked(fx, ${a[0]})`);
    case 'dup2':
      return action(`forkexec_dup2(fx, ${a[0]}, ${a[1]})`);
    case 'closefrom':
      return action(`forkexec_closefrom(fx, ${a[0]})`);
    case 'chdir':
    case 'fchdir':
    case 'setgid':
    case 'setuid':
    case 'umask':
      return action(`forkexec_${name}(fx, ${a[0]})`);
    case 'setsid':
      return action('forkexec_setsid(fx)');
    case 'setpgrp':
      return action('forkexec_setpgid(fx, 0)');
    case 'setpgid':
      if (!/^(?:0|getpid\(\))$/.test(a[0])) return blocker('setpgid() of another process than the child');
      return action(`forkexec_setpgid(fx, ${a[1] === 'getpid()' ? '0' : a[1]})`);
    case 'signal':
      if (a[1] === 'SIG_DFL') return action(`forkexec_sigdefault(fx, ${a[0]})`);
      if (a[1] === 'SIG_IGN') return action(`forkexec_sigignore(fx, ${a[0]})`);
      return blocker('signal() installs a handler in the child');
    case 'sigprocmask':
    case 'pthread_sigmask':
      // the old mask, when asked for, is the recorder's to handle (a write of the child's memory)
      if (!/^SIG_(?:SETMASK|BLOCK|UNBLOCK)$/.test(a[0]))
        return blocker(`${name}() with how ${a[0]}: only SIG_SETMASK, SIG_BLOCK and SIG_UNBLOCK have an action`);
      return a[0] === 'SIG_SETMASK'
        ? action(`forkexec_sigmask(fx, ${a[1]})`)
        : action(`forkexec_sigprocmask(fx, ${a[0]}, ${a[1]})`);
    case 'setgroups':
      return action(`forkexec_setgroups(fx, ${a[0]}, ${a[1]})`);
    case 'setreuid':
    case 'setregid':
    case 'setresuid':
    case 'setresgid':
    case 'initgroups': // the parent reads the group list (getgrouplist, as initgroups does), recorded as setgroups
      return action(`forkexec_${name}(fx, ${a.join(', ')})`);
    case 'setrlimit':
      return action(`forkexec_setrlimit(fx, ${a[0]}, ${a[1]})`);
    case 'nice':
      return action(`forkexec_nice(fx, ${a[0]})`);
    case 'setenv':
      if (a[2] === '0') return blocker('setenv() without overwrite');
      return action(`forkexec_setenv(fx, ${a[0]}, ${a[1]})`);
    case 'unsetenv':
      return action(`forkexec_unsetenv(fx, ${a[0]})`);
    case 'putenv': {
      // putenv("NAME=value") of a literal: the environment the exec passes is setenv's (the string stays the
      // child's, which exec discards)
      const literal = /^"([A-Za-z_][A-Za-z0-9_]*)=((?:[^"\\]|\\.)*)"$/.exec(a[0] ?? '');
      if (!literal) return blocker('putenv() of other than a literal NAME=value');
      return action(`forkexec_setenv(fx, "${literal[1]}", "${literal[2]}")`);
    }
    case 'sigaction':
      // the old action, when asked for, is the recorder's to handle (a write of the child's memory)
      return action(`forkexec_sigaction(fx, ${a[0]}, ${a[1]})`);
    case 'tcsetpgrp':
      if (a[1] !== 'getpgrp()') return blocker("tcsetpgrp() of another group than the child's own");
      return action(`forkexec_foreground(fx, ${a[0]})`);
    case 'fcntl':
      // F_SETFD sets the fd's flags word, whose one flag is FD_CLOEXEC: it decides which fds the exec keeps
      if (a[1] !== 'F_SETFD' || a.length !== 3) return blocker('fcntl() in the child: only F_SETFD has an action');
      return action(`forkexec_setfd(fx, ${a[0]}, ${a[2]})`);
    case 'ioctl':
      if (a[1] !== 'TIOCSCTTY' || a.length !== 3) return blocker('ioctl() in the child: only TIOCSCTTY has an action');
      return action(`forkexec_setctty(fx, ${a[0]}, ${a[2]})`);
    case 'open':
    case 'openat':
      return blocker(`${name}() in the child outside the open-onto-an-fd idiom`);
    default:
      return blocker(`${name}() in the child has no fork_before_exec action`);
  }
}

/** Calls that succeed with 0 (so `if (call)` and `!= 0` test failure too). */
const ZERO_ON_SUCCESS = new Set([
  'chdir',
  'fchdir',
  'setgid',
  'setuid',
  'setpgid',
  'setgroups',
  'setreuid',
  'setregid',
  'setresuid',
  'setresgid',
  'initgroups',
  'setrlimit',
  'setenv',
  'unsetenv',
  'sigprocmask',
  'pthread_sigmask',
  'sigaction',
  'tcsetpgrp',
]);

/**
 * What an action returns when it succeeds, as C text over its arguments (`ret = dup2(fd, 1);` leaves 1 in ret): on the
 * fast path every recorded action succeeded, a failure takes the slow path, where the original code tests it. Null:
 * the value is the child's own (setsid's session, umask's old mask) or a failure the action does not report (a close
 * of a closed fd).
 */
export function successValue(name: string, args: string[]): string | null {
  if (name === 'dup2' && args.length === 2) return args[1];
  if (name === 'fcntl') return args[1] === 'F_SETFD' && args.length === 3 ? '0' : null;
  return ZERO_ON_SUCCESS.has(name) ? '0' : null;
}

/**
 * One call a failure test makes: true exactly when the call fails (returns -1), made only when its guards (conditions
 * on memory, `do_stdin && dup2(fd, 0) == -1`) hold; target: the variable `(fd = open(...)) == -1` stores its result in.
 */
export interface FailureTest {
  call: Node;
  guards: Node[];
  target: Node | null;
  /** `dup(fd) != 1`: the fd the dup must land on (the lowest free one), else the child takes its failure branch. */
  lands?: string;
}

/**
 * `if (CALL(...) < 0) …` and its spellings whose condition is true exactly when the call fails (returns -1). On the
 * fast path a failed action takes the slow path, which runs the original check: the branch itself needs no recording.
 */
export function failureTest(condition: Node): Node | null {
  const first = failureTests(condition)?.[0];
  return first && !first.guards.length && !first.target ? first.call : null;
}

/**
 * The calls of a failure test in the order the child makes them: `if (dup2(a, 0) == -1 || dup2(b, 1) == -1)` makes
 * the second only when the first succeeded, and is true exactly when one of them fails. Null: not a failure test.
 */
export function failureTests(condition: Node): FailureTest[] | null {
  return chain(condition, '||', (c) => {
    const one = singleFailureTest(c);
    return one ? [one] : null;
  });
}

function singleFailureTest(c: Node): FailureTest | null {
  if (c.type === 'binary_expression' && c.childForFieldName('operator')?.type === '&&') {
    const left = unparen(c.childForFieldName('left')!);
    // `if (chdir(home) < 0 && chdir("/") < 0)`: true only when the first call failed, which takes the slow path
    const first = singleFailureTest(left);
    if (first) return first;
    // `if (do_stdin && dup2(fd, 0) == -1)`: the call is made when the guard holds
    const rest = singleFailureTest(unparen(c.childForFieldName('right')!));
    return rest && { ...rest, guards: [left, ...rest.guards] };
  }
  if (c.type === 'call_expression') return zeroOnSuccess(c) ? test(c) : null;
  if (c.type !== 'binary_expression') return null;
  const op = c.childForFieldName('operator')?.type;
  let left = unparen(c.childForFieldName('left')!);
  let right = unparen(c.childForFieldName('right')!);
  if ((op === '==' || op === '!=') && right.type === 'call_expression' && left.type !== 'call_expression')
    [left, right] = [right, left];
  const r = right.text.replace(/\s+/g, '');
  const minusOne = (op === '<' && r === '0') || (op === '==' && r === '-1');
  // `(fd = open(path, flags)) == -1`
  const stored = left.type === 'assignment_expression' && left.child(1)?.type === '=' ? left : null;
  const value = stored && unparen(stored.childForFieldName('right')!);
  if (stored && value?.type === 'call_expression' && minusOne)
    return { call: value, guards: [], target: stored.childForFieldName('left') };
  if (left.type !== 'call_expression') return null;
  const name = callName(left);
  if (minusOne) return test(left);
  if (op === '==' && r === 'SIG_ERR' && name === 'signal') return test(left);
  if (op === '!=' && r === '0' && zeroOnSuccess(left)) return test(left);
  // dup2 returns its second argument on success
  if (op === '!=' && name === 'dup2' && r === left.childForFieldName('arguments')?.namedChildren[1]?.text)
    return test(left);
  // screen's `close(1); if (dup(pi[1]) != 1) …`: true when the dup failed or landed elsewhere
  if (op === '!=' && name === 'dup' && /^(?:[0-9]+|STD(?:IN|OUT|ERR)_FILENO)$/.test(r))
    return { ...test(left), lands: r };
  return null;
}

/**
 * The calls of a success test, in the order the child makes them: `if (fcntl(a, F_SETFD, FD_CLOEXEC) == 0 &&
 * fcntl(b, F_SETFD, FD_CLOEXEC) == 0) execvp(…);` (abduco) is true exactly when every call succeeded, each made only
 * when the ones before it succeeded: the negation of a failure test. Recorded as actions, the branch is the fast
 * path's; its other side is reached only through a failure, which takes the slow path. Null: not a success test.
 */
export function successTests(condition: Node): Node[] | null {
  return chain(condition, '&&', singleSuccessTest);
}

function singleSuccessTest(c: Node): Node[] | null {
  // `!chdir(dir)`: true when it returned 0
  if (c.type === 'unary_expression' && c.child(0)?.type === '!') {
    const call = unparen(c.childForFieldName('argument')!);
    return call.type === 'call_expression' && zeroOnSuccess(call) ? [call] : null;
  }
  if (c.type !== 'binary_expression') return null;
  const op = c.childForFieldName('operator')?.type;
  const left = unparen(c.childForFieldName('left')!);
  const r = unparen(c.childForFieldName('right')!).text.replace(/\s+/g, '');
  if (left.type !== 'call_expression') return null;
  const zero = (op === '==' && r === '0' && zeroOnSuccess(left)) || (op === '>=' && r === '0');
  return zero || (op === '!=' && r === '-1') ? [left] : null;
}

/** Does this call return 0 when it succeeds? fcntl does for F_SETFD (F_GETFD returns the flags). */
function zeroOnSuccess(call: Node): boolean {
  const name = callName(call);
  if (name === 'fcntl') return call.childForFieldName('arguments')?.namedChildren[1]?.text === 'F_SETFD';
  return ZERO_ON_SUCCESS.has(name);
}

function test(call: Node): FailureTest {
  return { call, guards: [], target: null };
}

function callName(call: Node): string {
  return unparen(call.childForFieldName('function')!).text;
}
