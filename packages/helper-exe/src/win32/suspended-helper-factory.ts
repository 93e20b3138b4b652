/**
 * How the Windows pool gets its helpers (the policy is WarmPool's). Creating a helper blocks the
 * event loop for one process creation, so a refill creates one helper per turn of the event loop,
 * and only once the request's program has ended or run a while.
 */
import type { HelperFactory, WarmPool } from '../warm-pool.js';
import type { SuspendedHelper } from './suspended-helper.js';

/** A program running this long no longer holds back the refill (see settled()). */
const REFILL_AFTER_MS = 1000;

export class SuspendedHelperFactory implements HelperFactory<SuspendedHelper> {
  readonly start: () => SuspendedHelper;
  readonly #pool: WarmPool<SuspendedHelper>;

  constructor(start: () => SuspendedHelper, pool: WarmPool<SuspendedHelper>) {
    this.start = start;
    this.#pool = pool;
  }

  /** A suspended helper never closes its pipe: one that does died (killed from outside). */
  lost(helper: SuspendedHelper): Promise<unknown> {
    return helper.reply;
  }

  /**
   * A refill creates a process, which blocks the event loop: not while this request's program is
   * being created, nor while a short one runs (its exit would be noticed late), but once it ended
   * or has run a while.
   */
  settled(helper: SuspendedHelper): Promise<boolean> {
    const ranAWhile = helper.reply.then(
      () => new Promise<void>((resolve) => setTimeout(resolve, REFILL_AFTER_MS).unref()),
    );
    return Promise.race([helper.ended, ranAWhile]).then(() => false);
  }

  /** One helper, then the next on a later turn. */
  refill(): void {
    const pool = this.#pool;
    try {
      pool.add(this.start());
      pool.healthy(); // a helper created: earlier failures no longer count
    } catch {
      pool.failed();
    }
    pool.scheduleRefill();
  }
}
