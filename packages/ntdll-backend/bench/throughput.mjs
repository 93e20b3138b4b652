import { performance } from 'node:perf_hooks';

/** Spawns per second with `width` children in flight, `total` spawns in all; `start` resolves once its child exited. */
export async function throughput(start, total, width = 64) {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next++ < total) await start();
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}
