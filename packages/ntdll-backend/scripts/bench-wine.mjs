// Per-spawn latency under Wine, run by Windows node (scripts/bench-wine.sh): the ntdll backend
// against child_process.spawn of the same mingw program, spawn + wait, one child at a time.
// Rounds interleave the cases so that load on the machine hits them alike; medians are printed.
import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { forkBeforeExec } from '@forkexec/core';
import { createBackend } from '@forkexec/ntdll-backend';

const programs = { noop: process.env.FORKEXEC_NOOP, fxprobe: process.env.FORKEXEC_PROBE };
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const ntdll = createBackend();
// Wine creates every process by forking the Unix process that asks: a large parent costs more.
const ballastMiB = Number(process.env.BENCH_BALLAST_MIB ?? 0);
const ballast = Buffer.alloc(ballastMiB * 1024 * 1024, 1);

/** Each case resolves to [ms until the spawn call returned, ms until the child was reaped]. */
function childProcess(file, stdio) {
  return () =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      const child = spawn(file, ['exit', '0'], { stdio, windowsHide: true });
      const started = performance.now() - start;
      child.once('error', reject);
      child.once('exit', () => resolve([started, performance.now() - start]));
      child.stdout?.resume();
      child.stderr?.resume();
    });
}

function ntdllBackend(file, stdio) {
  return async () => {
    const start = performance.now();
    const child = ntdll.spawn({
      file,
      argv: [file, 'exit', '0'],
      env: { ...process.env },
      actions: [],
      stdio: [stdio, stdio, stdio],
      command: file,
    });
    const started = performance.now() - start;
    child.stdin?.end();
    child.stdout?.resume();
    child.stderr?.resume();
    await child.exited;
    return [started, performance.now() - start];
  };
}

function viaCore(file, stdio) {
  return async () => {
    const start = performance.now();
    await forkBeforeExec(file, ['exit', '0'], { backend: ntdll, stdio });
    return [NaN, performance.now() - start];
  };
}

const cases = [];
for (const [program, file] of Object.entries(programs))
  for (const stdio of ['ignore', 'pipe'])
    cases.push(
      { name: `child_process.spawn ${program} ${stdio}`, fn: childProcess(file, stdio) },
      { name: `ntdll backend.spawn ${program} ${stdio}`, fn: ntdllBackend(file, stdio) },
      { name: `forkBeforeExec ntdll ${program} ${stdio}`, fn: viaCore(file, stdio) },
    );

for (const c of cases) for (let i = 0; i < 2; i++) await c.fn(); // warm-up: koffi bindings, first image load
const samples = new Map(cases.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++)
  for (let i = 0; i < cases.length; i++) {
    const c = cases[(i + round) % cases.length];
    samples.get(c.name).push(await c.fn());
  }

const cBaseline = (program) =>
  Number(execFileSync(process.env.FORKEXEC_SPAWN_LOOP, [programs[program], String(rounds)], { encoding: 'utf8' }));
const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
const stats = Object.fromEntries(
  [...samples].map(([name, rows]) => [
    name,
    { started: median(rows.map((r) => r[0])), total: median(rows.map((r) => r[1])) },
  ]),
);
console.log(
  `Windows node ${process.version} under Wine, ${rounds} interleaved rounds, parent ballast ${ballast.length >> 20} MiB`,
);
console.log('median ms per spawn+wait (ms until the spawn call returned)');
for (const program of Object.keys(programs))
  console.log(
    `  ${`C CreateProcessW+wait ${program}`.padEnd(36)} ${cBaseline(program).toFixed(1).padStart(7)} ms   (floor: no node, libuv or koffi)`,
  );
for (const [name, s] of Object.entries(stats))
  console.log(
    `  ${name.padEnd(36)} ${s.total.toFixed(1).padStart(7)} ms${Number.isNaN(s.started) ? '' : `   (spawn call ${s.started.toFixed(1)} ms)`}`,
  );
for (const program of Object.keys(programs))
  for (const stdio of ['ignore', 'pipe']) {
    const ours = stats[`ntdll backend.spawn ${program} ${stdio}`].total;
    const theirs = stats[`child_process.spawn ${program} ${stdio}`].total;
    console.log(`ratio ntdll / child_process.spawn, ${program}, stdio ${stdio}: ${(ours / theirs).toFixed(2)}`);
  }
