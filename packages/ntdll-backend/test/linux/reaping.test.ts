// Reaping on real processes: exact statuses, no zombie, no fd growth, libuv's children untouched.
import { spawn as cpSpawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, type SpawnRequest } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { backend } from '../../src/index.js';
import { loadLibc, WNOHANG } from '../../src/linux/libc.js';
import { Reaper } from '../../src/linux/reaper.js';

const request = (args: string[], stdio: SpawnRequest['stdio'] = ['ignore', 'ignore', 'ignore']): SpawnRequest => ({
  file: probePath(),
  argv: ['fxprobe', ...args],
  env: {},
  actions: [],
  stdio,
  command: `fxprobe ${args.join(' ')}`,
});

/** Children of this process that are zombies. */
function zombies(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ');
      if (fields[0] === 'Z' && Number(fields[1]) === process.pid) found.push(Number(entry));
    } catch {}
  }
  return found;
}
const openFds = () => readdirSync('/proc/self/fd').length;

async function inBatches(total: number, width: number, start: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < total; i += width)
    await Promise.all(Array.from({ length: Math.min(width, total - i) }, (_, j) => start(i + j)));
}

describe('ntdll reaping', () => {
  it('2000 spawns leave no zombie and no extra fd', async () => {
    await backend.spawn(request(['exit', '0'])).exited; // warm-up: koffi and its fds are loaded
    const before = openFds();
    await inBatches(2000, 64, async (i) => {
      // Every third child gets pipes nobody reads or ends: they must still close once it exits.
      const status = await backend.spawn(
        request(['exit', String(i % 256)], i % 3 ? ['ignore', 'ignore', 'ignore'] : ['pipe', 'pipe', 'pipe']),
      ).exited;
      expect(status).toEqual({ exitCode: i % 256, signal: null });
    });
    await new Promise((resolve) => setTimeout(resolve, 100)); // sockets of the piped ones close on the next ticks
    expect(zombies()).toEqual([]);
    expect(openFds()).toBe(before);
  }, 300_000); // minutes when other jobs share the cores

  it("child_process children spawned meanwhile still get their 'exit' event", async () => {
    const cpExits: Promise<number | null>[] = [];
    await inBatches(400, 40, async (i) => {
      if (i % 20 === 0) {
        const child = cpSpawn(probePath(), ['sleep', '20', 'exit', String(i % 100)], { stdio: 'ignore' });
        cpExits.push(new Promise((resolve) => child.once('exit', resolve)));
      }
      expect(await backend.spawn(request(['exit', '3'])).exited).toEqual({ exitCode: 3, signal: null });
    });
    expect(await Promise.all(cpExits)).toEqual(Array.from({ length: 20 }, (_, k) => (k * 20) % 100));
  }, 120_000);

  it('signals are named like Node names them, and kill() after the exit is refused', async () => {
    for (const signal of ['SIGABRT', 'SIGBUS', 'SIGIO', 'SIGUSR2'] as const) {
      const child = backend.spawn(request(['raise', String(osConstants.signals[signal])]));
      expect(await child.exited).toEqual({ exitCode: null, signal });
      expect(child.kill('SIGTERM')).toBe(false);
    }
    const sleeper = backend.spawn(request(['sleep', '20000']));
    expect(() => sleeper.kill('SIGNOPE' as NodeJS.Signals)).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_SIGNAL' }),
    );
    expect(sleeper.kill(osConstants.signals.SIGHUP)).toBe(true);
    expect(await sleeper.exited).toEqual({ exitCode: null, signal: 'SIGHUP' });
  });

  it('a child reaped by someone else rejects with ECHILD instead of hanging', async () => {
    // Still running when spawn() returns (watch() reaps a child that is already gone at once).
    const child = backend.spawn(request(['sleep', '100', 'exit', '0']));
    loadLibc().waitpid(child.pid!, new Int32Array(1), 0); // blocking: steals the status before the reaper runs
    await expect(child.exited).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ECHILD' });
  });

  it('no waitpid at once for a child whose SIGCHLD is still to come, and one at once for a child whose SIGCHLD came before its pid', async () => {
    const libc = loadLibc();
    const waited: number[] = [];
    const reaper = new Reaper(
      Object.assign((pid: number, status: Int32Array) => (waited.push(pid), libc.waitpid(pid, status, WNOHANG)), {
        errno: () => libc.errno(),
      }),
    );
    reaper.listen();
    /** A child of this process that no other reaper watches (the backend's shared one does not know it). */
    const start = (code: number) => {
      const pid = new Int32Array(1);
      const argv = ['fxprobe', 'exit', String(code), null];
      expect(libc.posix_spawn(pid, probePath(), null as never, null as never, argv, [null])).toBe(0);
      return pid[0];
    };
    const settled = (pid: number, signalsBefore: number) =>
      new Promise((resolve, reject) => reaper.settle(pid, { resolve, reject }, signalsBefore));

    let mark = reaper.signals;
    const heard = start(7);
    const exit = settled(heard, mark);
    // No look at once unless a SIGCHLD (another child's, on a busy machine) came since the mark.
    expect(waited).toEqual(reaper.signals === mark ? [] : [heard]);
    expect(await exit).toEqual({ exitCode: 7, signal: null });
    // Reaped by a later look: its SIGCHLD's, or the poll timer's, which runs until the listener has heard one.
    expect(new Set(waited)).toEqual(new Set([heard]));

    mark = reaper.signals;
    const early = start(5);
    // It exits, and its SIGCHLD reaches the listener, before its pid is handed over.
    while (!zombies().includes(early) || reaper.signals === mark)
      await new Promise((resolve) => setTimeout(resolve, 1));
    waited.length = 0;
    const reaped = settled(early, mark);
    expect(waited).toEqual([early]); // looked for at once, in settle itself
    expect(await reaped).toEqual({ exitCode: 5, signal: null });
    expect(zombies()).toEqual([]);
  });

  it('large outputs arrive complete: 64 MiB out, 32 MiB through stdin and back', async () => {
    const MiB = 1024 * 1024;
    const spew = await forkBeforeExec(probePath(), ['spew', '1', String(64 * MiB)], {
      backend,
      encoding: 'buffer',
      maxBuffer: 128 * MiB,
    });
    expect(spew.stdout.length).toBe(64 * MiB);
    expect(spew.stdout[64 * MiB - 1]).toBe(97 + (((64 * MiB - 1) % 65536) % 26));
    const input = Buffer.alloc(32 * MiB);
    for (let i = 0; i < input.length; i += 4096) input.writeUInt32LE(i, i);
    const echoed = await forkBeforeExec(probePath(), ['cat'], {
      backend,
      input,
      encoding: 'buffer',
      maxBuffer: 64 * MiB,
    });
    expect(Buffer.compare(echoed.stdout, input)).toBe(0);
  });
});

// These run the built package in a fresh Node, where no test runner sits between it and the process.
const dist = path.resolve(__dirname, '../../dist/index.js');
const whenBuilt = existsSync(dist) ? it : it.skip;
const runNode = (script: string) =>
  new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = cpSpawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => resolve({ code, out }));
  });

describe(`ntdll reaping in a plain Node process${existsSync(dist) ? '' : ' [skipped: build the package first]'}`, () => {
  whenBuilt('keeps Node alive while a child runs, and holds nothing once it is reaped', async () => {
    const { code, out } = await runNode(`
      import { backend } from ${JSON.stringify(dist)};
      const child = backend.spawn({
        file: ${JSON.stringify(probePath())}, argv: ['p', 'sleep', '300', 'exit', '5'],
        env: {}, actions: [], stdio: ['ignore', 'ignore', 'ignore'], command: 'p',
      });
      const during = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      child.exited.then((status) => {
        const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
        console.log(JSON.stringify({ status, during, after }));
      });
    `);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ status: { exitCode: 5, signal: null }, during: 1, after: 0 });
  });

  whenBuilt('works inside a worker thread, where SIGCHLD never reaches JavaScript', async () => {
    const { code, out } = await runNode(`
      import { Worker } from 'node:worker_threads';
      const worker = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        import(${JSON.stringify(dist)}).then(async ({ backend }) => {
          const statuses = [];
          for (let i = 0; i < 20; i++)
            statuses.push((await backend.spawn({
              file: ${JSON.stringify(probePath())}, argv: ['p', 'exit', String(i)],
              env: {}, actions: [], stdio: ['ignore', 'ignore', 'ignore'], command: 'p',
            }).exited).exitCode);
          parentPort.postMessage(statuses.join(','));
        });
      \`, { eval: true, execArgv: [] });
      worker.on('message', (m) => console.log(m));
    `);
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: Array.from({ length: 20 }, (_, i) => i).join(',') });
  });
});
