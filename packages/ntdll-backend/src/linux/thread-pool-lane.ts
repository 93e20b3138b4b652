/**
 * posix_spawn calls that run on libuv's threadpool (koffi's async calls), one at a time, in call
 * order; the others wait here. One lane is enough: each call only waits for a child's exec, the
 * threadpool keeps its other threads for fs, dns and crypto, and koffi's own limit of 256 pending
 * async calls (shared with every other koffi user in the process) is never approached.
 */
const LANES = 1;

let running = 0;
const waiting: (() => void)[] = [];

/**
 * Runs `start` when a lane is free; `start` calls `finished` once its call has returned. If `start`
 * throws (koffi refused the call), the lane is freed and `failed` gets the error.
 */
export function onThreadPool(start: (finished: () => void) => void, failed: (error: Error) => void): void {
  const go = () => {
    running++;
    let freed = false;
    const finished = () => {
      if (freed) return;
      freed = true;
      running--;
      waiting.shift()?.();
    };
    try {
      start(finished);
    } catch (error) {
      finished();
      failed(error as Error);
    }
  };
  if (running < LANES) go();
  else waiting.push(go);
}

/** Calls waiting for a lane (for tests). */
export function waitingCalls(): number {
  return waiting.length;
}
