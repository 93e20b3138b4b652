/**
 * The pool of warm helpers. A spawn takes a helper (a warm one when there is one, otherwise it
 * starts one on the spot: the request simply waits in the socket until the helper reads it), and
 * the pool refills in the background: through the zygote when the starter can watch the helpers
 * it forks (one write per helper; the fork happens outside this process), else by starting each
 * helper with the starter. A zygote that dies is replaced; after three that die without serving,
 * the pool keeps starting helpers directly. Demand raises the number kept warm from `min` toward
 * `max`; after `idleTimeoutMs` without a spawn every warm helper and the zygote retire, so an idle
 * pool costs nothing and never keeps Node running.
 */
import { constants as osConstants } from 'node:os';
import type { Backend } from '@forkexec/core';
import { peerGone, type FdPassing } from './fd-passing.js';
import { HelperProcess } from './helper-process.js';
import { Zygote, type WatchChild } from './zygote.js';

export interface PoolSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
  helperPath: string;
  starter: Backend;
  native: FdPassing;
  /** How to reap helpers the zygote forks; without it there is no zygote. */
  watch?: WatchChild;
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
/** The pool stops using a zygote after this many in a row end without forking a helper. */
const MAX_ZYGOTE_FAILURES = 3;

export class HelperPool {
  readonly #settings: PoolSettings;
  readonly #warm: HelperProcess[] = [];
  #target: number;
  #startFailures = 0;
  #refillScheduled = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #disposed = false;
  #identity = identity();
  #zygote: Zygote | undefined;
  #zygoteFailures = 0;
  /** Counters for tests and the benchmark: helpers forked by a zygote, zygotes started. */
  readonly stats = { warmTaken: 0, coldStarted: 0, overflowed: 0, retired: 0, replaced: 0, forked: 0, zygotes: 0 };

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    this.#target = settings.min;
  }

  get warmCount(): number {
    return this.#warm.length;
  }

  /** The pid of the zygote serving the pool now, if any. */
  get zygotePid(): number | undefined {
    return this.#zygote?.isAlive ? this.#zygote.pid : undefined;
  }

  /** Whether a warm helper is there to take now. */
  get hasWarm(): boolean {
    return this.#warm.some((h) => h.isAlive);
  }

  /** A request ran without a helper because none was warm: demand, as for a helper started on the spot. */
  overflowed(): void {
    if (this.#disposed) throw new Error('the pool was disposed');
    const active = this.#idleTimer !== undefined;
    this.#touch();
    if (active) this.#grow();
    // Warm-up paused after helpers kept failing resumes when a request execs on a helper; with none
    // warm, none can: each overflowing request allows one more refill.
    this.#startFailures = Math.min(this.#startFailures, MAX_START_FAILURES - 1);
    this.stats.overflowed++;
    this.#scheduleRefill();
  }

  /** Empty while in use: demand outruns the warm set, so keep more warm (a pool waking from idle starts at min). */
  #grow(): void {
    this.#target = Math.min(this.#settings.max, Math.max(1, this.#target * 2));
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
      void this.#stopZygote(); // it forks helpers with the old credentials too
    }
    let helper: HelperProcess | undefined;
    // Prefer a helper that already said hello; one still starting is next best (no fork on our side).
    const ready = this.#warm.findIndex((h) => h.isReady);
    const index = ready !== -1 ? ready : this.#warm.findIndex((h) => h.isAlive);
    if (index !== -1) {
      helper = this.#warm.splice(index, 1)[0];
      this.stats.warmTaken++;
    } else {
      if (active) this.#grow();
      helper = this.#start();
      this.stats.coldStarted++;
    }
    helper.setActive(true);
    // Refill once this helper has exec'd (or failed), on a later tick: refilling sooner puts our work
    // and the zygote's fork on the CPU ahead of the program. The socket of its replacement is made
    // at once, so that the caller, whose result follows from the same outcome, never sees the pool
    // one fd short.
    void helper.outcome.then((outcome) => {
      if (outcome.kind === 'exec') this.#startFailures = 0; // helpers work: warm-up may resume
      const zygote = this.#zygote;
      if (zygote?.isAlive && !this.#disposed && this.#idleTimer && this.#warm.length + zygote.pendingCount + zygote.reservedCount < this.#target) {
        try {
          zygote.reserve();
        } catch {} // out of fds: the refill finds out too
      }
      this.#scheduleRefill();
    });
    return helper;
  }

  /** Kills every warm helper and waits until each is reaped. The pool may be used again afterwards. */
  async drain(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#target = this.#settings.min;
    const warm = this.#warm.splice(0);
    this.stats.retired += warm.length;
    await Promise.all([...warm.map((h) => h.retire()), this.#stopZygote()]);
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.drain();
  }

  #start(): HelperProcess {
    const { starter, helperPath, native } = this.#settings;
    return HelperProcess.start(starter, helperPath, native);
  }

  async #stopZygote(): Promise<void> {
    const zygote = this.#zygote;
    this.#zygote = undefined;
    await zygote?.stop();
  }

  /** The zygote to refill from: the running one, or a new one unless zygotes keep failing here. */
  #zygoteForRefill(): Zygote | undefined {
    if (this.#zygote?.isAlive) return this.#zygote;
    const { starter, helperPath, native, watch } = this.#settings;
    if (!watch || this.#zygoteFailures >= MAX_ZYGOTE_FAILURES) return undefined;
    try {
      const zygote: Zygote = new Zygote(starter, helperPath, native, watch, {
        helper: (helper) => this.#adopt(helper, zygote),
        forkFailed: (errno) => {
          this.#startFailures++;
          if (errno === osConstants.errno.EAGAIN) this.#target = this.#settings.min; // at the process limit: leave the slots to others
          this.#scheduleRefill();
        },
        ended: (_why, served) => {
          if (this.#zygote !== zygote) return; // stopped on purpose
          this.#zygote = undefined;
          this.#zygoteFailures = served ? 0 : this.#zygoteFailures + 1;
          this.#scheduleRefill();
        },
      });
      this.stats.zygotes++;
      return (this.#zygote = zygote);
    } catch {
      this.#zygoteFailures++;
      return undefined;
    }
  }

  /** A helper the zygote forked joins the warm set, unless the pool no longer wants it. */
  #adopt(helper: HelperProcess, from: Zygote): void {
    helper.setActive(false);
    if (this.#disposed || this.#zygote !== from || !this.#idleTimer || this.#warm.length >= this.#settings.max) {
      this.stats.retired++;
      void helper.retire();
      return;
    }
    this.stats.forked++;
    this.#warm.push(helper);
    this.#watch(helper);
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
    if (this.#disposed || !this.#idleTimer || this.#startFailures >= MAX_START_FAILURES || this.#warm.length >= this.#target) return;
    const zygote = this.#zygoteForRefill();
    while (zygote?.isAlive && this.#warm.length + zygote.pendingCount < this.#target) {
      try {
        zygote.fork();
      } catch (error) {
        if (!peerGone(error)) this.#startFailures++; // out of fds; a zygote that just died counts as such when its end is seen
        return;
      }
    }
    while (this.#warm.length + (zygote?.pendingCount ?? 0) < this.#target) {
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
