/**
 * The policy of a pool of warm helpers, shared by Linux (pool.ts) and Windows
 * (win32/suspended-pool.ts): `min` helpers are kept warm while the pool is in use; a request that
 * finds none warm while the pool is in use doubles the warm set, up to `max`; after
 * `idleTimeoutMs` without a request every warm helper retires and refilling stops, so an idle pool
 * costs nothing and never keeps Node running; a warm helper that dies is replaced; warm-up pauses
 * after a few failures in a row, until a request shows that helpers work again. How helpers are
 * started and how the pool refills is the platform's part: a HelperFactory.
 */

/** What the pool needs of a helper. */
interface WarmHelper {
  /** Still able to take a request. */
  readonly isAlive: boolean;
  /** A warm helper must not keep Node running; one with a request must. */
  setActive(active: boolean): void;
  /** Ends an unused helper; resolves once it is gone. */
  retire(): Promise<void>;
}

/** The platform's part of a pool: how to start helpers, how to refill, and when a helper is done. */
export interface HelperFactory<H extends WarmHelper> {
  /** Starts a helper now (for a request that found none warm). Throws when it cannot. */
  start(): H;
  /** Adds helpers while `pool.shortOf()` says so (called on a later turn, only while warm-up runs). */
  refill(): void;
  /** Resolves once a warm helper can no longer serve (it died or misbehaved): it is replaced. */
  lost(helper: H): Promise<unknown>;
  /** Resolves once a taken helper no longer holds the refill back; true when its request showed helpers work. */
  settled(helper: H): Promise<boolean>;
  /** Ends whatever the factory keeps running besides the helpers (drain, dispose). */
  stop?(): Promise<void>;
}

export interface WarmPoolSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
}

/** Counters for tests and benchmarks. */
export interface WarmPoolStats {
  warmTaken: number;
  coldStarted: number;
  retired: number;
  replaced: number;
}

/** Warm-up pauses after this many warm helpers die or fail to start in a row. */
const MAX_START_FAILURES = 3;

export class WarmPool<H extends WarmHelper> {
  readonly stats: WarmPoolStats;
  readonly #settings: WarmPoolSettings;
  readonly #factory: HelperFactory<H>;
  readonly #warm: H[] = [];
  #target: number;
  #startFailures = 0;
  #refillScheduled = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastUse = 0;
  #disposed = false;
  /** Endings under way (helpers retired, zygotes stopped): drain() waits for them too. */
  readonly #ending = new Set<Promise<unknown>>();

  /** `stats` may carry the platform's own counters besides the pool's. */
  constructor(
    settings: WarmPoolSettings,
    factory: (pool: WarmPool<H>) => HelperFactory<H>,
    stats: WarmPoolStats = { warmTaken: 0, coldStarted: 0, retired: 0, replaced: 0 },
  ) {
    this.#settings = settings;
    this.#target = settings.min;
    this.stats = stats;
    this.#factory = factory(this);
  }

  get warmCount(): number {
    return this.#warm.length;
  }

  /** The warm set the pool aims at now (min when idle, doubled up to max by demand), and the start failures in a row (warm-up pauses at MAX_START_FAILURES). */
  get health(): { target: number; startFailures: number } {
    return { target: this.#target, startFailures: this.#startFailures };
  }

  /** Whether a warm helper is there to take now. */
  get hasWarm(): boolean {
    return this.#warm.some((h) => h.isAlive);
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** A helper for one request: a warm one if possible, else one started now (which throws when it cannot). */
  take(): H {
    const helper = this.pick();
    this.inUse(helper);
    return helper;
  }

  /** The warm helper pick() takes now, if any: the first alive, which has been warm longest. */
  next(): H | undefined {
    const warm = this.#warm;
    for (let i = 0; i < warm.length; i++) if (warm[i].isAlive) return warm[i];
    return undefined;
  }

  /**
   * take() in two halves, for a caller that hands the helper out first: pick() chooses it (it leaves
   * the warm set at once); inUse() does the bookkeeping, before the event loop's next turn. A caller
   * that just asked next() passes its answer along.
   */
  pick(next = this.next()): H {
    if (this.#disposed) throw new Error('the pool was disposed');
    if (next) {
      const warm = this.#warm;
      // Usually the first (next() takes the oldest alive): shift() allocates no array of removed items, as splice() does.
      if (warm[0] === next) warm.shift();
      else warm.splice(warm.indexOf(next), 1);
      this.stats.warmTaken++;
      return next; // its use is noted by inUse(), after the caller has the pid: the idle timer cannot fire before
    }
    if (this.#touch()) this.#grow();
    const helper = this.#factory.start();
    this.stats.coldStarted++;
    return helper;
  }

  /** A picked helper now serves a request: it keeps Node alive, and its outcome drives the refill. */
  inUse(helper: H): void {
    this.#touch();
    helper.setActive(true);
    void this.#factory.settled(helper).then((worked) => {
      if (worked) this.healthy();
      this.scheduleRefill();
    });
  }

  /** A request ran without a helper because none was warm: demand, as for a helper started on the spot. */
  overflowed(): void {
    if (this.#disposed) throw new Error('the pool was disposed');
    if (this.#touch()) this.#grow();
    // Warm-up paused after helpers kept failing resumes when a request runs on a helper; with none
    // warm, none can: each overflowing request allows one more refill.
    this.#startFailures = Math.min(this.#startFailures, MAX_START_FAILURES - 1);
    this.scheduleRefill();
  }

  /** Whether the pool, in use, wants more warm helpers than it has plus `coming` on their way. */
  shortOf(coming = 0): boolean {
    return !this.#disposed && this.#idleTimer !== undefined && this.#warm.length + coming < this.#target;
  }

  /** A helper the factory started joins the warm set. */
  add(helper: H): void {
    helper.setActive(false);
    this.#warm.push(helper);
    this.#watch(helper);
  }

  /** A helper that arrived on its own (a zygote's) joins the warm set, unless the pool no longer wants it. */
  offer(helper: H): boolean {
    if (this.#disposed || this.#idleTimer === undefined || this.#warm.length >= this.#settings.max) {
      this.discard(helper);
      return false;
    }
    this.add(helper);
    return true;
  }

  /** Retires a helper the pool will not use. */
  discard(helper: H): void {
    helper.setActive(false);
    this.stats.retired++;
    this.retire(helper);
  }

  /** Ends a helper that may not serve (again); drain() and dispose() wait until it is gone. */
  retire(helper: H): void {
    this.ending(helper.retire());
  }

  /** Something ending (a zygote stopping, say) that drain() and dispose() must wait for. */
  ending(done: Promise<unknown>): void {
    const tracked = done.catch(() => {}).finally(() => this.#ending.delete(tracked));
    this.#ending.add(tracked);
  }

  /** A helper failed to start or to arrive: after a few in a row, warm-up pauses. */
  failed(): void {
    this.#startFailures++;
  }

  /** Helpers work: warm-up may resume. */
  healthy(): void {
    this.#startFailures = 0;
  }

  /** At a system limit (Linux: RLIMIT_NPROC): keep only `min` warm, leaving the slots to others. */
  keepOnlyMin(): void {
    this.#target = this.#settings.min;
  }

  /** Retires every warm helper now (they can no longer be used, e.g. the process changed credentials). */
  retireWarm(): Promise<void> {
    const warm = this.#warm.splice(0);
    this.stats.retired += warm.length;
    return Promise.all(warm.map((h) => h.retire())).then(() => {});
  }

  /** Retires every warm helper and stops the factory; resolves once all are gone. The pool may be used again afterwards. */
  async drain(): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#target = this.#settings.min;
    await Promise.all([this.retireWarm(), this.#factory.stop?.(), ...this.#ending]);
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    await this.drain();
  }

  /** Refills on a later turn of the event loop (refilling starts processes: never in the caller's way). */
  scheduleRefill(): void {
    if (this.#refillScheduled || this.#disposed) return;
    this.#refillScheduled = true;
    setImmediate(() => {
      this.#refillScheduled = false;
      if (this.#startFailures < MAX_START_FAILURES && this.shortOf()) this.#factory.refill();
    }).unref();
  }

  /** Empty while in use: demand outruns the warm set, so keep more warm (a pool waking from idle starts at min). */
  #grow(): void {
    this.#target = Math.min(this.#settings.max, Math.max(1, this.#target * 2));
  }

  /**
   * Marks the pool in use until idleTimeoutMs from now; returns whether it already was. A spawn only
   * notes the time: the timer, when it fires, waits out what is left (refreshing it per spawn
   * costs more).
   */
  #touch(): boolean {
    this.#lastUse = performance.now();
    if (this.#idleTimer) return true;
    this.#idleTimer = setTimeout(this.#idleCheck, this.#settings.idleTimeoutMs).unref();
    return false;
  }

  /** Drains the pool once idleTimeoutMs have passed since its last use. */
  readonly #idleCheck = (): void => {
    const left = this.#lastUse + this.#settings.idleTimeoutMs - performance.now();
    if (left > 0) this.#idleTimer = setTimeout(this.#idleCheck, left).unref();
    else void this.drain();
  };

  /** A healthy helper never dies while warm: one that does is replaced, and counts as a failure. */
  #watch(helper: H): void {
    void this.#factory.lost(helper).then(() => {
      const at = this.#warm.indexOf(helper);
      if (at === -1) return; // taken by a request, or retired
      this.#warm.splice(at, 1);
      this.retire(helper);
      this.#startFailures++;
      this.stats.replaced++;
      this.scheduleRefill();
    });
  }
}
