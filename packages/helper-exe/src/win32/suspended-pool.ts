/**
 * The pool of suspended Windows helpers, with the same policy as the Linux pool (src/pool.ts):
 * `min` kept warm while in use, an empty pool under demand doubles the warm set up to `max`,
 * every warm helper retires after `idleTimeoutMs` without a spawn, a warm helper that dies is
 * replaced, and warm-up pauses after a few start failures in a row. Creating a helper blocks for
 * one process creation, so the pool refills one helper per turn of the event loop, and only once
 * the request's program has ended or run a while.
 */
import { availableParallelism } from 'node:os';
import { SuspendedHelper } from './suspended-helper.js';

export interface SuspendedPoolSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
  start: () => SuspendedHelper;
}

const MAX_START_FAILURES = 3;
/** A program running this long no longer holds back the refill (see take()). */
const REFILL_AFTER_MS = 1000;
/**
 * Helpers creating their programs at once. Each already has its pid, so a request that waits here
 * loses no time to pid; unbounded, a burst of requests has hundreds of helpers create processes at
 * once, which Wine answers with ERROR_INTERNAL_ERROR.
 */
const CREATING_AT_ONCE = Math.max(2, availableParallelism());

export class SuspendedPool {
  readonly #settings: SuspendedPoolSettings;
  readonly #warm: SuspendedHelper[] = [];
  #target: number;
  #startFailures = 0;
  #refillScheduled = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #disposed = false;
  #creating = 0;
  readonly #waitingToCreate: SuspendedHelper[] = [];
  readonly stats = { warmTaken: 0, coldStarted: 0, retired: 0, replaced: 0 };

  constructor(settings: SuspendedPoolSettings) {
    this.#settings = settings;
    this.#target = settings.min;
  }

  get warmCount(): number {
    return this.#warm.length;
  }

  /** A helper for one request: a warm one, or one created now. Throws when none can be created. */
  take(): SuspendedHelper {
    if (this.#disposed) throw new Error('the pool was disposed');
    const active = this.#idleTimer !== undefined;
    this.#touch();
    let helper: SuspendedHelper;
    const index = this.#warm.findIndex((h) => h.isAlive);
    if (index !== -1) {
      helper = this.#warm.splice(index, 1)[0];
      this.stats.warmTaken++;
    } else {
      if (active) this.#target = Math.min(this.#settings.max, Math.max(1, this.#target * 2));
      helper = this.#settings.start();
      this.stats.coldStarted++;
    }
    helper.setActive(true);
    // A refill creates a process, which blocks the event loop: not while this request's program is
    // being created, nor while a short one runs (its exit would be noticed late), but once it ended
    // or has run a while.
    const ranAWhile = helper.reply.then(() => new Promise<void>((resolve) => setTimeout(resolve, REFILL_AFTER_MS).unref()));
    void Promise.race([helper.ended, ranAWhile]).then(() => this.#scheduleRefill());
    return helper;
  }

  /** Resumes a helper that holds its request, once fewer than CREATING_AT_ONCE helpers are creating their programs. */
  resume(helper: SuspendedHelper): void {
    if (this.#creating >= CREATING_AT_ONCE) {
      this.#waitingToCreate.push(helper);
      return;
    }
    this.#creating++;
    helper.resume();
    void helper.reply.then(() => {
      this.#creating--;
      const next = this.#waitingToCreate.shift();
      if (next) this.resume(next);
    });
  }

  /** Ends every warm helper and waits until each is gone. The pool may be used again afterwards. */
  async drain(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#target = this.#settings.min;
    const warm = this.#warm.splice(0);
    this.stats.retired += warm.length;
    await Promise.all(warm.map((h) => h.retire()));
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.drain();
  }

  #touch(): void {
    if (this.#idleTimer) this.#idleTimer.refresh();
    else this.#idleTimer = setTimeout(() => void this.drain(), this.#settings.idleTimeoutMs).unref();
  }

  #scheduleRefill(): void {
    if (this.#refillScheduled || this.#disposed) return;
    this.#refillScheduled = true;
    setImmediate(() => {
      this.#refillScheduled = false;
      this.#refillOne();
    }).unref();
  }

  #refillOne(): void {
    if (this.#disposed || !this.#idleTimer || this.#startFailures >= MAX_START_FAILURES || this.#warm.length >= this.#target) return;
    let helper: SuspendedHelper;
    try {
      helper = this.#settings.start();
    } catch {
      this.#startFailures++;
      this.#scheduleRefill();
      return;
    }
    this.#startFailures = 0;
    helper.setActive(false);
    this.#warm.push(helper);
    this.#watch(helper);
    this.#scheduleRefill();
  }

  /** A suspended helper never closes its pipe: one that does died (killed from outside) and is replaced. */
  #watch(helper: SuspendedHelper): void {
    void helper.reply.then(() => {
      const at = this.#warm.indexOf(helper);
      if (at === -1) return; // taken by a request, or retired
      this.#warm.splice(at, 1);
      void helper.retire();
      this.#startFailures++;
      this.stats.replaced++;
      this.#scheduleRefill();
    });
  }
}
