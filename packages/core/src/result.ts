/** A run's Result and the error it fails with, built by the same code for forkBeforeExec and forkBeforeExecSync. */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { signalsByName } from 'human-signals';
import type { ExitStatus } from './backend.js';
import { SubprocessError, type SubprocessErrorCode, type SubprocessErrorFields } from './errors.js';
import type { Options, Result } from './options.js';
import { outputValue } from './output.js';

export const DEFAULT_MAX_BUFFER = 100_000_000;
const SIGNAL_DESCRIPTIONS = signalsByName as Partial<Record<string, { description: string }>>;

/** The args as the caller gave them, for the messages of a start that failed (they may be anything then). */
export function shownArgs(args: unknown): unknown[] {
  return Array.isArray(args) ? args : [];
}

/** What the result says of a run besides how it ended. */
export interface RunFacts {
  command: string;
  file: string;
  /** The arguments as the result shows them. */
  args: string[];
  options: Options;
  pid: number | undefined;
  /** Undefined when the start failed before a backend was chosen. */
  backend: string | undefined;
  /** performance.now() when the call began. */
  started: number;
}

/** How a child that ran ended, and what it wrote. */
export interface RunEnding extends ExitStatus {
  /** The chunks a stream brought, or null when it was not kept (not a pipe, or `buffer: false`). */
  stdout: Buffer[] | null;
  stderr: Buffer[] | null;
  /** With `all`: the chunks of both streams in the order they arrived. */
  all: Buffer[] | undefined;
  timedOut: boolean;
  isCanceled: boolean;
  /** The stream that went over maxBuffer first (the child was killed). */
  overflow: 'stdout' | 'stderr' | undefined;
}

/** The child's working directory as the result tells it. */
function resultCwd({ cwd }: Options): string {
  if (cwd !== undefined) return path.resolve(cwd instanceof URL ? fileURLToPath(cwd) : String(cwd));
  try {
    return process.cwd();
  } catch {
    return ''; // the parent's directory was removed
  }
}

/** The child's Result, or (unless `reject: false`) the SubprocessError thrown for a failure. */
export function endedResult<Out extends string | Buffer | string[]>(facts: RunFacts, ending: RunEnding): Result<Out> {
  const o = facts.options;
  const encoding = o.encoding ?? 'utf8';
  const strip = o.stripFinalNewline !== false;
  const lines = o.lines === true;
  const { exitCode, signal } = ending;
  // One literal in the result's key order, optional keys added in place: spreading them in the
  // middle of a literal sends V8 to its slow path on every call.
  const fields: SubprocessErrorFields & { all?: Out; signalDescription?: string } = {
    command: facts.command,
    escapedCommand: facts.command,
    cwd: resultCwd(o),
    pid: facts.pid,
    exitCode,
    signal,
    stdout: shownOutput<Out>(ending.stdout, encoding, strip, lines),
    stderr: shownOutput<Out>(ending.stderr, encoding, strip, lines),
    durationMs: performance.now() - facts.started,
    backend: facts.backend ?? '',
    timedOut: ending.timedOut,
    isCanceled: ending.isCanceled,
    isTerminated: signal !== null,
    isMaxBuffer: ending.overflow !== undefined,
  };
  if (ending.all) insertAfter(fields, 'stderr', 'all', shownOutput<Out>(ending.all, encoding, strip, lines));
  if (signal) fields.signalDescription = SIGNAL_DESCRIPTIONS[signal]?.description;
  const failure = failureOf(fields, ending.overflow, facts.options);
  if (failure && o.reject !== false) throw failure;
  const result = fields as unknown as Result<Out> & { shortMessage?: string };
  result.file = facts.file;
  result.args = facts.args;
  result.failed = failure !== undefined;
  if (failure) result.shortMessage = failure.shortMessage.split('\n')[0];
  return result;
}

/** A stream's output as the result shows it (`chunks` null: the stream was not kept). */
function shownOutput<Out>(
  chunks: Buffer[] | null,
  encoding: BufferEncoding | 'buffer',
  strip: boolean,
  lines: boolean,
): Out {
  if (chunks) return outputValue(chunks, encoding, strip, lines) as Out;
  return (lines ? [] : encoding === 'buffer' ? Buffer.alloc(0) : '') as Out;
}

/** Adds `key` right after `after`, keeping the keys' order (rare: only `all` needs it). */
function insertAfter(object: object, after: string, key: string, value: unknown): void {
  const entries = Object.entries(object);
  for (const [name] of entries) delete (object as Record<string, unknown>)[name];
  for (const [name, held] of entries) {
    (object as Record<string, unknown>)[name] = held;
    if (name === after) (object as Record<string, unknown>)[key] = value;
  }
}

function failureOf(
  f: SubprocessErrorFields,
  overflow: 'stdout' | 'stderr' | undefined,
  o: Options,
): SubprocessError | undefined {
  if (!overflow && !f.timedOut && !f.isCanceled && !f.signal && f.exitCode === 0) return undefined; // the usual end
  const fail = (code: SubprocessErrorCode, message: string, hint?: string, cause?: unknown) =>
    new SubprocessError(code, message, f, hint, cause);
  if (overflow)
    return fail(
      'FORKEXEC_MAX_BUFFER',
      `${f.command}: ${overflow} exceeded maxBuffer (${o.maxBuffer ?? DEFAULT_MAX_BUFFER} bytes); the child was killed`,
      'Raise maxBuffer, or read the stream yourself with buffer: false.',
    );
  if (f.timedOut)
    return fail(
      'FORKEXEC_TIMEOUT',
      `${f.command}: timed out after ${o.timeout} ms and was killed${f.signal ? ` with ${f.signal}` : ''}`,
    );
  if (f.isCanceled)
    return fail(
      'FORKEXEC_ABORTED',
      `${f.command}: aborted${f.signal ? `, killed with ${f.signal}` : ''}`,
      undefined,
      (o.cancelSignal ?? o.signal)?.reason,
    );
  if (f.signal) return fail('FORKEXEC_EXIT', `${f.command}: killed by ${f.signal}`);
  if (f.exitCode !== 0) return fail('FORKEXEC_EXIT', `${f.command}: exited with code ${f.exitCode}`);
  return undefined;
}

/**
 * A child that never ran: throws the start error, or with `reject: false` returns a failed result
 * carrying it (for a start the OS refused or an abort; a wrong argument is always thrown).
 */
export function notStartedResult<Out extends string | Buffer | string[]>(error: unknown, facts: RunFacts): Result<Out> {
  const code = (error as { code?: string })?.code;
  const o = facts.options;
  if (o.reject !== false || (code !== 'FORKEXEC_SPAWN' && code !== 'FORKEXEC_ABORTED')) throw error;
  const empty = (o.lines ? [] : o.encoding === 'buffer' ? Buffer.alloc(0) : '') as Out;
  return {
    command: facts.command,
    escapedCommand: facts.command,
    cwd: resultCwd(o),
    file: facts.file,
    args: facts.args,
    pid: facts.pid,
    exitCode: null,
    signal: null,
    stdout: empty,
    stderr: empty,
    durationMs: performance.now() - facts.started,
    backend: facts.backend ?? '',
    failed: true,
    timedOut: false,
    isCanceled: code === 'FORKEXEC_ABORTED',
    isTerminated: false,
    isMaxBuffer: false,
    shortMessage: (error as Error).message.split('\n')[0],
    code: (error as { errno?: string }).errno ?? code,
  };
}
