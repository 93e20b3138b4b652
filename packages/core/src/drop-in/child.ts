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
  readonly connected = false;
  readonly spawnfile: string;
  readonly spawnargs: string[];
  /** The backend's child until it exited (Node drops its process handle then too). */
  #child: SpawnedChild | null;
  #closesNeeded = 1;
  #closesGot = 0;
  #spawned = false;
  /** How the child ended, when it did before 'spawn' was emitted. */
  #pendingEnd: (() => void) | undefined;

  constructor(child: SpawnedChild, spawnfile: string, spawnargs: string[], extraSlots: number) {
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
    // throws is an uncaught exception, as in Node, not a rejection), and never before 'spawn'.
    child.exited.then(
      ({ exitCode, signal }) => this.#end(() => this.#exited(exitCode, signal)),
      (error: { errno?: string }) => this.#end(() => this.#failed(error)),
    );
    process.nextTick(() => {
      this.emit('spawn');
      this.#spawned = true;
      this.#pendingEnd?.();
    });
  }

  /** Takes the end (which returns how to tell it): now if 'spawn' was emitted, else right after it. */
  #end(take: () => () => void): void {
    if (!this.#spawned) this.#pendingEnd = () => this.#tell(take());
    else {
      const tell = take();
      process.nextTick(() => this.#tell(tell));
    }
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
    this.exitCode = failure.errno;
    this.stdin?.destroy();
    this.#child = null;
    return () => this.emit('error', failure);
  }

  /** Output nobody reads must still flow, or the streams would never close (and 'close' never come). */
  #flushStdio(): void {
    for (const stream of this.stdio) if (stream && (stream as Readable).readable) (stream as Readable).resume();
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
