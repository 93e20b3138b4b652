/**
 * At most CREATING_AT_ONCE helpers create their programs at once. Each already has its pid, so a
 * request that waits here loses no time to pid; unbounded, a burst of requests has hundreds of
 * helpers create processes at once, which Wine answers with ERROR_INTERNAL_ERROR.
 */
import { availableParallelism } from 'node:os';
import type { SuspendedHelper } from './suspended-helper.js';

const CREATING_AT_ONCE = Math.max(2, availableParallelism());

export class CreationLimit {
  #creating = 0;
  readonly #waiting: SuspendedHelper[] = [];

  /** Resumes a helper that holds its request now, or once fewer than CREATING_AT_ONCE are creating their programs. */
  resume(helper: SuspendedHelper): void {
    if (this.#creating >= CREATING_AT_ONCE) {
      this.#waiting.push(helper);
      return;
    }
    this.#creating++;
    helper.resume();
    void helper.reply.then(() => {
      this.#creating--;
      const next = this.#waiting.shift();
      if (next) this.resume(next);
    });
  }
}
