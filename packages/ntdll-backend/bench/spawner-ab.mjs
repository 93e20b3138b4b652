// The Linux spawn paths side by side (built dist): clone (the default: clone(CLONE_VM) without
// CLONE_VFORK on the event loop, native/clone-spawn.c), posix_spawn on libuv's threadpool (core's
// startOffLoop, the path before clone) and posix_spawn on the event loop. Alternated spawn by spawn
// in a new order every round, at the parent RSS sizes asked for; medians of spawn to exit and of the
// block (the time inside the call that starts the child) and of the event loop's busy time from the
// call to the exit (it includes time the loop thread waited for a CPU the child took), then spawns
// per second with 64 in flight, and ratios against clone. Compare ratios: absolute numbers drift on shared machines.
//   node packages/ntdll-backend/bench/spawner-ab.mjs [--spawns 300] [--rounds 3] [--sizes 50,1024] [--program /bin/true]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { forkBeforeExec } from '@forkexec/core';
import { createBackend } from '../dist/index.js';
import { throughput } from './throughput.mjs';

const { values } = parseArgs({
  options: {
    spawns: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    sizes: { type: 'string', default: '50,1024' },
    program: { type: 'string', default: '/bin/true' },
  },
});
const SPAWNS = Number(values.spawns);
const ROUNDS = Number(values.rounds);
const MiB = 1024 * 1024;

const clone = createBackend({ spawner: 'clone' });
const posix = createBackend({ spawner: 'posix_spawn' });
if (!clone.capabilities.pidBeforeExec)
  throw new Error('no clone path here (x86-64 Linux with dist/linux-x64/libfxclone.so)');

const run = (backend, startOffLoop) => () =>
  forkBeforeExec(values.program, [], { backend, stdio: 'ignore', startOffLoop });
const methods = {
  clone: run(clone, true),
  'posix_spawn, threadpool': run(posix, true),
  'posix_spawn, on loop': run(posix, false),
};
const names = Object.keys(methods);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once(start) {
  const elu = performance.eventLoopUtilization();
  const t0 = performance.now();
  const done = start();
  const t1 = performance.now();
  await done;
  return [performance.now() - t0, t1 - t0, performance.eventLoopUtilization(elu).active];
}

for (const name of names) for (let i = 0; i < 20; i++) await once(methods[name]); // warm up

const ballast = [];
for (const sizeMiB of values.sizes.split(',').map(Number)) {
  const missing = sizeMiB * MiB - process.memoryUsage.rss();
  if (missing > 0) ballast.push(Buffer.alloc(missing).fill(1));
  const samples = Object.fromEntries(names.map((n) => [n, { latency: [], block: [], busy: [], rate: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < SPAWNS; i++) {
      const order = [...names].sort(() => Math.random() - 0.5);
      for (const name of order) {
        const [latency, block, busy] = await once(methods[name]);
        samples[name].latency.push(latency);
        samples[name].block.push(block);
        samples[name].busy.push(busy);
      }
    }
    for (const name of [...names].sort(() => Math.random() - 0.5))
      samples[name].rate.push(await throughput(methods[name], 2 * SPAWNS));
  }
  const base = samples.clone;
  const [latency0, block0, rate0] = [median(base.latency), median(base.block), median(base.rate)];
  console.log(
    `\nparent RSS ${(process.memoryUsage.rss() / MiB).toFixed(0)} MiB, ${ROUNDS} rounds x ${SPAWNS} spawns of ${values.program}, medians (ratio: method / clone; for spawns/s clone / method):`,
  );
  console.log(
    `  ${'method'.padEnd(26)} ${'ms/spawn'.padStart(9)} ${'ratio'.padStart(6)} ${'block ms'.padStart(9)} ${'ratio'.padStart(6)} ${'busy ms'.padStart(8)} ${'64 in flight/s'.padStart(15)} ${'ratio'.padStart(6)}`,
  );
  for (const name of names) {
    const s = samples[name];
    const [l, b, busy, r] = [median(s.latency), median(s.block), median(s.busy), median(s.rate)];
    console.log(
      `  ${name.padEnd(26)} ${l.toFixed(3).padStart(9)} ${(l / latency0).toFixed(2).padStart(5)}x ${b.toFixed(3).padStart(9)} ${(b / block0).toFixed(2).padStart(5)}x ${busy.toFixed(3).padStart(8)} ${r.toFixed(0).padStart(15)} ${(rate0 / r).toFixed(2).padStart(5)}x`,
    );
  }
}
ballast.length = 0;
