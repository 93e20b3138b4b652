import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';

/** Stable error codes: match on `error.code`, never on the message. */
export type ForkExecErrorCode =
  | 'FORKEXEC_INVALID_ARGUMENT'
  | 'FORKEXEC_INVALID_ACTION'
  | 'FORKEXEC_UNSUPPORTED_ACTION'
  | 'FORKEXEC_SPAWN'
  | 'FORKEXEC_EXIT'
  | 'FORKEXEC_TIMEOUT'
  | 'FORKEXEC_ABORTED'
  | 'FORKEXEC_MAX_BUFFER'
  | 'FORKEXEC_BACKEND_LOAD'
  | 'FORKEXEC_BACKEND_UNAVAILABLE'
  | 'FORKEXEC_NOT_TRANSFORMED';

export interface ForkExecErrorDetails {
  /** The command line, for messages and logs. */
  command?: string;
  /** errno name (`ENOENT`, `EACCES`, ...) where the OS gave one. */
  errno?: string;
  /** Index of the failing entry of `actions`. */
  actionIndex?: number;
  /** What the caller should do about it. */
  hint?: string;
  cause?: unknown;
}

/** Marks forkexec errors in every copy of the package and every realm (the global symbol registry is shared). */
const BRAND = Symbol.for('forkexec.error');

/** Base class of every error forkexec throws or rejects with. */
export class ForkExecError extends Error {
  static {
    Object.defineProperty(this.prototype, BRAND, { value: true });
  }

  readonly code: ForkExecErrorCode;
  readonly errno?: string;
  readonly command?: string;
  readonly actionIndex?: number;
  readonly hint?: string;

  constructor(code: ForkExecErrorCode, message: string, details: ForkExecErrorDetails = {}) {
    const { command, errno, actionIndex, hint, cause } = details;
    const parts = [message];
    if (command !== undefined) parts.push(`command: ${command}`);
    if (hint !== undefined) parts.push(hint);
    super(parts.join('\n'), cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    if (errno !== undefined) this.errno = errno;
    if (command !== undefined) this.command = command;
    if (actionIndex !== undefined) this.actionIndex = actionIndex;
    if (hint !== undefined) this.hint = hint;
  }
}

/**
 * Whether `value` is an error forkexec made, also when it comes from another copy or version of this package or
 * another realm, where `instanceof ForkExecError` cannot see it (as execa's isExecaError).
 */
export function isForkExecError(value: unknown): value is ForkExecError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

export class InvalidArgumentError extends ForkExecError {
  constructor(message: string, details?: ForkExecErrorDetails) {
    super('FORKEXEC_INVALID_ARGUMENT', message, details);
  }
}

export class InvalidActionError extends ForkExecError {
  constructor(index: number, message: string, details?: ForkExecErrorDetails) {
    super('FORKEXEC_INVALID_ACTION', `actions[${index}]: ${message}`, { ...details, actionIndex: index });
  }
}

export class UnsupportedActionError extends ForkExecError {
  constructor(index: number, message: string, details?: ForkExecErrorDetails) {
    super('FORKEXEC_UNSUPPORTED_ACTION', `actions[${index}]: ${message}`, { ...details, actionIndex: index });
  }
}

/** The program could not be started: not found, not executable, exec failed. */
export class SpawnError extends ForkExecError {
  constructor(message: string, details?: ForkExecErrorDetails) {
    super('FORKEXEC_SPAWN', message, details);
  }
}

export class BackendLoadError extends ForkExecError {
  constructor(message: string, details?: ForkExecErrorDetails) {
    super('FORKEXEC_BACKEND_LOAD', message, details);
  }
}

export class BackendUnavailableError extends ForkExecError {
  constructor(message: string, details?: ForkExecErrorDetails) {
    super('FORKEXEC_BACKEND_UNAVAILABLE', message, details);
  }
}

/** `fork()` or `exec*()` of `@forkexec/core/posix` ran without the codemod transform. */
export class NotTransformedError extends ForkExecError {
  constructor(call: string) {
    super(
      'FORKEXEC_NOT_TRANSFORMED',
      `${call} cannot run inside Node: a forked Node child dies as soon as it runs JavaScript`,
      {
        hint: 'Rewrite the fork()+exec*() pair into fork_before_exec(): add @forkexec/codemod/babel-plugin (or @forkexec/codemod/rollup) to your build, or run `npx forkexec codemod <files>`.',
      },
    );
  }
}

/** Name of an errno number as libuv reports it (`-2` or `2` → `ENOENT`). */
export function errnoName(errno: number): string {
  const abs = Math.abs(errno);
  for (const [name, value] of Object.entries(constants.errno)) if (value === abs) return name;
  // libuv's own codes on Windows (UV_EINVAL is -4071 there, UV_UNKNOWN -4094), which no C errno constant matches.
  const libuv = abs > 0 ? getSystemErrorName(-abs) : '';
  return /^(E[A-Z0-9]+|UNKNOWN)$/.test(libuv) ? libuv : `E${abs}`;
}

/** Short advice for the errno values a spawn can fail with. */
export function spawnHint(errno: string | undefined): string | undefined {
  switch (errno) {
    case 'ENOENT':
      return 'Check the program name and PATH, or pass an absolute path.';
    case 'EACCES':
      return 'The file is not executable for this user (or is a directory): check its mode with `ls -l`.';
    case 'ENOEXEC':
      return 'The file is not a binary the kernel can run: add a `#!` line or run it through its interpreter.';
    case 'E2BIG':
      return 'The arguments and environment together exceed the kernel limit (ARG_MAX): pass data through stdin or a file.';
    case 'EAGAIN':
      return 'The process limit was reached (RLIMIT_NPROC): wait for children to exit and retry.';
    case 'EMFILE':
    case 'ENFILE':
      return 'Out of file descriptors: close some or raise RLIMIT_NOFILE.';
    default:
      return undefined;
  }
}

/** Fields of a finished run that a SubprocessError carries (the same as the Result). */
export interface SubprocessErrorFields {
  command: string;
  escapedCommand: string;
  cwd: string;
  pid: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string | Buffer | string[];
  stderr: string | Buffer | string[];
  all?: string | Buffer | string[];
  durationMs: number;
  backend: string;
  timedOut: boolean;
  isCanceled: boolean;
  isTerminated: boolean;
  isMaxBuffer: boolean;
  signalDescription?: string;
}

export type SubprocessErrorCode = 'FORKEXEC_EXIT' | 'FORKEXEC_TIMEOUT' | 'FORKEXEC_ABORTED' | 'FORKEXEC_MAX_BUFFER';

/** The child ran but failed: non-zero exit, a signal, a timeout, an abort, or too much output. */
export class SubprocessError extends ForkExecError implements SubprocessErrorFields {
  declare readonly pid: number | undefined;
  declare readonly exitCode: number | null;
  declare readonly signal: NodeJS.Signals | null;
  declare readonly stdout: string | Buffer | string[];
  declare readonly stderr: string | Buffer | string[];
  declare readonly durationMs: number;
  declare readonly backend: string;
  declare readonly timedOut: boolean;
  declare readonly isCanceled: boolean;
  declare readonly isTerminated: boolean;
  declare readonly isMaxBuffer: boolean;
  declare readonly signalDescription?: string;
  declare readonly escapedCommand: string;
  declare readonly cwd: string;
  declare readonly command: string;
  /** The message without the output. */
  readonly shortMessage: string;

  constructor(
    code: SubprocessErrorCode,
    message: string,
    fields: SubprocessErrorFields,
    hint?: string,
    cause?: unknown,
  ) {
    // The output follows, as execa shows it: stderr then stdout, the end of each when long.
    const tail = [fields.stderr, fields.stdout]
      .map((output) => (Array.isArray(output) ? output.join('\n') : String(output)).trim())
      .filter(Boolean)
      .map((output) => `\n${output.length > 2000 ? `…${output.slice(-2000)}` : output}`)
      .join('');
    // The message starts with the command: it is not repeated on a line of its own.
    super(code, message + tail, { hint, cause });
    this.shortMessage = message;
    Object.assign(this, fields);
  }
}
