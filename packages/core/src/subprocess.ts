import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { ExitStatus, SpawnedChild, SpawnRequest } from './backend.js';
import { ForkExecError, isForkExecError, SpawnError } from './errors.js';
import type { Options, Result } from './options.js';
import { drained, OutputCollector, textEncoding } from './output.js';
import { pipeFrom, type PipeFunction } from './pipe.js';
import { explainFailure, formatCommand } from './request.js';
import { DEFAULT_MAX_BUFFER, endedResult, notStartedResult, shownArgs, type RunFacts } from './result.js';
import { checkSignal } from './validate-options.js';

const DEFAULT_FORCE_KILL_DELAY = 5000;
/** How long the output of a child killed for a timeout, an abort or maxBuffer may still take to arrive. */
const KILLED_OUTPUT_GRACE_MS = 200;

/** Settles when `work` does, or after KILLED_OUTPUT_GRACE_MS, whichever comes first. */
function withinGrace(work: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, KILLED_OUTPUT_GRACE_MS);
    void work.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

const NO_OUTPUTS = Object.freeze([null, null] as const);

export interface StartedChild {
  child: SpawnedChild;
  backend: string;
  /** What the backend was asked to run (its failures are retold with it, see explainFailure). */
  request: SpawnRequest;
}

/**
 * A running child: awaitable for its Result, with its pid, streams, kill() and line iteration.
 * Failures before the start arrive through the promise, never as a throw.
 */
export class Subprocess<Out extends string | Buffer | string[] = string>
  implements PromiseLike<Result<Out>>, AsyncIterable<string>
{
  readonly stdin: Writable | null = null;
  readonly stdout: Readable | null = null;
  readonly stderr: Readable | null = null;
  /** Name of the backend that runs the child (undefined when the start failed before choosing one). */
  readonly backend: string | undefined;
  readonly #promise: Promise<Result<Out>>;
  readonly #child: SpawnedChild | undefined;
  readonly #options: Options;
  /** The collectors of piped output, by stream (NO_OUTPUTS when no stream is collected). */
  #outputs: readonly [OutputCollector | null, OutputCollector | null] = NO_OUTPUTS;
  #forceKillTimer: NodeJS.Timeout | undefined;
  /** The timeout option's timer. */
  #timer: NodeJS.Timeout | undefined;
  #exited = false;

  readonly #file: string;
  /** The args as given, kept when the start failed (otherwise the request holds core's copy). */
  #args: unknown[] | undefined;
  #request: SpawnRequest | undefined;
  #started: Promise<number> | undefined;
  /** Why the child could not be started, when the constructor could not start it. */
  #startError: unknown;
  /** The last backend error retold, and how: `started` and the result reject with the same error. */
  #retold: { raw: unknown; explained: unknown } | undefined;

  constructor(file: string, args: unknown, options: Options, start: () => StartedChild) {
    this.#options = options;
    this.#file = file;
    const started = performance.now();
    let begun: StartedChild;
    const cancelSignal = options.cancelSignal ?? options.signal;
    try {
      if (cancelSignal?.aborted) {
        this.#args = shownArgs(args);
        throw this.#abortError(cancelSignal);
      }
      begun = start();
    } catch (error) {
      this.#args ??= shownArgs(args);
      this.#startError = error;
      this.#promise = new Promise((resolve) => resolve(notStartedResult(error, this.#facts(started))));
      this.#promise.catch(() => {}); // an unread failure to start is no unhandled rejection
      return;
    }
    const { child } = begun;
    this.#child = child;
    this.backend = begun.backend;
    this.#request = begun.request;
    this.stdin = child.stdin;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    this.#promise =
      child.stdin || child.stdout || child.stderr || options.timeout || cancelSignal
        ? this.#run(child, started)
        : this.#await(child, started);
  }

  /** The command line, quoted for a shell (the request's, or made from the args as given when the start failed). */
  get command(): string {
    return this.#request?.command ?? formatCommand(this.#file, this.#args!);
  }

  /**
   * Resolves with the pid once the child runs; rejects with the start error (which the subprocess
   * itself rejects with too). A backend that starts children off the event loop (ntdll's
   * posix_spawn path, unless `startOffLoop: false`) knows the pid a little after forkBeforeExec
   * returns; one whose pid exists before the exec (ntdll's clone path, helper-exe) resolves it
   * once the exec happened.
   */
  get started(): Promise<number> {
    // Made when first read: most callers never do, and each promise costs on the spawn path.
    if (!this.#started) {
      const child = this.#child;
      if (!child) {
        // The start error, also when `reject: false` turned it into a failed result.
        this.#started = Promise.reject(this.#startError);
      } else {
        const started =
          child.started ?? (child.pid === undefined ? child.exited.then(() => child.pid!) : Promise.resolve(child.pid));
        this.#started = started.catch((error: unknown) => {
          throw this.#explain(error);
        });
      }
      this.#started.catch(() => {});
    }
    return this.#started;
  }

  /** A backend's error, retold once with what core knows (see explainFailure). */
  #explain(error: unknown): unknown {
    let retold = this.#retold;
    if (!retold || retold.raw !== error)
      this.#retold = retold = { raw: error, explained: explainFailure(error, this.#request!) };
    return retold.explained;
  }

  /** The child's pid: undefined until it runs (see `started`), and when it could not be started. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  #abortError(signal: AbortSignal): ForkExecError {
    return new ForkExecError('FORKEXEC_ABORTED', `aborted before start: ${String(signal.reason)}`, {
      command: this.command,
      cause: signal.reason,
    });
  }

  /** What the result says besides how the child ended. */
  #facts(started: number): RunFacts {
    return {
      command: this.command,
      file: this.#file,
      args: this.#request?.argv.slice(1) ?? this.#args!.map(String),
      options: this.#options,
      pid: this.pid,
      backend: this.backend,
      started,
    };
  }

  /**
   * Sends `signal` (default: the killSignal option); escalates to SIGKILL after forceKillAfterDelay.
   * Throws FORKEXEC_INVALID_ARGUMENT for a signal Node does not know.
   */
  kill(signal: NodeJS.Signals | number = this.#options.killSignal ?? 'SIGTERM'): boolean {
    checkSignal(signal, 'kill() signal');
    if (!this.#child || this.#exited) return false;
    const sent = this.#child.kill(signal);
    const option = this.#options.forceKillAfterDelay ?? true;
    const delay = option === true ? DEFAULT_FORCE_KILL_DELAY : option;
    if (sent && delay !== false && signal !== 'SIGKILL' && signal !== 9 && !this.#forceKillTimer) {
      this.#forceKillTimer = setTimeout(() => this.#killQuietly('SIGKILL'), delay);
      this.#forceKillTimer.unref();
    }
    return sent;
  }

  /** kill() from a timer, a stream or an event: a failure there has no caller to reach, and the exit tells the story. */
  #killQuietly(signal?: NodeJS.Signals): void {
    try {
      if (signal) this.#child?.kill(signal);
      else this.kill();
    } catch {
      // the child is gone or the backend is stopping: its exit status or exited's rejection reports it
    }
  }

  /** Lets Node exit while the child runs (like ChildProcess#unref): its wait, timers and pipes stop holding the loop. */
  unref(): this {
    this.#child?.unref?.();
    this.#timer?.unref();
    for (const stream of [this.stdin, this.stdout, this.stderr]) (stream as Partial<Socket> | null)?.unref?.();
    return this;
  }

  /** Undoes unref(): Node waits for the child again. */
  ref(): this {
    this.#child?.ref?.();
    this.#timer?.ref();
    for (const stream of [this.stdin, this.stdout, this.stderr]) (stream as Partial<Socket> | null)?.ref?.();
    return this;
  }

  /**
   * A child with no stream, timer or signal to look after (the usual call with stdio ignored or
   * inherited): its exit is its result, without #run's bookkeeping (less code run per spawn).
   */
  #await(child: SpawnedChild, started: number): Promise<Result<Out>> {
    return child.exited.then(
      (status) => {
        this.#stopped();
        const o = this.#options;
        return endedResult(this.#facts(started), {
          exitCode: status.exitCode,
          signal: status.signal,
          stdout: null,
          stderr: null,
          all: o.all && o.buffer !== false ? [] : undefined, // as #run: `all` of no output
          timedOut: false,
          isCanceled: false,
          overflow: undefined,
        });
      },
      (raw: unknown) => {
        this.#stopped();
        return this.#notRun(raw, started);
      },
    );
  }

  /** The child is gone: kill() does nothing more, and no timer of ours runs. */
  #stopped(): void {
    this.#exited = true;
    // Guarded: most children had neither timer, and each call is one more function run per spawn.
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#forceKillTimer) clearTimeout(this.#forceKillTimer);
  }

  /** The result of a child the backend could not run (`raw`, its error), or that error thrown. */
  #notRun(raw: unknown, started: number): Result<Out> {
    const error = this.#explain(raw);
    return notStartedResult(
      isForkExecError(error)
        ? error
        : new SpawnError(String((error as Error)?.message ?? error), { command: this.command, cause: error }),
      this.#facts(started),
    );
  }

  async #run(child: SpawnedChild, started: number): Promise<Result<Out>> {
    const o = this.#options;
    const maxBuffer = o.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const cancelSignal = o.cancelSignal ?? o.signal;
    /** `all`: both streams' output in the order it arrived. */
    const all = o.all && o.buffer !== false ? ([] as Buffer[]) : undefined;
    /** The stream that went over maxBuffer first. */
    let overflow: 'stdout' | 'stderr' | undefined;
    let timedOut = false;
    let isCanceled = false;
    if (o.buffer !== false && (child.stdout || child.stderr)) {
      const onOverflow = (stream: 'stdout' | 'stderr') => () => {
        overflow ??= stream;
        this.#killQuietly();
      };
      this.#outputs = [
        child.stdout && new OutputCollector(child.stdout, maxBuffer, onOverflow('stdout'), all),
        child.stderr && new OutputCollector(child.stderr, maxBuffer, onOverflow('stderr'), all),
      ];
    }
    if (child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the child exits without reading: its exit status tells the story
      if (o.input !== undefined) child.stdin.end(o.input);
    }
    if (o.timeout) this.#timer = setTimeout(() => ((timedOut = true), this.#killQuietly()), o.timeout);
    // Made only with a signal to listen to (each closure costs on the spawn path).
    const onAbort = cancelSignal && (() => ((isCanceled = true), this.#killQuietly()));
    /** We killed the child: its output may be cut. */
    const killedByUs = () => timedOut || isCanceled || overflow !== undefined;
    if (onAbort) cancelSignal!.addEventListener('abort', onAbort, { once: true });

    let status: ExitStatus;
    try {
      status = await child.exited;
      const outputs = this.#outputsToWaitFor(child);
      // A child ended for a timeout, an abort or maxBuffer may leave its pipes open in a process it
      // started: its output is cut after a short grace instead of holding the result back.
      if (outputs) await (killedByUs() ? withinGrace(outputs) : outputs);
    } catch (raw) {
      for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
      return this.#notRun(raw, started);
    } finally {
      if (killedByUs()) for (const stream of [child.stdout, child.stderr]) stream?.destroy();
      this.#stopped();
      if (onAbort) cancelSignal!.removeEventListener('abort', onAbort);
    }

    return endedResult(this.#facts(started), {
      exitCode: status.exitCode,
      signal: status.signal,
      stdout: this.#outputs[0]?.chunks ?? null,
      stderr: this.#outputs[1]?.chunks ?? null,
      all,
      timedOut,
      isCanceled,
      overflow,
    });
  }

  /** What the result waits for once the child exited (nothing for output not piped, the common case). */
  #outputsToWaitFor(child: SpawnedChild): Promise<unknown> | undefined {
    const waits: Promise<void>[] = [];
    for (const collector of this.#outputs) if (collector && !collector.ended) waits.push(collector.done);
    // buffer: false: output the caller reads (piped, 'data' or 'readable' listeners, even paused
    // by backpressure) may still be on its way. A stream nobody ever read is not waited for.
    if (this.#options.buffer === false)
      for (const stream of [child.stdout, child.stderr])
        if (stream && stream.readableFlowing !== null) waits.push(drained(stream));
    return waits.length === 0 ? undefined : Promise.all(waits);
  }

  then<A = Result<Out>, B = never>(
    onFulfilled?: ((value: Result<Out>) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#promise.then(onFulfilled, onRejected);
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<Result<Out> | B> {
    return this.#promise.catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<Result<Out>> {
    return this.#promise.finally(onFinally);
  }

  /**
   * As execa 9's: this child's stdout (or `from: 'stderr'`) into the stdin of `destination`, a
   * subprocess started with stdin 'pipe', or of `forkBeforeExec(file, args, options)`. Resolves
   * with the destination's result, its `pipedFrom` holding this one's; rejects if either failed.
   */
  get pipe(): PipeFunction {
    // Made when read, not per subprocess: a closure per call cost about 1 us on the spawn path (cold).
    return ((...args: [unknown]) => pipeFrom(this, this, ...args)) as PipeFunction;
  }

  /** Lines of stdout (or stderr) as they arrive; throws at the end if the child failed. */
  async *lines(from: 'stdout' | 'stderr' = 'stdout'): AsyncGenerator<string> {
    const collector = this.#outputs[from === 'stdout' ? 0 : 1];
    const stream = from === 'stdout' ? this.stdout : this.stderr;
    if (collector) yield* collector.lines(textEncoding(this.#options.encoding));
    else if (stream) for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) yield line;
    await this.#promise;
  }

  [Symbol.asyncIterator](): AsyncGenerator<string> {
    return this.lines('stdout');
  }

  /** `await using child = forkBeforeExec(...)`: kills the child if it still runs, and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#killQuietly();
    await this.#promise.catch(() => {});
  }
}
