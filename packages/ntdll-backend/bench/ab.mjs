// Old against new in one run: core and the ntdll backend bundled from the working tree and, with
// --base REV, from the same packages as committed at REV, both loaded into this process and
// alternated spawn by spawn (a new order every round), at the parent RSS sizes asked for. Prints
// medians per spawn of a tiny program (stdio ignored): end to end (request to exit), sync (inside
// the call), pid (request to pid), busy (event-loop busy time from the call to the exit), cpu (the
// main thread's CPU time from the call to the exit: unlike the others, it leaves out the time
// other processes had the CPU, so small savings in JS show through a loaded machine), exit (from
// the SIGCHLD reaching JS, in a listener that runs first, to the caller's await resuming), then
// spawns per second with 64 in flight, alternated round by round; the last column is new / old.
// Compare ratios: absolute numbers drift on shared machines.
// --back-to-back N: each variant spawns N times in a row per turn (the other variant runs between turns).
// --backend helper-exe: the helper-exe backend (bundled from the same trees, its helpers started by that tree's ntdll,
//   its helper program and native library the working tree's build) instead of ntdll; the working tree's ntdll
//   alternates with them, and the last line is new / ntdll.
//   node packages/ntdll-backend/bench/ab.mjs --base HEAD [--spawns 400] [--sizes 50,1024] [--program PATH] [--on-loop]
//     [--back-to-back N] [--backend ntdll|helper-exe] [--pollute MiB]
// --pollute N: before each sample, writes over N MiB (outside the timed window), evicting the CPU's caches as
//   the other processes the bench runs between spawns do (Bun, Python, the C floor): the call then runs cold.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { babel } from '@rollup/plugin-babel';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { rollup } from 'rollup';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    spawns: { type: 'string', default: '400' },
    sizes: { type: 'string', default: '50,1024' },
    program: { type: 'string' },
    'in-flight': { type: 'string', default: '64' },
    rounds: { type: 'string', default: '6' },
    'on-loop': { type: 'boolean', default: false },
    'back-to-back': { type: 'string', default: '1' },
    backend: { type: 'string', default: 'ntdll' },
    pollute: { type: 'string', default: '0' },
  },
});
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const SPAWNS = Number(values.spawns);
const WARMUP = 20;
const IN_FLIGHT = Number(values['in-flight']);
const ROUNDS = Number(values.rounds);
// The bench's static target when the CLI is built (a dynamic /bin/true adds its loader's work to every method).
const builtTarget = path.join(root, 'packages/cli/dist/native/bench-target');
const PROGRAM = values.program ?? (existsSync(builtTarget) ? builtTarget : '/bin/true');
const MiB = 2 ** 20;
const HELPER_EXE = values.backend === 'helper-exe';
if (!HELPER_EXE && values.backend !== 'ntdll')
  throw new Error(`--backend must be ntdll or helper-exe, got ${values.backend}`);
/** The packages bundled, by the specifier their sources import them with. */
const PACKAGES = {
  '@forkexec/core': 'packages/core/src/index.ts',
  '@forkexec/core/backend-kit': 'packages/core/src/backend-kit.ts',
  '@forkexec/ntdll-backend/internal': 'packages/ntdll-backend/src/internal.ts',
};

/** forkBeforeExec and the backend, bundled from the packages under `tree` (other packages stay external). */
async function load(tree) {
  const entry = `export { forkBeforeExec } from ${JSON.stringify(path.join(tree, 'packages/core/src/index.ts'))};
export { createBackend } from ${JSON.stringify(path.join(tree, 'packages/ntdll-backend/src/index.ts'))};
${HELPER_EXE ? `export { createBackend as createHelperExe } from ${JSON.stringify(path.join(tree, 'packages/helper-exe/src/index.ts'))};` : ''}`;
  const bundle = await rollup({
    input: 'ab-entry',
    external: (id) => id !== 'ab-entry' && !PACKAGES[id] && !id.startsWith('.') && !path.isAbsolute(id),
    plugins: [
      {
        name: 'entry',
        resolveId: (id) => (id === 'ab-entry' ? id : PACKAGES[id] ? path.join(tree, PACKAGES[id]) : null),
        load: (id) => (id === 'ab-entry' ? entry : null),
        // Each module's import.meta.url is its counterpart in the working tree: every package finds its
        // native parts (ntdll's clone library, helper-exe's helper and take-check library) where the build put them.
        resolveImportMeta: (property, { moduleId }) =>
          property === 'url' && path.isAbsolute(moduleId)
            ? JSON.stringify(pathToFileURL(path.join(root, path.relative(tree, moduleId))).href)
            : null,
      },
      nodeResolve({ extensions: ['.ts', '.js'], preferBuiltins: true }),
      babel({ babelHelpers: 'bundled', extensions: ['.ts', '.js'], configFile: path.join(root, 'babel.config.cjs') }),
    ],
    onwarn: () => {},
  });
  const dir = mkdtempSync(path.join(here, '.ab-'));
  try {
    await bundle.write({ dir, format: 'es', entryFileNames: 'index.mjs' });
    const loaded = await import(pathToFileURL(path.join(dir, 'index.mjs')).href);
    const ntdll = loaded.createBackend();
    const backend = HELPER_EXE ? loaded.createHelperExe({ starter: ntdll }) : ntdll;
    const probe = backend.probe();
    if (!probe.ok) throw new Error(`the ${values.backend} backend does not work here: ${probe.reason}`);
    return { forkBeforeExec: loaded.forkBeforeExec, backend, ntdll };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The packages as committed at `rev`, extracted to a scratch folder. */
function extract(rev) {
  const dir = mkdtempSync(path.join(here, '.base-'));
  const trees = ['packages/core/src', 'packages/ntdll-backend/src', ...(HELPER_EXE ? ['packages/helper-exe/src'] : [])];
  const tar = execFileSync('git', ['archive', rev, ...trees], { cwd: root });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  return dir;
}

const variants = { new: await load(root) };
if (values.base) {
  const dir = extract(values.base);
  try {
    variants[`old (${values.base})`] = await load(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
// --on-loop: the working tree again, asked to start its children on the event loop.
if (values['on-loop']) variants['new, startOffLoop: false'] = { ...variants.new, startOffLoop: false };
// helper-exe's target is relative to ntdll: the working tree's ntdll alternates too, from a bundle of
// its own (sharing new's core, it ran that core twice as often as old's: new's sync came out ~20%
// faster than the same code as old).
if (HELPER_EXE) {
  const ntdllTree = await load(root);
  variants.ntdll = { ...ntdllTree, backend: ntdllTree.ntdll };
}
const names = Object.keys(variants);

const koffi = createRequire(path.join(root, 'packages/ntdll-backend/package.json'))('koffi');
const clockGettime = koffi.load('libc.so.6').func('int clock_gettime(int clock, _Out_ int64_t *ts)');
const ts = new BigInt64Array(2);
/** This thread's CPU time, ms. */
const threadCpuMs = () => {
  clockGettime(3, ts); // CLOCK_THREAD_CPUTIME_ID
  return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
};

const start = ({ forkBeforeExec, backend, startOffLoop }) =>
  forkBeforeExec(PROGRAM, [], { backend, stdio: 'ignore', startOffLoop });

let sigchldAt = 0;

const pollution = Buffer.alloc(Number(values.pollute) * MiB);
let polluted = 0;

async function sample(variant) {
  if (pollution.length) pollution.fill(++polluted & 0xff);
  const elu = performance.eventLoopUtilization();
  const c0 = threadCpuMs();
  const t0 = performance.now();
  const child = start(variant);
  const t1 = performance.now();
  let pidAt = t1;
  if (child.pid === undefined) {
    await child.started;
    pidAt = performance.now();
  }
  await child;
  const t2 = performance.now();
  const exit = t2 - sigchldAt;
  const busy = performance.eventLoopUtilization(elu).active;
  return { total: t2 - t0, sync: t1 - t0, pid: pidAt - t0, busy, cpu: threadCpuMs() - c0, exit };
}

async function throughput(variant, ms = 500) {
  const t0 = performance.now();
  let completed = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() - t0 < ms) {
        await start(variant);
        completed++;
      }
    }),
  );
  return (completed / (performance.now() - t0)) * 1000;
}

const shuffled = (items) => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const COLUMNS = ['total', 'sync', 'pid', 'busy', 'cpu', 'exit'];

// Both variants' reapers listen for SIGCHLD; this listener runs before them.
await start(variants.new); // the first spawn installs a reaper's listener
process.prependListener('SIGCHLD', () => (sigchldAt = performance.now()));

const ballast = [];
for (const mib of values.sizes.split(',').map(Number)) {
  const missing = mib * MiB - process.memoryUsage.rss();
  if (missing > 0) ballast.push(Buffer.alloc(missing).fill(1));
  const samples = Object.fromEntries(names.map((n) => [n, Object.fromEntries(COLUMNS.map((c) => [c, []]))]));
  const run = Number(values['back-to-back']);
  for (let i = 0; i < WARMUP + SPAWNS; i += run)
    for (const name of shuffled([...names]))
      for (let k = 0; k < run; k++) {
        const s = await sample(variants[name]);
        if (i >= WARMUP) for (const c of COLUMNS) samples[name][c].push(s[c]);
      }
  const rates = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < ROUNDS; r++)
    for (const name of shuffled([...names])) rates[name].push(await throughput(variants[name]));
  console.log(
    `\nparent RSS ${(process.memoryUsage.rss() / MiB).toFixed(0)} MiB, ${SPAWNS} spawns of ${path.basename(PROGRAM)} per variant, alternated; medians (ms), spawns/s with ${IN_FLIGHT} in flight:`,
  );
  console.log(`  ${'variant'.padEnd(24)}${[...COLUMNS, 'spawns/s'].map((c) => c.padStart(10)).join('')}`);
  const row = (name) => [...COLUMNS.map((c) => median(samples[name][c])), median(rates[name])];
  for (const name of names)
    console.log(
      `  ${name.padEnd(24)}${row(name)
        .map((v, i) => (i < COLUMNS.length ? v.toFixed(3) : v.toFixed(0)).padStart(10))
        .join('')}`,
    );
  const [a, ...others] = names.map(row);
  others.forEach((b, k) =>
    console.log(
      `  ${`new / ${names[k + 1].split(' ')[0]}`.padEnd(24)}${a.map((v, i) => (v / b[i]).toFixed(2).padStart(10)).join('')}`,
    ),
  );
}
await Promise.all(names.map((n) => variants[n].backend.dispose?.()));
