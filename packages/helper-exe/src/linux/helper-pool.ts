/**
 * The Linux pool of warm helpers: WarmPool's policy (warm-pool.ts) over helpers started by the
 * starter backend or forked by a zygote (helper-factory.ts). A spawn takes a helper (a warm
 * one when there is one, otherwise one started on the spot: the request simply waits in the socket
 * until the helper reads it), and the pool refills in the background. Warm helpers and the zygote
 * are retired when the process changes its credentials.
 */
import { CredentialsWatch } from './credentials.js';
import type { FdPassing } from './fd-passing.js';
import type { HelperProcess } from './helper-process.js';
import { LinuxHelperFactory, type LinuxHelperSettings } from './helper-factory.js';
import { WarmPool, type WarmPoolSettings } from '../warm-pool.js';

interface PoolSettings extends WarmPoolSettings, LinuxHelperSettings {}

export class LinuxHelperPool {
  /**
   * Counters for tests and the benchmark (see PoolStats): requests served by a warm helper, by one
   * started on the spot and by the starter itself; warm helpers retired and replaced; helpers
   * forked by a zygote, and zygotes started.
   */
  readonly stats = { warmTaken: 0, coldStarted: 0, overflowed: 0, retired: 0, replaced: 0, forked: 0, zygotes: 0 };
  readonly #pool: WarmPool<HelperProcess>;
  readonly #factory: LinuxHelperFactory;
  readonly #credentials = new CredentialsWatch();
  /** The native calls the pool's helpers are served with. */
  readonly native: FdPassing;

  constructor(settings: PoolSettings) {
    this.native = settings.native;
    let factory: LinuxHelperFactory | undefined;
    this.#pool = new WarmPool(
      settings,
      (pool) => (factory = new LinuxHelperFactory(settings, pool, this.stats)),
      this.stats,
    );
    this.#factory = factory!;
  }

  get warmCount(): number {
    return this.#pool.warmCount;
  }

  get health(): { target: number; startFailures: number } {
    return this.#pool.health;
  }

  /** The pid of the zygote serving the pool now, if any. */
  get zygotePid(): number | undefined {
    return this.#factory.zygotePid;
  }

  /** Whether a warm helper is there to take now. */
  get hasWarm(): boolean {
    return this.#pool.hasWarm;
  }

  /** A request ran without a helper because none was warm (overflow: 'starter'). */
  overflowed(): void {
    this.#pool.overflowed();
    this.stats.overflowed++;
  }

  /**
   * A live helper for one request: warm if possible; and, with `environ` (a copy of libc's environ
   * array), whether environ changed since, checked in the same native call. A warm helper that
   * died an instant ago (its end seen by nobody yet) is retired and another taken: its request
   * would never arrive. Throws when the starter cannot start one. Call inUse(helper) before the
   * event loop's next turn (with the hand-over: none of it is needed for the pid).
   */
  take(environ: Buffer | null): { helper: HelperProcess; environChanged: boolean } {
    // Every warm helper may be dead (killed together, say): the last try starts one, which is used
    // as it is (dead already, its request fails as any whose helper dies before the exec).
    for (let skippable = this.#pool.warmCount; ; skippable--) {
      let next = this.#pool.next();
      if (!next) {
        this.#factory.collect(); // before starting one: the zygote may have answered already
        next = this.#pool.next();
      }
      const check = next ? next.check(this.native, environ) : this.native.takeCheck(-1, environ); // none warm: no poll
      if (this.#credentials.changed(check) && !this.#pool.isDisposed) {
        this.#pool.ending(this.#pool.retireWarm());
        this.#pool.ending(this.#factory.stop()); // the zygote forks helpers with the old credentials too
        continue;
      }
      const helper = this.#pool.pick(next); // next, or one started now
      if (skippable <= 0 || helper !== next || !check.hungUp) return { helper, environChanged: check.environChanged };
      this.#pool.retire(helper);
    }
  }

  /** Ends a taken helper that will not serve its request; drain() waits until it is gone. */
  retire(helper: HelperProcess): void {
    this.#pool.retire(helper);
  }

  /** The taken helper serves its request: it keeps Node alive, and the pool refills after its outcome. */
  inUse(helper: HelperProcess): void {
    this.#pool.inUse(helper);
  }

  /** Kills every warm helper and the zygote, and waits until each is reaped. The pool may be used again afterwards. */
  drain(): Promise<void> {
    return this.#pool.drain();
  }

  dispose(): Promise<void> {
    return this.#pool.dispose();
  }
}
