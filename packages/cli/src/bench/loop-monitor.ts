import { performance, type EventLoopUtilization } from 'node:perf_hooks';

const INTERVAL_MS = 1;

/**
 * Watches the event loop while a spawn runs: `lagMs` is the longest lateness of a 1 ms timer
 * (its resolution is about a millisecond: libuv timers tick in whole ms), `busyMs` the time
 * the loop spent running code rather than waiting (event-loop utilization, exact).
 */
export class LoopMonitor {
  #timer: NodeJS.Timeout | undefined;
  #last = 0;
  #maxLate = 0;
  #ticked: (() => void)[] = [];
  #elu: EventLoopUtilization | undefined;

  start(): void {
    if (this.#timer) return;
    this.#last = performance.now();
    const tick = () => {
      const now = performance.now();
      this.#maxLate = Math.max(this.#maxLate, now - this.#last - INTERVAL_MS);
      this.#last = now;
      const ticked = this.#ticked;
      this.#ticked = [];
      for (const resolve of ticked) resolve();
      this.#timer = setTimeout(tick, INTERVAL_MS);
    };
    this.#timer = setTimeout(tick, INTERVAL_MS);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const resolve of this.#ticked) resolve();
    this.#ticked = [];
  }

  /** Stops the timer until the function returned is called, which starts it again if it ran. */
  pause(): () => void {
    const running = this.#timer !== undefined;
    this.stop();
    return () => {
      if (running) this.start();
    };
  }

  /** Starts a window. */
  mark(): void {
    this.#maxLate = 0;
    this.#elu = performance.eventLoopUtilization();
  }

  /** Ends the window at once for the busy time, then waits for the next tick so that every stall in the window shows as lateness. */
  async read(): Promise<{ busyMs: number; lagMs: number }> {
    const busyMs = performance.eventLoopUtilization(this.#elu).active;
    if (this.#timer) await new Promise<void>((resolve) => this.#ticked.push(resolve));
    return { busyMs, lagMs: Math.max(0, this.#maxLate) };
  }
}
