// Quick speed check of the ntdll backend (built dist) against child_process and a C posix_spawn
// loop, at about 50 MiB and 1 GiB of parent RSS. Alternates the methods within one run and prints
// medians and ratios; the C loop's block column is the time inside posix_spawn itself (glibc's
// vfork window). Then spawns per second with 64 in flight. Compare ratios: absolute numbers drift
// on shared machines.
//   node packages/ntdll-backend/bench/quick.mjs [--spawns 200] [--rounds 5] [--sizes 50,1024]
import { execFileSync, spawn as cpSpawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forkBeforeExec } from '@forkexec/core';
import { backend } from '../dist/index.js';
import { throughput } from './throughput.mjs';

const { values } = parseArgs({
  options: {
    spawns: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '50,1024' },
  },
});
const SPAWNS = Number(values.spawns);
const ROUNDS = Number(values.rounds);
const SIZES_MIB = values.sizes.split(',').map(Number);
const PROGRAM = '/bin/true';
const MiB = 1024 * 1024;

const probe = backend.probe();
if (!probe.ok) throw new Error(`the ntdll backend does not work here: ${probe.reason}`);

const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'forkexec-quick-'));
const floorBinary = path.join(scratch, 'posix-spawn-floor');
execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', floorBinary, path.join(here, 'posix-spawn-floor.c')]);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `start` SPAWNS times, one at a time: per-spawn latency until exit, and time inside the synchronous call. */
async function measure(start) {
  const latency = [];
  const block = [];
  for (let i = 0; i < SPAWNS; i++) {
    const t0 = performance.now();
    const exited = start();
    const t1 = performance.now();
    await exited;
    latency.push(performance.now() - t0);
    block.push(t1 - t0);
  }
  return { latency, block };
}

const methods = {
  'ntdll (forkBeforeExec)': () => forkBeforeExec(PROGRAM, [], { backend, stdio: 'ignore' }),
  'ntdll (backend.spawn)': (() => {
    const request = {
      file: PROGRAM,
      argv: [PROGRAM],
      env: { ...process.env },
      actions: [],
      stdio: ['ignore', 'ignore', 'ignore'],
      command: PROGRAM,
    };
    return () => backend.spawn(request).exited;
  })(),
  'child_process.spawn': () => {
    const child = cpSpawn(PROGRAM, [], { stdio: 'ignore' });
    return new Promise((resolve, reject) => child.once('exit', resolve).once('error', reject));
  },
  'ntdll, stdout piped': () => forkBeforeExec(PROGRAM, [], { backend, stdout: 'pipe', stderr: 'ignore' }),
  'child_process, stdout piped': () => {
    const child = cpSpawn(PROGRAM, [], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.resume();
    return new Promise((resolve, reject) => child.once('close', resolve).once('error', reject));
  },
};

let ballast = [];
for (const sizeMiB of SIZES_MIB) {
  const missing = sizeMiB * MiB - process.memoryUsage.rss();
  if (missing > 0) ballast.push(Buffer.alloc(missing).fill(1));
  const rssMiB = process.memoryUsage.rss() / MiB;
  const samples = Object.fromEntries(Object.keys(methods).map((name) => [name, { latency: [], block: [] }]));
  const floor = [];
  const floorBlock = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, start] of Object.entries(methods)) {
      const { latency, block } = await measure(start);
      samples[name].latency.push(...latency);
      samples[name].block.push(...block);
    }
    const [ms, inCall] = execFileSync(floorBinary, [String(SPAWNS), String(Math.round(rssMiB)), PROGRAM], {
      encoding: 'utf8',
    })
      .split(' ')
      .map(Number);
    floor.push(ms);
    floorBlock.push(inCall);
  }
  const floorMs = median(floor);
  const ntdllMs = median(samples['ntdll (forkBeforeExec)'].latency);
  console.log(
    `\nparent RSS ${rssMiB.toFixed(0)} MiB, ${ROUNDS} rounds x ${SPAWNS} spawns of ${PROGRAM} (stdio ignore unless piped), medians:`,
  );
  console.log(
    `  ${'method'.padEnd(28)} ${'ms/spawn'.padStart(9)} ${'block ms'.padStart(9)} ${'vs C floor'.padStart(11)} ${'vs ntdll'.padStart(9)}`,
  );
  const row = (name, ms, block) =>
    console.log(
      `  ${name.padEnd(28)} ${ms.toFixed(3).padStart(9)} ${(block === undefined ? '-' : block.toFixed(3)).padStart(9)} ${(ms / floorMs).toFixed(2).padStart(10)}x ${(ms / ntdllMs).toFixed(2).padStart(8)}x`,
    );
  row('C posix_spawn loop', floorMs, median(floorBlock));
  for (const [name, { latency, block }] of Object.entries(samples)) row(name, median(latency), median(block));
  const nodeMs = median(samples['child_process.spawn'].latency);
  const flight = {};
  for (const name of ['ntdll (forkBeforeExec)', 'child_process.spawn'])
    flight[name] = await throughput(methods[name], SPAWNS * 2);
  console.log(
    `  64 in flight: ${Object.entries(flight)
      .map(([name, rate]) => `${name} ${rate.toFixed(0)} spawns/s`)
      .join(', ')}`,
  );
  const ntdllBlock = median(samples['ntdll (forkBeforeExec)'].block);
  console.log(
    `  ntdll: ${(nodeMs / ntdllMs).toFixed(1)}x faster than child_process, ${(ntdllMs / floorMs).toFixed(2)}x the C floor; ` +
      `block ${ntdllBlock.toFixed(3)} ms per spawn (${(ntdllBlock - median(floorBlock)).toFixed(3)} ms above the time C spends inside posix_spawn)`,
  );
}
ballast = null;
rmSync(scratch, { recursive: true, force: true });
