// Spawns in a tight loop and with many in flight, where the helper program's scheduling shows: the
// helper taken must run as soon as its request arrives, and the zygote's refill must keep up.
// The built backend (dist/) runs the helper program built from this tree's native/ and, with
// --base REV, a second backend alongside runs the one built from native/ as committed at REV;
// ntdll runs too, for reference. Variants take turns: --block spawns back to back each (the first
// few of a turn are not counted), then throughput (--in-flight children at once for --duration ms),
// round by round. Prints per variant: request to exit (median, p90, mean), request to exec, spawns
// per second, and the pool's counters; then new / old. Compare ratios: absolute numbers drift on
// shared machines.
//   node packages/helper-exe/bench/back-to-back.mjs --base HEAD [--rounds 12] [--block 30] [--program PATH]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forkBeforeExec } from '@forkexec/core';
import { createBackend } from '@forkexec/helper-exe';
import { backend as ntdll } from '@forkexec/ntdll-backend';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '12' },
    block: { type: 'string', default: '30' },
    'in-flight': { type: 'string', default: '64' },
    duration: { type: 'string', default: '400' },
    program: { type: 'string' },
  },
});
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const ROUNDS = Number(values.rounds);
const BLOCK = Number(values.block);
const SKIP = 3; // the first spawns of a turn pay for the other variant's turn
const IN_FLIGHT = Number(values['in-flight']);
const DURATION = Number(values.duration);
// The bench's static target when the CLI is built (a dynamic /bin/true adds its loader's work).
const builtTarget = path.join(root, 'packages/cli/dist/native/bench-target');
const PROGRAM = values.program ?? (existsSync(builtTarget) ? builtTarget : '/bin/true');

/** The helper program as committed at `rev`, built by that revision's own build script into a temporary directory. */
function helperAt(rev, dir) {
  const tree = path.join(dir, 'tree');
  execFileSync('mkdir', ['-p', tree]);
  execFileSync(
    'sh',
    ['-c', 'git archive "$1" packages/helper-exe/native packages/helper-exe/scripts | tar -x -C "$2"', 'sh', rev, tree],
    {
      cwd: root,
    },
  );
  const out = path.join(dir, 'out');
  execFileSync(process.execPath, [path.join(tree, 'packages/helper-exe/scripts/build-native.mjs'), out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return path.join(out, 'fxhelper');
}

const tmp = values.base ? mkdtempSync(path.join(tmpdir(), 'fxhelper-base-')) : undefined;
const variants = { new: createBackend() };
if (values.base) variants[`at ${values.base}`] = createBackend({ helperPath: helperAt(values.base, tmp) });
variants.ntdll = ntdll;

const spawn = (backend) => forkBeforeExec(PROGRAM, [], { backend, stdio: 'ignore' });
const results = Object.fromEntries(Object.keys(variants).map((name) => [name, { exit: [], exec: [], rates: [] }]));

async function backToBack(backend, into) {
  for (let i = 0; i < BLOCK; i++) {
    const t0 = performance.now();
    const child = spawn(backend);
    await child.started;
    const t1 = performance.now();
    await child;
    if (i < SKIP) continue;
    into.exec.push(t1 - t0);
    into.exit.push(performance.now() - t0);
  }
}

function throughput(backend) {
  const t0 = performance.now();
  let running = 0;
  let completed = 0;
  return new Promise((resolve, reject) => {
    const one = () => {
      running++;
      spawn(backend).then(() => {
        running--;
        completed++;
        if (performance.now() - t0 < DURATION) one();
        else if (running === 0) resolve((completed * 1000) / (performance.now() - t0));
      }, reject);
    };
    for (let i = 0; i < IN_FLIGHT; i++) one();
  });
}

const load = loadavg()[0];
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, backend] of Object.entries(variants)) await backToBack(backend, results[name]);
  for (const [name, backend] of Object.entries(variants)) results[name].rates.push(await throughput(backend));
}
const stats = Object.fromEntries(Object.entries(variants).map(([name, b]) => [name, b.stats?.()]));
for (const backend of Object.values(variants)) if (backend !== ntdll) await backend.dispose();
if (tmp) rmSync(tmp, { recursive: true, force: true });

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const row = ({ exit, exec, rates }) => ({
  'exit med': quantile(exit, 0.5),
  'exit p90': quantile(exit, 0.9),
  'exit mean': mean(exit),
  'exec med': quantile(exec, 0.5),
  'exec p90': quantile(exec, 0.9),
  'spawns/s': quantile(rates, 0.5),
});
const rows = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, row(r)]));
const columns = Object.keys(rows.new);
console.log(
  `${PROGRAM}: ${ROUNDS} rounds of ${BLOCK} back to back (ms, first ${SKIP} of each not counted) and ${IN_FLIGHT} in flight for ${DURATION} ms (median spawns/s); load ${load.toFixed(1)} -> ${loadavg()[0].toFixed(1)}`,
);
console.log(`  ${'variant'.padEnd(14)}${columns.map((c) => c.padStart(10)).join('')}`);
for (const [name, r] of Object.entries(rows))
  console.log(
    `  ${name.padEnd(14)}${columns.map((c) => r[c].toFixed(c === 'spawns/s' ? 0 : 3).padStart(10)).join('')}`,
  );
if (values.base) {
  const old = rows[`at ${values.base}`];
  console.log(
    `  ${'new / old'.padEnd(14)}${columns.map((c) => `x${(rows.new[c] / old[c]).toFixed(2)}`.padStart(10)).join('')}`,
  );
}
for (const [name, s] of Object.entries(stats)) if (s) console.log(`  pool ${name}: ${JSON.stringify(s)}`);
