// Where the event loop's time goes when forkBeforeExec starts a child on the ntdll backend (built
// dist): each layer measured on its own, alternated spawn by spawn in one process, medians in
// microseconds. "sync" is the time inside the call that starts the child (the loop waits for all
// of it). Compare ratios: absolute numbers drift on shared machines.
//   node packages/ntdll-backend/bench/sync-block.mjs [--spawns 500] [--program /bin/true]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forkBeforeExec } from '@forkexec/core';
import { backend } from '../dist/index.js';
import { parentEnviron } from '../dist/internal.js';

const { values } = parseArgs({
  options: { spawns: { type: 'string', default: '500' }, program: { type: 'string', default: '/bin/true' } },
});
const SPAWNS = Number(values.spawns);
const PROGRAM = values.program;
const probe = backend.probe();
if (!probe.ok) throw new Error(`the ntdll backend does not work here: ${probe.reason}`);

// The raw koffi calls, with file actions built once: what is left once every JS layer is gone.
const koffi = createRequire(import.meta.url)('koffi');
const libc = koffi.load('libc.so.6');
const posixSpawn = libc.func(
  'int posix_spawn(int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)',
);
const waitpid = libc.func('int waitpid(int pid, int *status, int options)');
const fa = Buffer.alloc(256);
libc.func('int posix_spawn_file_actions_init(void *fa)')(fa);
libc.func('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)')(
  fa,
  0,
  '/dev/null',
  2,
  0,
);
for (const fd of [1, 2]) libc.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)')(fa, 0, fd);
const envp = [...Object.entries(process.env).map(([k, v]) => `${k}=${v}`), null];
const status = new Int32Array(1);
const reap = async (pid) => {
  while (waitpid(pid, status, 1) === 0) await new Promise((resolve) => setTimeout(resolve, 0));
};

// As core builds it for a child that inherits the parent's environment: env is read only on demand.
const request = {
  file: PROGRAM,
  argv: [PROGRAM],
  get env() {
    return { ...process.env };
  },
  inheritsEnv: true,
  actions: [],
  stdio: ['ignore', 'ignore', 'ignore'],
  command: PROGRAM,
};
/** Each returns [sync ms, promise of the end]. */
const layers = {
  'process.env copied (what core no longer does: env inherited)': () => {
    const t = performance.now();
    const env = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    return [performance.now() - t, Promise.resolve()];
  },
  'libc environ array copied (what ntdll does instead)': () => {
    const t = performance.now();
    parentEnviron();
    return [performance.now() - t, Promise.resolve()];
  },
  'forkBeforeExec, off the loop (default)': () => {
    const t = performance.now();
    const child = forkBeforeExec(PROGRAM, [], { backend: 'ntdll', stdio: 'ignore' });
    return [performance.now() - t, child];
  },
  'forkBeforeExec, startOffLoop: false': () => {
    const t = performance.now();
    const child = forkBeforeExec(PROGRAM, [], { backend: 'ntdll', stdio: 'ignore', startOffLoop: false });
    return [performance.now() - t, child];
  },
  'backend.spawn(request, { deferPid: true })': () => {
    const t = performance.now();
    const child = backend.spawn(request, { deferPid: true });
    return [performance.now() - t, child.exited];
  },
  'backend.spawn(request)': () => {
    const t = performance.now();
    const child = backend.spawn(request);
    return [performance.now() - t, child.exited];
  },
  'koffi posix_spawn.async, prebuilt': () => {
    const pid = new Int32Array(1);
    const t = performance.now();
    let done;
    const called = new Promise((resolve) => (done = resolve));
    posixSpawn.async(pid, PROGRAM, fa, null, [PROGRAM, null], envp, () => done());
    return [performance.now() - t, called.then(() => reap(pid[0]))];
  },
  'koffi posix_spawn, prebuilt': () => {
    const pid = new Int32Array(1);
    const t = performance.now();
    posixSpawn(pid, PROGRAM, fa, null, [PROGRAM, null], envp);
    return [performance.now() - t, reap(pid[0])];
  },
};

const samples = Object.fromEntries(Object.keys(layers).map((name) => [name, []]));
for (let i = 0; i < SPAWNS; i++) {
  for (const [name, layer] of Object.entries(layers)) {
    const [syncMs, end] = layer();
    await end;
    if (i >= 10) samples[name].push(syncMs); // the first ones load code
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const here = path.dirname(fileURLToPath(import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'forkexec-sync-block-'));
let floor;
try {
  execFileSync(process.env.CC ?? 'cc', [
    '-O2',
    '-o',
    path.join(scratch, 'floor'),
    path.join(here, 'posix-spawn-floor.c'),
  ]);
  const rss = Math.round(process.memoryUsage.rss() / 2 ** 20);
  floor = Number(
    execFileSync(path.join(scratch, 'floor'), [String(SPAWNS), String(rss), PROGRAM], { encoding: 'utf8' }).split(
      ' ',
    )[1],
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log(`sync time per spawn of ${PROGRAM}, median of ${SPAWNS - 10} (microseconds):`);
const rows = Object.entries(samples).map(([name, xs]) => [name, median(xs) * 1000]);
rows.push(['C posix_spawn, inside the call (the floor of any on-loop block)', floor * 1000]);
for (const [name, us] of rows) console.log(`  ${name.padEnd(66)} ${us.toFixed(0).padStart(6)}`);
const us = Object.fromEntries(rows);
console.log(
  `core's share (forkBeforeExec off the loop - backend.spawn deferred): ${(us['forkBeforeExec, off the loop (default)'] - us['backend.spawn(request, { deferPid: true })']).toFixed(0)} us`,
);
console.log(
  `backend's share (backend.spawn deferred - raw async call): ${(us['backend.spawn(request, { deferPid: true })'] - us['koffi posix_spawn.async, prebuilt']).toFixed(0)} us`,
);
