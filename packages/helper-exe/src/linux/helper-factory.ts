/**
 * How the Linux pool gets its helpers (the policy is WarmPool's). A request that finds none warm
 * starts one with the starter backend. Refills come through the zygote when the starter can watch
 * the helpers it forks (one write per helper; the fork happens outside this process), else by
 * starting each helper with the starter. A zygote that dies is replaced; after three that die
 * without serving, the pool keeps starting helpers directly.
 */
import { constants as osConstants } from 'node:os';
import type { Backend } from '@forkexec/core';
import { peerGone, type FdPassing } from './fd-passing.js';
import { HelperProcess } from './helper-process.js';
import type { HelperFactory, WarmPool } from '../warm-pool.js';
import { Zygote, type WatchChild } from './zygote.js';

export interface LinuxHelperSettings {
  helperPath: string;
  starter: Backend;
  native: FdPassing;
  /** How to reap helpers the zygote forks; without it there is no zygote. */
  watch?: WatchChild;
}

/** Counters of the zygote: helpers it forked, zygotes started. */
interface ZygoteStats {
  forked: number;
  zygotes: number;
}

/** The pool stops using a zygote after this many in a row end without forking a helper. */
const MAX_ZYGOTE_FAILURES = 3;

/**
 * A program still running this long (to twice as long) after its helper was taken has its helper's
 * socket watched, which closes at the exec (an unwatched one is read, and closed, at the exit: a
 * long-running program would hold it until then), and the pool refilled without waiting for it.
 */
const LATE_MS = 10;

export class LinuxHelperFactory implements HelperFactory<HelperProcess> {
  readonly #settings: LinuxHelperSettings;
  readonly #pool: WarmPool<HelperProcess>;
  readonly #stats: ZygoteStats;
  #zygote: Zygote | undefined;
  #zygoteFailures = 0;
  /** Taken helpers whose outcome is not known yet, and when each was taken (oldest first). */
  readonly #running = new Map<HelperProcess, number>();
  /** One timer for all of them (made once, armed again with refresh: a timer per spawn costs more). */
  #lateTimer: NodeJS.Timeout | undefined;
  #lateArmed = false;

  constructor(settings: LinuxHelperSettings, pool: WarmPool<HelperProcess>, stats: ZygoteStats) {
    this.#settings = settings;
    this.#pool = pool;
    this.#stats = stats;
  }

  /** The pid of the zygote serving the pool now, if any. */
  get zygotePid(): number | undefined {
    return this.#zygote?.isAlive ? this.#zygote.pid : undefined;
  }

  start(): HelperProcess {
    const { starter, helperPath, native } = this.#settings;
    return HelperProcess.start(starter, helperPath, native);
  }

  lost(helper: HelperProcess): Promise<unknown> {
    return helper.outcome;
  }

  /**
   * Called as a taken helper gets its request; resolves once its fate is known: usually at the
   * program's exit (see HelperProcess), or at its exec for a program that runs on (see LATE_MS),
   * whose refill starts then too. The socket of its replacement is made now, off the program's
   * path (which the helper's exec is on by then), so that the caller never sees the pool one fd
   * short; the fork itself waits for the refill on a later tick (sooner puts our work and the
   * zygote's fork on the CPU ahead of the program).
   */
  settled(helper: HelperProcess): Promise<boolean> {
    this.#running.set(helper, performance.now());
    this.#armLate();
    const zygote = this.#zygote;
    if (zygote?.isAlive && this.#pool.shortOf(zygote.pendingCount + zygote.reservedCount)) {
      try {
        zygote.reserve();
      } catch {} // out of fds: the refill finds out too
    }
    return helper.outcome.then((outcome) => {
      this.#running.delete(helper);
      return outcome.kind === 'exec';
    });
  }

  #armLate(): void {
    if (this.#lateArmed) return;
    this.#lateArmed = true;
    if (this.#lateTimer) this.#lateTimer.refresh();
    else this.#lateTimer = setTimeout(this.#onLate, LATE_MS).unref();
  }

  /** Programs running for LATE_MS: their helpers' sockets are watched, and the pool refills. */
  readonly #onLate = (): void => {
    this.#lateArmed = false;
    const due = performance.now() - LATE_MS;
    let late = false;
    for (const [helper, takenAt] of this.#running) {
      if (takenAt > due) {
        this.#armLate();
        break;
      }
      this.#running.delete(helper);
      helper.watch();
      late = true;
    }
    if (late) this.#pool.scheduleRefill();
  };

  /**
   * For a request that finds no helper warm (a burst): helpers the zygote has forked whose answers
   * the event loop has not read yet join the pool now, and those the pool still lacks are asked for
   * now, not on a later turn of a loop that the burst keeps busy. Never waits, never starts one here.
   */
  collect(): void {
    const zygote = this.#zygote;
    if (!zygote?.isAlive) return;
    if (zygote.pendingCount) zygote.collect();
    this.#forkWhileShort(zygote);
  }

  refill(): void {
    const pool = this.#pool;
    const zygote = this.#zygoteForRefill();
    if (zygote && !this.#forkWhileShort(zygote)) return;
    while (pool.shortOf(zygote?.pendingCount ?? 0)) {
      let helper: HelperProcess;
      try {
        helper = this.start();
      } catch {
        pool.failed();
        return;
      }
      pool.add(helper);
    }
  }

  /** Asks `zygote` for helpers while the pool is short of them; false when a request failed. */
  #forkWhileShort(zygote: Zygote): boolean {
    while (zygote.isAlive && this.#pool.shortOf(zygote.pendingCount)) {
      try {
        zygote.fork();
      } catch (error) {
        if (!peerGone(error)) this.#pool.failed(); // out of fds; a zygote that just died counts as such when its end is seen
        return false;
      }
    }
    return true;
  }

  /** Ends the zygote (it forks helpers with the credentials it started with) and waits until it and its orphans are reaped. */
  async stop(): Promise<void> {
    const zygote = this.#zygote;
    this.#zygote = undefined;
    await zygote?.stop();
  }

  /** The zygote to refill from: the running one, or a new one unless zygotes keep failing here. */
  #zygoteForRefill(): Zygote | undefined {
    if (this.#zygote?.isAlive) return this.#zygote;
    const { starter, helperPath, native, watch } = this.#settings;
    if (!watch || this.#zygoteFailures >= MAX_ZYGOTE_FAILURES) return undefined;
    const pool = this.#pool;
    try {
      const zygote: Zygote = new Zygote(starter, helperPath, native, watch, {
        helper: (helper) => {
          if (this.#zygote !== zygote) pool.discard(helper);
          else if (pool.offer(helper)) this.#stats.forked++;
        },
        forkFailed: (errno) => {
          pool.failed();
          if (errno === osConstants.errno.EAGAIN) pool.keepOnlyMin(); // at the process limit: leave the slots to others
          pool.scheduleRefill();
        },
        ended: (_why, served) => {
          if (this.#zygote !== zygote) return; // stopped on purpose
          this.#zygote = undefined;
          pool.ending(zygote.stop()); // the helpers it still owed are salvaged: drain() waits for them
          this.#zygoteFailures = served ? 0 : this.#zygoteFailures + 1;
          pool.scheduleRefill();
        },
      });
      this.#stats.zygotes++;
      return (this.#zygote = zygote);
    } catch {
      this.#zygoteFailures++;
      return undefined;
    }
  }
}
