import { constants as fsConstants, fstatSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { InvalidActionError, InvalidArgumentError } from './errors.js';
import { describe } from './validate-options.js';

export type SignalSpec = NodeJS.Signals | number;
/** Node's flag strings (`'r'`, `'w'`, `'a+'`, ...) or a number made of `fs.constants.O_*`. */
export type OpenFlags = string | number;
export type RlimitResource =
  'core' | 'cpu' | 'data' | 'fsize' | 'nofile' | 'stack' | 'as' | 'nproc' | 'memlock' | 'rss';

/** One step the child takes between fork and exec. Order matters and is kept. */
export type Action =
  | { op: 'dup2'; from: number; to: number }
  | { op: 'close'; fd: number }
  | { op: 'open'; fd: number; path: string; flags?: OpenFlags; mode?: number }
  | { op: 'chdir'; path: string }
  | { op: 'setsid' }
  | { op: 'setpgid'; pgid: number }
  | { op: 'umask'; mask: number }
  | { op: 'sigdefault'; signals: SignalSpec[] | 'all' }
  | { op: 'sigignore'; signals: SignalSpec[] }
  | { op: 'sigmask'; signals: SignalSpec[] }
  | { op: 'closefrom'; fd: number }
  | { op: 'setuid'; uid: number }
  | { op: 'setgid'; gid: number }
  | { op: 'setgroups'; groups: number[] }
  | { op: 'setrlimit'; resource: RlimitResource; soft: number; hard: number }
  | { op: 'nice'; inc: number };

export type ActionOp = Action['op'];

export const ACTION_OPS: readonly ActionOp[] = [
  'dup2',
  'close',
  'open',
  'chdir',
  'setsid',
  'setpgid',
  'umask',
  'sigdefault',
  'sigignore',
  'sigmask',
  'closefrom',
  'setuid',
  'setgid',
  'setgroups',
  'setrlimit',
  'nice',
];

export const RLIMIT_RESOURCES: readonly RlimitResource[] = [
  'core',
  'cpu',
  'data',
  'fsize',
  'nofile',
  'stack',
  'as',
  'nproc',
  'memlock',
  'rss',
];

/** Largest fd number accepted (Linux's default nr_open). */
export const MAX_FD = 1_048_575;

const OPEN_FLAG_STRINGS: Record<string, number> = (() => {
  const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_SYNC } = fsConstants;
  const w = O_WRONLY | O_CREAT | O_TRUNC;
  const a = O_WRONLY | O_CREAT | O_APPEND;
  return {
    r: O_RDONLY,
    'r+': O_RDWR,
    'rs+': O_RDWR | O_SYNC,
    w,
    wx: w | O_EXCL,
    'w+': O_RDWR | O_CREAT | O_TRUNC,
    'wx+': O_RDWR | O_CREAT | O_TRUNC | O_EXCL,
    a,
    ax: a | O_EXCL,
    as: a | O_SYNC,
    'a+': O_RDWR | O_CREAT | O_APPEND,
    'ax+': O_RDWR | O_CREAT | O_APPEND | O_EXCL,
  };
})();

/** The numeric `O_*` flags an `open` action stands for. */
export function openFlagsNumber(flags: OpenFlags | undefined): number {
  if (flags === undefined) return fsConstants.O_RDONLY;
  return typeof flags === 'number' ? flags : OPEN_FLAG_STRINGS[flags];
}

/** Signal number of a name or number (validated beforehand). */
export function signalNumber(signal: SignalSpec): number {
  return typeof signal === 'number' ? signal : (osConstants.signals as Record<string, number>)[signal];
}

/** All catchable signal numbers of this platform, for `sigdefault: 'all'`. */
export function allSignalNumbers(): number[] {
  const { SIGKILL, SIGSTOP } = osConstants.signals;
  return [...new Set(Object.values(osConstants.signals))]
    .filter((n) => n !== SIGKILL && n !== SIGSTOP)
    .sort((a, b) => a - b);
}

function isFd(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_FD;
}

function isId(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0xfffffffe;
}

function hasNul(value: string): boolean {
  return value.includes('\0');
}

/** Whether `fd` is an open descriptor of this process. */
export function isOpenInParent(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks every action before anything runs and returns a normalized copy.
 * An error names the index of the action and what is wrong with it.
 * `dup2` sources must be open in the parent or made by an earlier action, and not closed by
 * an earlier `close` or `closefrom` (every backend would then fail with EBADF, or worse, not).
 * The child's fds 0-2 come from `stdio`, not from the parent's own 0-2, so they count as made.
 */
/** Whether `value` looks like one action given where an array of them was expected. */
function isActionLike(value: unknown): boolean {
  const op = (value as { op?: unknown } | null)?.op;
  return typeof op === 'string' && (ACTION_OPS as readonly string[]).includes(op);
}

export function validateActions(actions: unknown): Action[] {
  if (actions === undefined) return [];
  if (!Array.isArray(actions)) {
    const single = typeof actions === 'string' ? { op: actions } : actions;
    const guess = isActionLike(single) ? ` (did you mean [${JSON.stringify(single).slice(0, 80)}]?)` : '';
    throw new InvalidArgumentError(`option \`actions\` must be an array of actions, got ${describe(actions)}${guess}`);
  }
  const madeByActions = new Set<number>([0, 1, 2]);
  const closedBy = new Map<number, number>();
  let closedFrom: { fd: number; index: number } | undefined;
  const made = (fd: number) => {
    madeByActions.add(fd);
    closedBy.delete(fd);
  };
  return actions.map((raw, index) => {
    const action = validateAction(raw, index);
    if (action.op === 'dup2') {
      const closer = madeByActions.has(action.from)
        ? undefined
        : (closedBy.get(action.from) ?? (closedFrom && action.from >= closedFrom.fd ? closedFrom.index : undefined));
      if (closer !== undefined)
        throw new InvalidActionError(index, `dup2 source fd ${action.from} is not open: actions[${closer}] closed it`, {
          errno: 'EBADF',
        });
      if (!madeByActions.has(action.from) && !isOpenInParent(action.from))
        throw new InvalidActionError(index, `dup2 source fd ${action.from} is not open in the parent`, {
          errno: 'EBADF',
        });
      made(action.to);
    } else if (action.op === 'open') made(action.fd);
    else if (action.op === 'close') {
      madeByActions.delete(action.fd);
      closedBy.set(action.fd, index);
    } else if (action.op === 'closefrom') {
      for (const fd of madeByActions) if (fd >= action.fd) madeByActions.delete(fd);
      if (!closedFrom || action.fd <= closedFrom.fd) closedFrom = { fd: action.fd, index };
    }
    return action;
  });
}

function validateAction(raw: unknown, i: number): Action {
  if (typeof raw !== 'object' || raw === null)
    throw new InvalidActionError(i, `expected an action object, got ${String(raw)}`);
  const a = raw as Record<string, unknown>;
  const fail = (what: string): never => {
    throw new InvalidActionError(i, `${String(a.op)}: ${what}`);
  };
  const fd = (key: string) => {
    if (!isFd(a[key])) fail(`${key} must be a file descriptor number 0..${MAX_FD}, got ${String(a[key])}`);
    return a[key] as number;
  };
  const id = (key: string) => {
    if (!isId(a[key])) fail(`${key} must be a non-negative integer id, got ${String(a[key])}`);
    return a[key] as number;
  };
  const absolutePath = () => {
    const p = a.path;
    if (typeof p !== 'string' || p === '') fail('path must be a non-empty string');
    if (hasNul(p as string)) fail(`path contains a NUL byte: ${JSON.stringify(p)}`);
    if (!path.isAbsolute(p as string)) fail(`path must be absolute, got ${JSON.stringify(p)}`);
    return p as string;
  };
  const signals = (allowAll: boolean): SignalSpec[] | 'all' => {
    if (allowAll && a.signals === 'all') return 'all';
    if (!Array.isArray(a.signals))
      fail(`signals must be an array of signal names or numbers${allowAll ? " or 'all'" : ''}`);
    const known = osConstants.signals as Record<string, number>;
    const numbers = new Set(Object.values(known));
    for (const s of a.signals as unknown[]) {
      const ok = typeof s === 'string' ? s in known : Number.isInteger(s) && numbers.has(s as number);
      if (!ok) fail(`unknown signal ${String(s)}`);
    }
    return [...(a.signals as SignalSpec[])];
  };

  switch (a.op) {
    case 'dup2':
      return { op: 'dup2', from: fd('from'), to: fd('to') };
    case 'close':
      return { op: 'close', fd: fd('fd') };
    case 'closefrom':
      return { op: 'closefrom', fd: fd('fd') };
    case 'open': {
      const action: Action = { op: 'open', fd: fd('fd'), path: absolutePath() };
      if (a.flags !== undefined) {
        const ok =
          typeof a.flags === 'number'
            ? Number.isInteger(a.flags) && a.flags >= 0
            : typeof a.flags === 'string' && a.flags in OPEN_FLAG_STRINGS;
        if (!ok)
          fail(
            `flags must be one of ${Object.keys(OPEN_FLAG_STRINGS).join(', ')} or a number of O_* flags, got ${String(a.flags)}`,
          );
        action.flags = a.flags as OpenFlags;
      }
      if (a.mode !== undefined) {
        if (!Number.isInteger(a.mode) || (a.mode as number) < 0 || (a.mode as number) > 0o7777)
          fail(`mode must be an integer 0..0o7777, got ${String(a.mode)}`);
        action.mode = a.mode as number;
      }
      return action;
    }
    case 'chdir':
      return { op: 'chdir', path: absolutePath() };
    case 'setsid':
      return { op: 'setsid' };
    case 'setpgid':
      if (!('pgid' in a)) return { op: 'setpgid', pgid: 0 }; // a group of the child's own
      // Given as undefined, it is most often a pid read too early.
      if (a.pgid === undefined)
        fail(
          "pgid is undefined: omit it for a group of the child's own, or give a group id (a child started off the loop has its pid once `started` resolves)",
        );
      return { op: 'setpgid', pgid: id('pgid') };
    case 'umask':
      if (!Number.isInteger(a.mask) || (a.mask as number) < 0 || (a.mask as number) > 0o777)
        fail(`mask must be an integer 0..0o777, got ${String(a.mask)}`);
      return { op: 'umask', mask: a.mask as number };
    case 'sigdefault':
      return { op: 'sigdefault', signals: signals(true) };
    case 'sigignore':
      return { op: 'sigignore', signals: signals(false) as SignalSpec[] };
    case 'sigmask':
      return { op: 'sigmask', signals: signals(false) as SignalSpec[] };
    case 'setuid':
      return { op: 'setuid', uid: id('uid') };
    case 'setgid':
      return { op: 'setgid', gid: id('gid') };
    case 'setgroups':
      if (!Array.isArray(a.groups) || !a.groups.every(isId))
        fail('groups must be an array of non-negative integer ids');
      return { op: 'setgroups', groups: [...(a.groups as number[])] };
    case 'setrlimit': {
      if (!RLIMIT_RESOURCES.includes(a.resource as RlimitResource))
        fail(`resource must be one of ${RLIMIT_RESOURCES.join(', ')}, got ${String(a.resource)}`);
      const limit = (key: string) => {
        const v = a[key];
        if (v !== Infinity && !(Number.isInteger(v) && (v as number) >= 0))
          fail(`${key} must be a non-negative integer or Infinity, got ${String(v)}`);
        return v as number;
      };
      const soft = limit('soft');
      const hard = limit('hard');
      if (soft > hard) fail(`soft limit ${soft} exceeds hard limit ${hard}`);
      return { op: 'setrlimit', resource: a.resource as RlimitResource, soft, hard };
    }
    case 'nice':
      if (!Number.isInteger(a.inc) || Math.abs(a.inc as number) > 40)
        fail(`inc must be an integer -40..40, got ${String(a.inc)}`);
      return { op: 'nice', inc: a.inc as number };
    default:
      throw new InvalidActionError(i, `unknown op ${JSON.stringify(a.op)}; known ops: ${ACTION_OPS.join(', ')}`);
  }
}
