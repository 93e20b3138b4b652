// Where the event loop's time goes when a child starts on a warm helper: each layer measured on
// its own, alternated spawn by spawn in one process, medians in microseconds. "sync" is the time
// inside the call that starts the child (for helper-exe also the time to the pid); "busy" is the
// event loop's busy time from the call to the child's exit being known (the call, reading the
// helper's reply, reaping, the refill). The backend is bundled from src/ on each run, so no build
// is needed. Compare ratios: absolute numbers drift on shared machines.
//   node packages/helper-exe/bench/sync-block.mjs [--spawns 500] [--program /bin/true] [--base REV]
// With --base REV, a second backend runs alongside, bundled from the same sources except the
// spawn path's files (HOT_PATH below) as committed at REV: before/after ratios from one run.
// With --profile FILE, only backend.spawn(request) runs, under the V8 profiler, and its
// .cpuprofile (spawns and everything they cause on the loop afterwards) is written to FILE.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readSync, rmSync, writeFileSync, writevSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { babel } from '@rollup/plugin-babel';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { forkBeforeExec } from '@forkexec/core';
import { backend as ntdll } from '@forkexec/ntdll-backend';
import { parentEnviron } from '@forkexec/ntdll-backend/internal';
import { rollup } from 'rollup';

const { values } = parseArgs({
  options: {
    spawns: { type: 'string', default: '500' },
    program: { type: 'string', default: '/bin/true' },
    profile: { type: 'string' },
    base: { type: 'string' },
  },
});
const SPAWNS = Number(values.spawns);
const PROGRAM = values.program;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

const HOT_PATH = [
  'helper-backend.ts',
  'warm-pool.ts',
  ...[
    'spawn-on-helper.ts',
    'fd-plan.ts',
    'fd-passing.ts',
    'wire.ts',
    'helper-process.ts',
    'request-env.ts',
    'helper-pool.ts',
    'credentials.ts',
  ].map((f) => `linux/${f}`),
];

const ENTRY =
  'export { encodeRequest, envBlock } from "./linux/wire.ts"; export { fdPassing } from "./linux/fd-passing.ts";';

/** The sources in `src`, bundled next to this script (koffi and @forkexec/* resolve from the package). */
async function loadSources(src, entry = ENTRY) {
  const bundle = await rollup({
    input: 'bench-entry',
    external: (id) => id.startsWith('node:') || /^(@forkexec\/|koffi)/.test(id),
    plugins: [
      {
        name: 'entry',
        resolveId: (id) => (id === 'bench-entry' ? id : null),
        load: (id) => (id === 'bench-entry' ? entry : null),
      },
      { name: 'src', resolveId: (id, from) => (from === 'bench-entry' ? path.join(src, id) : null) },
      nodeResolve({ extensions: ['.ts', '.js'], preferBuiltins: true }),
      babel({ babelHelpers: 'bundled', extensions: ['.ts', '.js'], configFile: path.join(root, 'babel.config.cjs') }),
    ],
    onwarn: () => {},
  });
  const dir = mkdtempSync(path.join(here, '.sources-'));
  try {
    await bundle.write({ dir, format: 'es', entryFileNames: 'index.mjs' });
    return await import(pathToFileURL(path.join(dir, 'index.mjs')).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The working tree's sources with the hot-path files as committed at `rev`. */
async function loadBase(rev) {
  const dir = mkdtempSync(path.join(here, '.base-'));
  try {
    cpSync(path.join(here, '..', 'src'), dir, { recursive: true });
    const at = (file) =>
      execFileSync('git', ['ls-tree', '--name-only', rev, `./${file}`], {
        cwd: path.join(here, '..', 'src'),
        encoding: 'utf8',
      }).trim();
    for (const file of HOT_PATH) {
      if (at(file))
        writeFileSync(
          path.join(dir, file),
          execFileSync('git', ['show', `${rev}:./${file}`], { cwd: path.join(here, '..', 'src') }),
        );
      else rmSync(path.join(dir, file)); // not there yet at REV
    }
    return await loadSources(dir, 'export { createBackend } from "./helper-backend.ts";');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The raw rows run the encoder and the send from a bundle of their own: code run more often gets
// faster (JIT, caches), which would favour the backend that shares it over the --base one.
const { encodeRequest, envBlock, fdPassing } = await loadSources(path.join(here, '..', 'src'));
const backend = (
  await loadSources(path.join(here, '..', 'src'), 'export { createBackend } from "./helper-backend.ts";')
).createBackend();
const base = values.base ? (await loadBase(values.base)).createBackend() : undefined;
for (const b of [backend, base]) {
  const probe = b?.probe();
  if (probe && !probe.ok) throw new Error(`the helper-exe backend does not work here: ${probe.reason}`);
}
const native = fdPassing();
const environSnapshot = parentEnviron(); // what the pool's take compares libc's environ with

const request = {
  file: PROGRAM,
  argv: [PROGRAM],
  env: { ...process.env },
  actions: [],
  stdio: ['ignore', 'ignore', 'ignore'],
  command: PROGRAM,
};
const setup = [0, 1, 2].map((target) => ({ target, source: 'devnull' }));
const program = { ...request, cwd: process.cwd() };
const programWithBlock = { ...program, env: envBlock(program.env) };

// The raw sends: a socketpair whose other end is drained after each sample, outside the timing.
const [ours, theirs] = native.socketpair();
// A copy: an encoded request lives in a buffer the next encodeRequest() reuses.
const encoded = (({ header, body }) => ({ header: Buffer.from(header), body: Buffer.from(body) }))(
  encodeRequest(program, setup, 0),
);
const drain = Buffer.alloc(1 << 16);
const drainAll = (bytes) => {
  for (let got = 0; got < bytes;) got += readSync(theirs, drain, 0, drain.length, null);
};
const koffi = createRequire(path.join(here, '..', 'package.json'))('koffi');
const libc = koffi.load('libc.so.6');
const sendmsg = libc.func('intptr_t sendmsg(int fd, void *msg, int flags)');
// A msghdr laid out once (on ArrayBuffers, whose memory never moves): iov pointing at the encoded
// request, one fd (stdin) attached.
const iov = Buffer.from(new ArrayBuffer(32));
const control = Buffer.from(new ArrayBuffer(24));
const msg = Buffer.from(new ArrayBuffer(56));
iov.writeBigUInt64LE(koffi.address(encoded.header), 0);
iov.writeBigUInt64LE(BigInt(encoded.header.length), 8);
iov.writeBigUInt64LE(koffi.address(encoded.body), 16);
iov.writeBigUInt64LE(BigInt(encoded.body.length), 24);
control.writeBigUInt64LE(20n, 0);
control.writeInt32LE(1, 8); // SOL_SOCKET
control.writeInt32LE(1, 12); // SCM_RIGHTS
control.writeInt32LE(0, 16);
msg.writeBigUInt64LE(koffi.address(iov), 16);
msg.writeBigUInt64LE(2n, 24);
msg.writeBigUInt64LE(koffi.address(control), 32);
msg.writeBigUInt64LE(24n, 40);
const requestBytes = encoded.header.length + encoded.body.length;

const clockGettime = libc.func('int clock_gettime(int clock, _Out_ int64_t *ts)');
const ts = new BigInt64Array(2);
/** This thread's CPU time in ms: unlike the wall clock, it leaves out the time other processes had the CPU. */
const threadCpuMs = () => {
  clockGettime(3, ts); // CLOCK_THREAD_CPUTIME_ID
  return Number(ts[0]) * 1e3 + Number(ts[1]) / 1e6;
};

/** A layer: `start` does the measured call and returns a promise of the child's end, if a child runs; `after` cleans up, untimed. */
const spawnLayer = (spawn) => ({ start: () => spawn().exited });
const fbeLayer = (backendObject) => ({
  start: () => forkBeforeExec(PROGRAM, [], { backend: backendObject, stdio: 'ignore' }).then(() => {}),
});
const layers = {
  forkBeforeExec: fbeLayer(backend),
  'backend.spawn(request, { deferPid: true })': spawnLayer(() => backend.spawn(request, { deferPid: true })),
  'backend.spawn(request)': spawnLayer(() => backend.spawn(request)),
  ...(base && {
    [`forkBeforeExec, hot path at ${values.base}`]: fbeLayer(base),
    [`backend.spawn(request), hot path at ${values.base}`]: spawnLayer(() => base.spawn(request)),
  }),
  'ntdll backend.spawn(request), for reference': spawnLayer(() => ntdll.spawn(request)),
  "takeCheck (pool's check: poll, ids, environ)": { start: () => void native.takeCheck(ours, environSnapshot) },
  "ntdll's parentEnviron() (ntdll's key for the env)": { start: () => void parentEnviron() },
  'encodeRequest (env unchanged)': { start: () => void encodeRequest(program, setup, 0) },
  'encodeRequest (env block ready)': { start: () => void encodeRequest(programWithBlock, setup, 0) },
  'sendWithFds of the request, no fd': {
    start: () => void native.sendWithFds(ours, [encoded.header, encoded.body], []),
    after: () => drainAll(requestBytes),
  },
  'Node writevSync of the request': {
    start: () => void writevSync(ours, [encoded.header, encoded.body]),
    after: () => drainAll(requestBytes),
  },
  // The passed fd arrives as a control message nobody receives: the kernel drops and closes it.
  'koffi sendmsg, prebuilt msghdr, one fd': {
    start: () => void sendmsg(ours, msg, 0x4000),
    after: () => drainAll(requestBytes),
  },
};

if (values.profile) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 50 });
  const { start } = layers['backend.spawn(request)'];
  for (let i = 0; i < 10; i++) await start();
  await session.post('Profiler.start');
  for (let i = 0; i < SPAWNS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await start();
  }
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(values.profile, JSON.stringify(profile));
  await backend.dispose();
  console.log(`profile of ${SPAWNS} spawns written to ${values.profile}`);
  process.exit(0);
}

const shuffled = (items) => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
};

const COLUMNS = ['sync', 'sync cpu', 'loop cpu', 'busy', 'cpu'];
const samples = Object.fromEntries(
  Object.keys(layers).map((name) => [name, Object.fromEntries(COLUMNS.map((c) => [c, []]))]),
);
for (let i = 0; i < SPAWNS; i++) {
  // A new order every round: what runs right after another spawn (or first after the pause) pays for it.
  for (const [name, { start, after }] of shuffled(Object.entries(layers))) {
    // Give the pool its tick to refill, as a caller that spawns now and then does.
    await new Promise((resolve) => setTimeout(resolve, 1));
    const elu = performance.eventLoopUtilization();
    const usage = process.cpuUsage();
    const c0 = threadCpuMs();
    const t0 = performance.now();
    const end = start();
    const t1 = performance.now();
    const c1 = threadCpuMs();
    after?.();
    if (end) await end;
    const c2 = threadCpuMs();
    const busyMs = performance.eventLoopUtilization(elu).active;
    const { user, system } = process.cpuUsage(usage);
    if (i < 10) continue; // the first ones load code
    const row = samples[name];
    row.sync.push(t1 - t0);
    row['sync cpu'].push(c1 - c0);
    if (end) row['loop cpu'].push(c2 - c0);
    if (end) row.busy.push(busyMs);
    if (end) row.cpu.push((user + system) / 1000);
  }
}
await backend.dispose();
await base?.dispose();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const us = (xs) => (xs.length ? (median(xs) * 1000).toFixed(0) : '—').padStart(9);

console.log(
  `per spawn of ${PROGRAM}, median of ${SPAWNS - 10} (microseconds): sync = wall time of the call; sync cpu = this thread's CPU time in it;`,
);
console.log(
  "loop cpu = this thread's CPU time from the call to the exit known; busy = the event loop's busy time meanwhile (also counts",
);
console.log("time the thread waited for a CPU); cpu = the whole process's CPU time (all threads) meanwhile");
console.log(`  ${'layer'.padEnd(48)}${COLUMNS.map((c) => c.padStart(9)).join('')}`);
for (const [name, row] of Object.entries(samples))
  console.log(`  ${name.padEnd(48)}${COLUMNS.map((c) => us(row[c])).join('')}`);
const m = (name, column = 'sync') => median(samples[name][column]) * 1000;
const spawnUs = m('backend.spawn(request)');
const fbe = m('forkBeforeExec');
console.log(
  `core's share of forkBeforeExec's sync time: ${(fbe - spawnUs).toFixed(0)} us (${(((fbe - spawnUs) / fbe) * 100).toFixed(0)}%)`,
);
console.log(
  `helper-exe's share: ${spawnUs.toFixed(0)} us (${((spawnUs / fbe) * 100).toFixed(0)}%); after the call, on a microtask (in busy, not sync): encoding ${m('encodeRequest (env unchanged)').toFixed(0)} us and the send ${m('sendWithFds of the request, no fd').toFixed(0)} us`,
);
if (base) {
  const ratio = (name, column) => (m(name, column) / m(`${name}, hot path at ${values.base}`, column)).toFixed(2);
  for (const column of COLUMNS)
    console.log(
      `${column} vs ${values.base}: backend.spawn(request) x${ratio('backend.spawn(request)', column)}, forkBeforeExec x${ratio('forkBeforeExec', column)}`,
    );
}
