/**
 * The pool of suspended Windows helpers: WarmPool's policy (../warm-pool.ts) over helpers created
 * suspended (suspended-helper-factory.ts), and a limit on how many create their programs at once
 * (creation-limit.ts).
 */
import { WarmPool, type WarmPoolStats } from '../warm-pool.js';
import { CreationLimit } from './creation-limit.js';
import type { SuspendedHelper } from './suspended-helper.js';
import { SuspendedHelperFactory } from './suspended-helper-factory.js';

interface SuspendedPoolSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
  start: () => SuspendedHelper;
}

export class SuspendedPool {
  readonly #pool: WarmPool<SuspendedHelper>;
  readonly #creation = new CreationLimit();

  constructor(settings: SuspendedPoolSettings) {
    this.#pool = new WarmPool(settings, (pool) => new SuspendedHelperFactory(settings.start, pool));
  }

  get warmCount(): number {
    return this.#pool.warmCount;
  }

  get stats(): WarmPoolStats {
    return this.#pool.stats;
  }

  /** A helper for one request: a warm one, or one created now. Throws when none can be created. */
  take(): SuspendedHelper {
    return this.#pool.take();
  }

  /** Ends a taken helper that will not serve its request; drain() waits until it is gone. */
  retire(helper: SuspendedHelper): void {
    this.#pool.retire(helper);
  }

  /** Lets a helper that holds its request create its program, within the creation limit. */
  resume(helper: SuspendedHelper): void {
    this.#creation.resume(helper);
  }

  /** Ends every warm helper and waits until each is gone. The pool may be used again afterwards. */
  drain(): Promise<void> {
    return this.#pool.drain();
  }

  dispose(): Promise<void> {
    return this.#pool.dispose();
  }
}
