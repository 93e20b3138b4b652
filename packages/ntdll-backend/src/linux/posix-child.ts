/**
 * A child of the posix backend as core sees it. Its pid may arrive later (the spawn runs on
 * libuv's threadpool): until then `kill`, `ref` and `unref` are remembered and applied once it
 * runs, and a failed start rejects `started` and `exited` and closes the streams.
 */
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { ExitStatus, SpawnedChild } from '@forkexec/core';
import { flushChildStdio } from '@forkexec/core/backend-kit';
import { hasExeced, releaseSlot, type ExecFailure, type Slot } from './clone-spawn.js';
import type { Reaper } from './reaper.js';

interface ChildStreams {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

/** A child of the clone path: its slot, read when it is reaped, and how to tell its setup failure. */
export interface CloneStarted {
  slot: Slot;
  failure(failed: ExecFailure): Error;
}

/** How often a caller waiting for `started` on the clone path looks whether the child exec'd (ms, doubling). */
const EXEC_POLL_FIRST_MS = 1;
const EXEC_POLL_MAX_MS = 50;

export class PosixChild implements SpawnedChild {
  pid: number | undefined = undefined;
  #started: Promise<number> | undefined;
  #clone: CloneStarted | undefined;
  /** The clone path's slot went back to the pool (the child is reaped): it belongs to another child now. */
  #slotReleased = false;
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

  /**
   * `deferred`: the pid comes later through `run` or `fail`; otherwise call `run` at once.
   * `clone`: the child may still be setting up when `run` is called (see clone-spawn.ts).
   */
  constructor(reaper: Reaper, streams: ChildStreams, deferred: boolean, clone?: CloneStarted) {
    this.#clone = clone;
    this.#reaper = reaper;
    this.#signalsBefore = reaper.signals;
    ({ stdin: this.stdin, stdout: this.stdout, stderr: this.stderr } = streams);
    this.exited = new Promise((resolve, reject) => (this.#settleExit = { resolve, reject }));
    if (deferred) {
      this.#started = new Promise((resolve, reject) => (this.#settleStart = { resolve, reject }));
      this.#started.catch(() => {}); // the caller hears of a failure through `exited`
    }
    if (this.stdin || this.stdout || this.stderr)
      this.exited.then(
        () => process.nextTick(flushChildStdio, this),
        () => {},
      );
  }

  /**
   * Deferred start: resolves with the pid once the child runs. Clone path: once it exec'd (made
   * when first read; it looks at the slot's tid word, which the kernel clears at exec), or rejects
   * with the setup failure the exit brings.
   */
  get started(): Promise<number> | undefined {
    if (!this.#started && this.#clone && this.pid !== undefined) {
      const pid = this.pid;
      this.#started = this.#slotReleased ? this.exited.then(() => pid) : this.#watchExec(pid, this.#clone.slot);
      this.#started.catch(() => {});
    }
    return this.#started;
  }

  #watchExec(pid: number, slot: Slot): Promise<number> {
    const generation = slot.generation;
    return new Promise((resolve, reject) => {
      let settled = false;
      this.exited.then(
        () => ((settled = true), resolve(pid)),
        (error: Error) => ((settled = true), reject(error)),
      );
      let delay = EXEC_POLL_FIRST_MS;
      const look = () => {
        if (settled) return;
        if (hasExeced(slot, generation)) return ((settled = true), resolve(pid));
        setTimeout(look, delay).unref(); // the reaper keeps Node alive while the child runs
        delay = Math.min(2 * delay, EXEC_POLL_MAX_MS);
      };
      setImmediate(look);
    });
  }

  /** The child runs as `pid`. */
  run(pid: number): void {
    this.pid = pid;
    this.#reaper.settle(pid, this.#clone ? this.#reportingFailure(this.#clone) : this.#settleExit, this.#signalsBefore);
    if (!this.#ref) this.#reaper.setRef(pid, false);
    this.#settleStart?.resolve(pid);
    if (this.#signals.length > 0) for (const signal of this.#signals.splice(0)) this.kill(signal);
  }

  /** Settles `exited` with the exit, or with the setup failure the child left in its slot (it exited 127 then). */
  #reportingFailure(clone: CloneStarted): { resolve(status: ExitStatus): void; reject(error: Error): void } {
    return {
      resolve: (status) => {
        this.#slotReleased = true;
        const failed = releaseSlot(clone.slot);
        if (!failed || status.exitCode !== 127) return this.#settleExit.resolve(status);
        for (const stream of [this.stdin, this.stdout, this.stderr]) stream?.destroy();
        this.#settleExit.reject(clone.failure(failed));
      },
      reject: (error) => {
        this.#slotReleased = true;
        releaseSlot(clone.slot); // the child is gone all the same (reaped by someone else)
        this.#settleExit.reject(error);
      },
    };
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
}
