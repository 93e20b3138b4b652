/**
 * A child of the posix backend as core sees it. Its pid may arrive later (the spawn runs on
 * libuv's threadpool): until then `kill`, `ref` and `unref` are remembered and applied once it
 * runs, and a failed start rejects `started` and `exited` and closes the streams.
 */
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { ExitStatus, SpawnedChild } from '@forkexec/core';
import type { Reaper } from './reaper.js';

interface ChildStreams {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

export class PosixChild implements SpawnedChild {
  pid: number | undefined = undefined;
  started: Promise<number> | undefined;
  readonly exited: Promise<ExitStatus>;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly #reaper: Reaper;
  #settleStart: { resolve(pid: number): void; reject(error: Error): void } | undefined;
  #settleExit!: { resolve(status: ExitStatus): void; reject(error: Error): void };
  #failed = false;
  /** The reaper's SIGCHLD count, taken in the call that started the child: none of its signals can have come yet (see Reaper.settle). */
  readonly #signalsBefore: number;
  #ref = true;
  readonly #signals: (NodeJS.Signals | number)[] = [];

  /** `deferred`: the pid comes later through `run` or `fail`; otherwise call `run` at once. */
  constructor(reaper: Reaper, streams: ChildStreams, deferred: boolean) {
    this.#reaper = reaper;
    this.#signalsBefore = reaper.signals;
    ({ stdin: this.stdin, stdout: this.stdout, stderr: this.stderr } = streams);
    this.exited = new Promise((resolve, reject) => (this.#settleExit = { resolve, reject }));
    if (deferred) {
      this.started = new Promise((resolve, reject) => (this.#settleStart = { resolve, reject }));
      this.started.catch(() => {}); // the caller hears of a failure through `exited`
    }
    if (this.stdin || this.stdout || this.stderr)
      this.exited.then(
        () => process.nextTick(() => this.#flushStdio()),
        () => {},
      );
  }

  /** The child runs as `pid`. */
  run(pid: number): void {
    this.pid = pid;
    this.#reaper.settle(pid, this.#settleExit, this.#signalsBefore);
    if (!this.#ref) this.#reaper.setRef(pid, false);
    this.#settleStart?.resolve(pid);
    for (const signal of this.#signals.splice(0)) this.kill(signal);
  }

  /** The child could not be started: nothing runs, the streams close. */
  fail(error: Error): void {
    this.#failed = true;
    for (const stream of [this.stdin, this.stdout, this.stderr]) stream?.destroy();
    this.#settleStart?.reject(error);
    this.#settleExit.reject(error);
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    if (this.pid === undefined) {
      if (this.#failed) return false;
      if (typeof signal === 'string' && !(signal in osConstants.signals))
        throw Object.assign(new TypeError(`Unknown signal: ${signal}`), { code: 'ERR_UNKNOWN_SIGNAL' }); // as process.kill says it
      this.#signals.push(signal); // sent as soon as the child runs
      return true;
    }
    return this.#reaper.kill(this.pid, signal);
  }

  ref(): void {
    this.#ref = true;
    if (this.pid !== undefined) this.#reaper.setRef(this.pid, true);
  }

  unref(): void {
    this.#ref = false;
    if (this.pid !== undefined) this.#reaper.setRef(this.pid, false);
  }

  /**
   * Once the child is gone, as child_process does: stdin has no reader left, and output nobody
   * reads is drained so that its pipe reaches EOF and closes instead of staying open forever.
   */
  #flushStdio(): void {
    this.stdin?.destroy();
    for (const stream of [this.stdout, this.stderr])
      if (
        stream &&
        stream.readable &&
        !stream.readableFlowing &&
        stream.listenerCount('data') === 0 &&
        stream.listenerCount('readable') === 0
      )
        stream.resume();
  }
}
