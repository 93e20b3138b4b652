// Spawns in a tight loop and with many in flight, where the pool's refill and the helper program's
// scheduling show: the helper taken must run as soon as its request arrives, and a burst must be
// served by helpers the zygote forks rather than by helpers started on the loop. helper-exe is
// bundled from this tree's src/ and runs the helper program built by the package build; with
// --base REV, a second one alongside is bundled from src/ as committed at REV and runs the helper
// program built from native/ at REV. ntdll runs too, for reference. Variants take turns: --block
// spawns back to back each (the first few of a turn are not counted), then throughput (--in-flight
// children at once for --duration ms), round by round. Prints per variant: request to exit
// (median, p90, mean), request to exec, spawns per second, the pool's counters; then new / old.
// Compare ratios: absolute numbers drift on shared machines.
//   node packages/helper-exe/bench/back-to-back.mjs --base HEAD [--rounds 12] [--block 30] [--program PATH]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { babel } from '@rollup/plugin-babel';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { forkBeforeExec } from '@forkexec/core';
import { backend as ntdll } from '@forkexec/ntdll-backend';
import { rollup } from 'rollup';

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

/**
 * createBackend of the helper-exe package at `pkg` (its src/ bundled next to it, so that it finds
 * its dist/ as the built package does; @forkexec/*, koffi and Node's modules stay external).
 */
async function loadPackage(pkg) {
  const src = path.join(pkg, 'src');
  const bundle = await rollup({
    input: path.join(src, 'helper-backend.ts'),
    external: (id) => id.startsWith('node:') || /^(@forkexec\/|koffi)/.test(id),
    plugins: [
      nodeResolve({ extensions: ['.ts', '.js'], preferBuiltins: true }),
      babel({ babelHelpers: 'bundled', extensions: ['.ts', '.js'], configFile: path.join(root, 'babel.config.cjs') }),
    ],
    onwarn: () => {},
  });
  const dir = mkdtempSync(path.join(pkg, '.bundle-'));
  try {
    await bundle.write({ dir, format: 'es', entryFileNames: 'index.mjs' });
    return (await import(pathToFileURL(path.join(dir, 'index.mjs')).href)).createBackend;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The package as committed at `rev`, its native parts built by that revision's build script, under `dir`. */
function packageAt(rev, dir) {
  execFileSync('sh', ['-c', 'git archive "$1" packages/helper-exe | tar -x -C "$2"', 'sh', rev, dir], { cwd: root });
  const pkg = path.join(dir, 'packages/helper-exe');
  execFileSync(process.execPath, [path.join(pkg, 'scripts/build-native.mjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return pkg;
}

// Inside this tree, so that the base's bundle resolves @forkexec/* and koffi from its node_modules.
const tmp = values.base ? mkdtempSync(path.join(here, '.base-')) : undefined;
const variants = { new: (await loadPackage(path.resolve(here, '..')))() };
if (values.base) variants[`at ${values.base}`] = (await loadPackage(packageAt(values.base, tmp)))();
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
