/** Errors as Node's child_process makes them (same class, code, message and fields). */
import { constants } from 'node:os';

const SIGNALS = constants.signals as Record<string, number>;
const SIGNAL_NUMBERS = new Set(Object.values(SIGNALS));

type NodeError<T extends Error> = T & { code: string };

function withCode<T extends Error>(error: T, code: string): NodeError<T> {
  return Object.assign(error, { code });
}

/** Node's ERR_UNKNOWN_SIGNAL. */
function unknownSignal(signal: unknown): NodeError<TypeError> {
  return withCode(new TypeError(`Unknown signal: ${String(signal)}`), 'ERR_UNKNOWN_SIGNAL');
}

/** A signal name (any case) or number as Node accepts it, as its number; throws Node's error otherwise. */
export function signalNumberOf(signal: unknown): number {
  if (typeof signal === 'number' && SIGNAL_NUMBERS.has(signal)) return signal;
  if (typeof signal === 'string') {
    const number = SIGNALS[signal.toUpperCase()];
    if (number !== undefined) return number;
  }
  throw unknownSignal(signal);
}

/** The name of a signal number, as `signalCode` holds it. */
export function signalNameOf(number: number): NodeJS.Signals | undefined {
  return Object.keys(SIGNALS).find((name) => SIGNALS[name] === number) as NodeJS.Signals | undefined;
}

/** Node's AbortError: what spawn emits when its `signal` aborts. */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, options);
    this.name = 'AbortError';
  }
}

export interface SpawnErrnoException extends Error {
  errno: number;
  code: string;
  syscall: string;
  path: string;
  spawnargs: string[];
}

/**
 * The error a ChildProcess emits when its program could not start (`spawn FILE ENOENT`), or
 * spawnSync's result holds (`spawnSync FILE ETIMEDOUT`).
 */
export function spawnErrno(errnoName: string, file: string, args: string[], call = 'spawn'): SpawnErrnoException {
  const number = (constants.errno as Record<string, number>)[errnoName];
  const syscall = `${call} ${file}`;
  const error = new Error(`${syscall} ${errnoName}`) as SpawnErrnoException;
  error.errno = number === undefined ? -4094 : -number; // UV_UNKNOWN for a name libuv would not know
  error.code = errnoName;
  error.syscall = syscall;
  error.path = file;
  error.spawnargs = args;
  return error;
}

/** Node's ERR_CHILD_PROCESS_STDIO_MAXBUFFER. */
export function maxBufferError(stream: 'stdout' | 'stderr'): NodeError<RangeError> {
  return withCode(new RangeError(`${stream} maxBuffer length exceeded`), 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
}
