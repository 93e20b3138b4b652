// Per-spawn latency under Wine, run by Windows node (scripts/bench-wine.sh): the Windows helper
// (warm pool of suspended helpers) against the ntdll backend and child_process.spawn, spawning
// the same mingw program, one child at a time, rounds interleaved. Prints medians and ratios.
// Every spawn here is synchronous, so the time until spawn returned is both the time to pid and
// how long the event loop was blocked.
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createBackend as createHelperBackend } from '@forkexec/helper-exe';
import { createBackend as createNtdllBackend } from '@forkexec/ntdll-backend';

const program = process.env.FORKEXEC_NOOP;
const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const ballastMiB = Number(process.env.BENCH_BALLAST_MIB ?? 0);
// Wine creates a process by forking the Unix process that asks: the parent's size may matter. Touched, in 1 GiB pieces.
const ballast = Array.from({ length: Math.ceil(ballastMiB / 1024) }, (_, i) =>
  Buffer.alloc(Math.min(1024, ballastMiB - 1024 * i) * 1024 * 1024, 1),
);
const ntdll = createNtdllBackend();
// A warm pool: helpers must not retire between this case's turns (a round takes seconds under Wine).
const helper = createHelperBackend({ min: 2, idleTimeoutMs: 600_000 });

/** Each case resolves to [ms until spawn returned with a pid, ms until the child was collected]. */
function childProcess(stdio) {
  return () =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      const child = spawn(program, [], { stdio, windowsHide: true });
      const started = performance.now() - start;
      child.once('error', reject);
      child.once('exit', () => resolve([started, performance.now() - start]));
      child.stdout?.resume();
      child.stderr?.resume();
    });
}

function backendCase(backend, stdio) {
  return async () => {
    const start = performance.now();
    const child = backend.spawn({
      file: program,
      argv: [program],
      env: { ...process.env },
      actions: [],
      stdio: [stdio, stdio, stdio],
      command: program,
    });
    const started = performance.now() - start;
    if (!child.pid) throw new Error('no pid');
    child.stdin?.end();
    child.stdout?.resume();
    child.stderr?.resume();
    await child.exited;
    return [started, performance.now() - start];
  };
}

const cases = [];
for (const stdio of ['ignore', 'pipe'])
  cases.push(
    { name: `child_process.spawn ${stdio}`, fn: childProcess(stdio) },
    { name: `ntdll ${stdio}`, fn: backendCase(ntdll, stdio) },
    { name: `helper-exe ${stdio}`, fn: backendCase(helper, stdio) },
  );

const settle = () => new Promise((resolve) => setTimeout(resolve, 150)); // the pool refills between spawns, as in a real warm pool
for (const c of cases) for (let i = 0; i < 2; i++) await c.fn(); // warm-up: koffi bindings, first image loads
const samples = new Map(cases.map((c) => [c.name, []]));
// The longest the event loop stood still per case, the pool's background refills included (they create helpers).
const blocked = new Map(cases.map((c) => [c.name, 0]));
for (let round = 0; round < rounds; round++)
  for (let i = 0; i < cases.length; i++) {
    const c = cases[(i + round) % cases.length];
    await settle();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    await new Promise((resolve) => setTimeout(resolve, 5)); // the monitor's timer runs: the spawn call itself is counted
    samples.get(c.name).push(await c.fn());
    await settle();
    delay.disable();
    blocked.set(c.name, Math.max(blocked.get(c.name), delay.max / 1e6));
  }
const helperStats = helper.stats();
await helper.dispose();

const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
const stats = Object.fromEntries(
  [...samples].map(([name, rows]) => [
    name,
    { toPid: median(rows.map((r) => r[0])), total: median(rows.map((r) => r[1])) },
  ]),
);
console.log(
  `Windows node ${process.version} under Wine, ${rounds} interleaved rounds, parent ballast ${ballast.reduce((n, b) => n + b.length, 0) / 2 ** 20} MiB, helper pool ${JSON.stringify(helperStats)}`,
);
console.log(
  'median ms: time to pid (the spawn call: it is synchronous) | spawn to child collected | longest event-loop stall, refills included',
);
for (const [name, s] of Object.entries(stats))
  console.log(
    `  ${name.padEnd(28)} ${s.toPid.toFixed(2).padStart(8)} ms | ${s.total.toFixed(1).padStart(7)} ms | ${blocked.get(name).toFixed(1).padStart(7)} ms`,
  );
for (const stdio of ['ignore', 'pipe']) {
  const h = stats[`helper-exe ${stdio}`];
  for (const other of ['ntdll', 'child_process.spawn']) {
    const o = stats[`${other} ${stdio}`];
    console.log(
      `ratio helper-exe / ${other}, stdio ${stdio}: time to pid ${(h.toPid / o.toPid).toFixed(2)}, end to end ${(h.total / o.total).toFixed(2)}`,
    );
  }
}
