import { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { SpawnedChild } from '../backend.js';
import { signalNameOf, signalNumberOf, spawnErrno } from './node-errors.js';

type Stdio = (Readable | Writable | null)[];

/**
 * A child started by a forkexec backend, with the face of Node's ChildProcess: the same fields,
 * methods and events in the same order ('spawn', then 'exit' once it ended, then 'close' once its
 * output streams closed too), and `instanceof ChildProcess`.
 */
export class ForkExecChildProcess extends EventEmitter {
  pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly stdio: Stdio;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  connected = false;
  /** Node's `subprocess.channel` for a forked child (set by setupChannel), else undefined. */
  channel: unknown = undefined;
  readonly spawnfile: string;
  readonly spawnargs: string[];
  /** The backend's child until it exited (Node drops its process handle then too). */
  #child: SpawnedChild | null;
  #closesNeeded = 1;
  #closesGot = 0;
  /** 'spawn' was emitted, or the start failed and it never will be. */
  #announced = false;
  /** How the child ended, when it did before that. */
  #pendingEnd: (() => void) | undefined;

  /**
   * `execed`: for a backend whose child exists before its exec (a helper), settles once the exec
   * worked or failed; 'spawn' waits for it, as Node never tells 'spawn' for a start that fails.
   */
  constructor(
    child: SpawnedChild,
    spawnfile: string,
    spawnargs: string[],
    extraSlots: number,
    execed?: Promise<unknown>,
  ) {
    super();
    this.#child = child;
    this.pid = child.pid;
    this.spawnfile = spawnfile;
    this.spawnargs = spawnargs;
    this.stdin = child.stdin;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    this.stdio = [child.stdin, child.stdout, child.stderr, ...Array<null>(extraSlots).fill(null)];
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      this.#closesNeeded++;
      stream.once('close', () => this.#maybeClose());
    }
    // The end is taken at once: exitCode must be set before stdin is destroyed (by us or by the
    // backend cleaning up after it), as in Node. Its events come on a later tick (a listener that
    // throws is an uncaught exception, as in Node, not a rejection), after 'spawn'.
    child.exited.then(
      ({ exitCode, signal }) => this.#end(this.#exited(exitCode, signal)),
      (error: { errno?: string }) => this.#end(this.#failed(error)),
    );
    const announce = (spawned: boolean) => {
      if (spawned) this.emit('spawn');
      this.#announced = true;
      this.#pendingEnd?.();
    };
    if (!execed) process.nextTick(announce, true);
    else
      execed.then(
        () => process.nextTick(announce, true),
        () => process.nextTick(announce, false),
      );
  }

  /**
   * Tells the end on the next tick, or when it came before 'spawn', a full turn of the loop after
   * 'spawn' (as in Node, where they come from separate callbacks): a caller that awaits 'spawn'
   * and then listens for 'close' must not miss it.
   */
  #end(tell: () => void): void {
    if (this.#announced) process.nextTick(() => this.#tell(tell));
    else this.#pendingEnd = () => setImmediate(() => this.#tell(tell));
  }

  #tell(emit: () => void): void {
    emit();
    process.nextTick(() => this.#flushStdio());
    this.#maybeClose();
  }

  #exited(exitCode: number | null, signal: NodeJS.Signals | null): () => void {
    if (signal) this.signalCode = signal;
    else this.exitCode = exitCode;
    this.stdin?.destroy();
    this.#child = null;
    return () => this.emit('exit', this.exitCode, this.signalCode);
  }

  /** A start the backend reported failed after `spawn` returned: told as Node tells it. */
  #failed(error: { errno?: string }): () => void {
    const failure = spawnErrno(error.errno ?? 'UNKNOWN', this.spawnfile, this.spawnargs.slice(1));
    this.pid = undefined; // a helper's, which never became the program
    this.exitCode = failure.errno;
    this.stdin?.destroy();
    this.#child = null;
    return () => this.emit('error', failure);
  }

  /** Output nobody reads must still flow, or the streams would never close (and 'close' never come). */
  #flushStdio(): void {
    for (const stream of this.stdio) if (stream && (stream as Readable).readable) (stream as Readable).resume();
  }

  /** One more thing 'close' waits for (a forked child's IPC channel); call the returned function once it closed. */
  holdClose(): () => void {
    this.#closesNeeded++;
    return () => this.#maybeClose();
  }

  #maybeClose(): void {
    if (++this.#closesGot === this.#closesNeeded) this.emit('close', this.exitCode, this.signalCode);
  }

  kill(signal?: NodeJS.Signals | number): boolean {
    const number = signal === 0 ? 0 : signalNumberOf(signal ?? 'SIGTERM');
    if (!this.#child) return false;
    if (!this.#child.kill(number === 0 ? 0 : (signalNameOf(number) ?? number))) return false;
    this.killed = true;
    return true;
  }

  ref(): void {
    this.#child?.ref?.();
  }

  unref(): void {
    this.#child?.unref?.();
  }

  [Symbol.dispose](): void {
    if (!this.killed) this.kill();
  }
}

// instanceof ChildProcess holds; every method Node's prototype has that a child without IPC uses is overridden above.
Object.setPrototypeOf(ForkExecChildProcess.prototype, ChildProcess.prototype);
