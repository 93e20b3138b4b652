/**
 * posix_spawn calls that run on libuv's threadpool (koffi's async calls), at most two at once,
 * started in call order; the others wait here. Two lanes keep both of a small machine's cores
 * spawning when many children start at once (64 in flight: about 1.2-1.4x the spawns per second
 * of one lane, measured with bench/ab.mjs); the threadpool keeps its other threads for fs, dns and
 * crypto, and koffi's own limit of 256 pending async calls (shared with every other koffi user in
 * the process) is never approached.
 */
const LANES = 2;

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
