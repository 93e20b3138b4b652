/**
 * The pool of warm helpers. A spawn takes a helper (a warm one when there is one, otherwise it
 * starts one on the spot: the request simply waits in the socket until the helper reads it), and
 * the pool refills in the background. Demand raises the number kept warm from `min` toward
 * `max`; after `idleTimeoutMs` without a spawn every warm helper retires, so an idle pool costs
 * nothing and never keeps Node running.
 */
import type { Backend } from '@forkexec/core';
import type { FdPassing } from './fd-passing.js';
import { HelperProcess } from './helper-process.js';

export interface PoolSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
  helperPath: string;
  starter: Backend;
  native: FdPassing;
}

/**
 * Who the process is: a helper carries the credentials it was started with into the program, so
 * warm helpers from before a setuid/setgid (say, a server dropping root) must never be used after it.
 */
function identity(): string {
  return `${process.getuid?.()}:${process.geteuid?.()}:${process.getgid?.()}:${process.getegid?.()}`;
}

/** Warm-up pauses after this many warm helpers die or fail to start in a row. */
const MAX_START_FAILURES = 3;

export class HelperPool {
  readonly #settings: PoolSettings;
  readonly #warm: HelperProcess[] = [];
  #target: number;
  #startFailures = 0;
  #refillScheduled = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #disposed = false;
  #identity = identity();
  /** Counters for tests and the benchmark. */
  readonly stats = { warmTaken: 0, coldStarted: 0, retired: 0, replaced: 0 };

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    this.#target = settings.min;
  }

  get warmCount(): number {
    return this.#warm.length;
  }

  /** A helper for one request: warm if possible. Throws when the starter cannot start one. */
  take(): HelperProcess {
    if (this.#disposed) throw new Error('the pool was disposed');
    const active = this.#idleTimer !== undefined;
    this.#touch();
    const now = identity();
    if (now !== this.#identity) {
      this.#identity = now;
      const stale = this.#warm.splice(0);
      this.stats.retired += stale.length;
      for (const h of stale) void h.retire();
    }
    let helper: HelperProcess | undefined;
    // Prefer a helper that already said hello; one still starting is next best (no fork on our side).
    const ready = this.#warm.findIndex((h) => h.isReady);
    const index = ready !== -1 ? ready : this.#warm.findIndex((h) => h.isAlive);
    if (index !== -1) {
      helper = this.#warm.splice(index, 1)[0];
      this.stats.warmTaken++;
    } else {
      // Empty while in use: demand outruns the warm set, so keep more warm (a pool waking from idle starts at min).
      if (active) this.#target = Math.min(this.#settings.max, Math.max(1, this.#target * 2));
      helper = this.#start();
      this.stats.coldStarted++;
    }
    helper.setActive(true);
    void helper.outcome.then((outcome) => {
      if (outcome.kind === 'exec') this.#startFailures = 0; // helpers work: warm-up may resume
    });
    this.#scheduleRefill();
    return helper;
  }

  /** Kills every warm helper and waits until each is reaped. The pool may be used again afterwards. */
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

  #start(): HelperProcess {
    const { starter, helperPath, native } = this.#settings;
    return new HelperProcess(starter, helperPath, native);
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
      this.#refill();
    }).unref();
  }

  #refill(): void {
    if (this.#disposed || !this.#idleTimer || this.#startFailures >= MAX_START_FAILURES) return;
    while (this.#warm.length < this.#target) {
      let helper: HelperProcess;
      try {
        helper = this.#start();
      } catch {
        this.#startFailures++;
        return;
      }
      helper.setActive(false);
      this.#warm.push(helper);
      this.#watch(helper);
    }
  }

  /**
   * A warm helper that dies or misbehaves is dropped and replaced. A healthy helper never dies
   * while warm, so after a few such deaths warm-up pauses until a request execs again.
   */
  #watch(helper: HelperProcess): void {
    void helper.outcome.then(() => {
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
