/**
 * `subprocess.pipe()`, as execa 9's: the source's stdout (or stderr) into the destination's stdin,
 * like a shell pipe with pipefail. Both are awaited; the destination's failure wins over the
 * source's, and the result (or error) lists the source's in `pipedFrom`. When one side ends, the
 * other is not killed: the destination's stdin reaches its end, the source's writes get EPIPE.
 */
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError } from './errors.js';
import type { Options, Result } from './options.js';

/** What pipe() needs of a subprocess (Subprocess implements it). */
export interface Pipeable extends PromiseLike<Result<string | Buffer | string[]>> {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

/** How `pipe()` connects: which stream of the source goes into the destination's stdin. */
export interface PipeOptions {
  /** The source's stream piped (default 'stdout'). */
  from?: 'stdout' | 'stderr';
}

/** The destination's result, with the results (or errors) of what was piped into it, nearest last. */
export type PipedResult<Out extends string | Buffer | string[] = string> = Result<Out> & { pipedFrom: unknown[] };

/** The destination's promise; `.pipe()` on it pipes the destination further. */
export interface PipePromise<Out extends string | Buffer | string[] = string> extends Promise<PipedResult<Out>> {
  pipe: PipeFunction;
}

export interface PipeFunction {
  <D extends Pipeable>(destination: D, options?: PipeOptions): PipePromise<ResultOf<D>>;
  (file: string, args?: readonly string[], options?: Options & PipeOptions): PipePromise<string>;
  (file: string, options?: Options & PipeOptions): PipePromise<string>;
}

type ResultOf<D> = D extends PromiseLike<Result<infer Out>> ? Out : string;

/** Starts a destination given by file name. */
export type Starter = (file: string, args: readonly string[], options: Options) => Pipeable;

let forkBeforeExec: Starter | undefined;
/** forkBeforeExec's module hands it in as it loads (importing it here would make a cycle: it creates Subprocesses). */
export function setPipeStarter(start: Starter): void {
  forkBeforeExec = start;
}

const STREAMS = ['stdout', 'stderr'];

/**
 * Pipes `source` into a destination: a subprocess already started with stdin 'pipe', or `file`
 * started by forkBeforeExec (with stdin 'pipe'). `sourceResult` is what the source settles with.
 */
export function pipeFrom(
  source: Pipeable,
  sourceResult: PromiseLike<unknown>,
  target: unknown,
  argsOrOptions?: unknown,
  maybeOptions?: unknown,
): PipePromise<string | Buffer | string[]> {
  let destination: Pipeable | undefined;
  let from: unknown = 'stdout';
  let failure: unknown;
  try {
    if (typeof target === 'string') {
      const optionsFirst = !Array.isArray(argsOrOptions) && typeof argsOrOptions === 'object' && argsOrOptions !== null;
      const args = optionsFirst || argsOrOptions === undefined ? [] : argsOrOptions;
      const { from: stream = 'stdout', ...options } = ((optionsFirst ? argsOrOptions : maybeOptions) ?? {}) as Options &
        PipeOptions;
      from = stream;
      if (options.input !== undefined || (options.stdin ?? 'pipe') !== 'pipe')
        throw new InvalidArgumentError('pipe(): the destination’s stdin is the pipe, so it takes no input or stdin');
      destination = forkBeforeExec!(target, args as readonly string[], { ...options, stdin: 'pipe' });
    } else if (isPipeable(target)) {
      destination = target;
      from = (argsOrOptions as PipeOptions | undefined)?.from ?? 'stdout';
    } else {
      throw new InvalidArgumentError(
        `pipe() takes a subprocess or a file name, got ${target === null ? 'null' : typeof target}`,
      );
    }
    if (!STREAMS.includes(from as string))
      throw new InvalidArgumentError(`pipe(): from must be 'stdout' or 'stderr', got ${String(from)}`);
    if (!destination.stdin)
      throw new InvalidArgumentError("pipe(): the destination’s stdin is not a pipe: start it with stdin: 'pipe'");
  } catch (error) {
    failure = error;
  }
  const output = source[from as 'stdout' | 'stderr'];
  // A source that failed to start has no streams: its own failure, when it has one, says why.
  const noOutput = failure === undefined && !output;
  if (noOutput) failure = new InvalidArgumentError(`pipe(): the source’s ${String(from)} is not a pipe`);
  if (failure === undefined) {
    const stdin = destination!.stdin!;
    output!.pipe(stdin);
    // The destination's stdin closed (it ended, or the destination exited): the source's next write
    // gets EPIPE or SIGPIPE, as in a shell, instead of blocking on a pipe nobody reads.
    stdin.once('close', () => output!.destroy());
  } else if (destination?.stdin && !destination.stdin.writableEnded) destination.stdin.end();
  const promise = bothSettled(sourceResult, destination, failure, noOutput) as PipePromise<string | Buffer | string[]>;
  promise.pipe = ((...args: unknown[]) =>
    destination
      ? pipeFrom(destination, promise, ...(args as [unknown]))
      : pipeFrom(source, promise, ...(args as [unknown]))) as PipeFunction;
  return promise;
}

function isPipeable(value: unknown): value is Pipeable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Pipeable).then === 'function' &&
    'stdin' in value &&
    'stdout' in value
  );
}

/** Like a shell with pipefail: both awaited, the destination's failure first, pipedFrom on what is returned or thrown. */
async function bothSettled(
  sourceResult: PromiseLike<unknown>,
  destination: Pipeable | undefined,
  failure: unknown,
  sourceFailureFirst: boolean,
): Promise<PipedResult<string | Buffer | string[]>> {
  const [source, target] = await Promise.allSettled([sourceResult, destination ?? Promise.reject(failure)]);
  const sourceValue = source.status === 'fulfilled' ? source.value : source.reason;
  if (failure !== undefined) throw sourceFailureFirst && source.status === 'rejected' ? source.reason : failure;
  const targetValue = (target.status === 'fulfilled' ? target.value : target.reason) as { pipedFrom?: unknown[] };
  if (typeof targetValue === 'object' && targetValue !== null) {
    targetValue.pipedFrom ??= [];
    if (!targetValue.pipedFrom.includes(sourceValue)) targetValue.pipedFrom.push(sourceValue);
  }
  if (target.status === 'rejected') throw targetValue;
  if (source.status === 'rejected') throw sourceValue;
  return targetValue as PipedResult<string | Buffer | string[]>;
}
