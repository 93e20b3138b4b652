import { constants as osConstants } from 'node:os';
import { InvalidArgumentError } from './errors.js';
import type { Options } from './options.js';

/** A value as a message shows it: its type and a short form, never longer than about 80 characters. */
export function describe(value: unknown): string {
  let shown: string;
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'string') shown = JSON.stringify(value);
  else if (typeof value === 'function') shown = `function ${value.name || '(anonymous)'}`;
  else if (Array.isArray(value)) shown = `array [${value.length} items]`;
  else if (value !== null && typeof value === 'object') shown = `object ${value.constructor?.name ?? ''}`.trimEnd();
  else shown = `${typeof value} ${String(value)}`;
  return shown.length > 80 ? `${shown.slice(0, 60)}… (${shown.length} characters)` : shown;
}

/** setTimeout's largest delay: a longer one fires at once (Node warns TimeoutOverflowWarning). */
const MAX_DELAY = 2 ** 31 - 1;

const SIGNALS = osConstants.signals as Record<string, number>;
const SIGNAL_NUMBERS = new Set(Object.values(SIGNALS));

/** A signal as Node's kill() takes it: a name it knows or the number of one (0, "no signal", kills nothing). */
export function checkSignal(value: unknown, what: string): NodeJS.Signals | number {
  if (typeof value === 'string' && Object.hasOwn(SIGNALS, value)) return value as NodeJS.Signals;
  if (Number.isInteger(value) && SIGNAL_NUMBERS.has(value as number) && value !== 0) return value as number;
  const upper = typeof value === 'string' ? value.toUpperCase() : '';
  const guess = [upper, `SIG${upper}`].find((name) => Object.hasOwn(SIGNALS, name));
  throw new InvalidArgumentError(
    `${what} must be a signal name such as "SIGTERM" or its number, got ${describe(value)}${guess ? ` (did you mean "${guess}"?)` : ''}`,
  );
}

type Check = (value: unknown, name: string) => void;

const fail = (name: string, expected: string, value: unknown): never => {
  throw new InvalidArgumentError(`option \`${name}\` must be ${expected}, got ${describe(value)}`);
};

const boolean: Check = (v, name) => typeof v === 'boolean' || fail(name, 'a boolean', v);

/** A delay in milliseconds setTimeout can carry. */
const delay: Check = (v, name) =>
  (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= MAX_DELAY) ||
  fail(name, `a whole number of milliseconds from 0 to ${MAX_DELAY}`, v);

const abortSignal: Check = (v, name) =>
  v instanceof AbortSignal ||
  (typeof (v as AbortSignal)?.addEventListener === 'function' && typeof (v as AbortSignal).aborted === 'boolean') ||
  fail(name, 'an AbortSignal (from an AbortController)', v);

/** The options checked here, by name; the rest (env, stdio, cwd, argv0, actions, backend) are checked where they are read. */
const CHECKS: Partial<Record<keyof Options, Check>> = {
  extendEnv: boolean,
  detached: boolean,
  searchPath: boolean,
  buffer: boolean,
  stripFinalNewline: boolean,
  reject: boolean,
  startOffLoop: boolean,
  timeout: delay,
  forceKillAfterDelay: (v, name) => typeof v === 'boolean' || delay(v, name),
  maxBuffer: (v, name) =>
    v === Infinity || (Number.isSafeInteger(v) && (v as number) >= 0) || fail(name, 'a whole number of bytes ≥ 0', v),
  encoding: (v, name) =>
    v === 'buffer' ||
    (typeof v === 'string' && Buffer.isEncoding(v)) ||
    fail(name, "'buffer' or an encoding Node knows (utf8, utf16le, latin1, ascii, base64, base64url, hex)", v),
  killSignal: (v, name) => checkSignal(v, `option \`${name}\``),
  signal: abortSignal,
  cancelSignal: abortSignal,
  all: boolean,
  lines: boolean,
  preferLocal: boolean,
  input: (v, name) => typeof v === 'string' || v instanceof Uint8Array || fail(name, 'a string or a Uint8Array', v),
  backend: (v, name) =>
    typeof v === 'string' ||
    (typeof v === 'object' && v !== null) ||
    fail(name, 'a backend name, a package name or a Backend object', v),
  cwd: (v, name) =>
    typeof v === 'string' ||
    (v instanceof URL && v.protocol === 'file:') ||
    fail(name, 'a path or a file: URL', v instanceof URL ? v.href : v),
};

/** Checks the type and range of each option given (undefined means "not given"), before anything runs. */
export function validateOptions(options: unknown): Options {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options))
    throw new InvalidArgumentError(`options must be an object, got ${describe(options)}`);
  const o = options as Options & { shell?: unknown };
  // A plain object is checked by the keys it has (a handful) rather than all the checks' names:
  // each name it lacks is a lookup that misses up the prototype chain. Any other object (a class
  // instance may have getters on its prototype, which for-in does not list) by every name.
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype || proto === null) {
    for (const name in o) {
      const check = Object.hasOwn(CHECKS, name) ? CHECKS[name as keyof Options] : undefined;
      const value = check && o[name as keyof Options];
      if (value !== undefined) check!(value, name);
    }
  } else {
    for (const name in CHECKS) {
      const value = o[name as keyof Options];
      if (value !== undefined) CHECKS[name as keyof Options]!(value, name);
    }
  }
  // Options that each pass alone but not together, and `shell`, which forkBeforeExec never takes.
  if (o.shell)
    throw new InvalidArgumentError(
      'forkBeforeExec runs no shell: run one explicitly, forkBeforeExec("/bin/sh", ["-c", command]) (cmd.exe with ["/d", "/s", "/c", command] on Windows), or use exec() from @forkexec/core/child_process',
    );
  if (o.lines && o.encoding === 'buffer')
    throw new InvalidArgumentError("lines gives text: it cannot go with encoding: 'buffer'");
  if (o.cancelSignal && o.signal && o.cancelSignal !== o.signal)
    throw new InvalidArgumentError('cancelSignal and signal are the same option: give one of them');
  return o;
}
