// The off-the-loop start (SpawnOptions.deferPid): posix_spawn on libuv's threadpool, on real processes.
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SpawnRequest } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { createBackend } from '../../src/index.js';
import { hostProcess } from '../../src/linux/host-process.js';
import { waitingCalls } from '../../src/linux/thread-pool-lane.js';

/** The posix_spawn path, whose start can run on the threadpool (the clone path has no deferred start). */
const backend = createBackend({ spawner: 'posix_spawn' });

const request = (args: string[], extra: Partial<SpawnRequest> = {}): SpawnRequest => ({
  file: probePath(),
  argv: ['fxprobe', ...args],
  env: {},
  actions: [],
  stdio: ['ignore', 'ignore', 'ignore'],
  command: `fxprobe ${args.join(' ')}`,
  ...extra,
});
const deferred = (args: string[], extra: Partial<SpawnRequest> = {}) =>
  backend.spawn(request(args, extra), { deferPid: true });
const openFds = () => readdirSync('/proc/self/fd').length;
const read = (stream: NodeJS.ReadableStream | null) =>
  new Promise<string>((resolve) => {
    let text = '';
    stream!.on('data', (chunk) => (text += chunk)).once('end', () => resolve(text));
  });

describe('ntdll start off the event loop', () => {
  it('returns before the child exists, with working streams; the pid arrives with `started`', async () => {
    const child = deferred(['cat'], { stdio: ['pipe', 'pipe', 'ignore'] });
    expect(child.pid).toBeUndefined();
    expect(child.started).toBeInstanceOf(Promise);
    child.stdin!.end('written before the child ran\n'); // the pipe exists already
    const output = read(child.stdout);
    const pid = await child.started!;
    expect(child.pid).toBe(pid);
    expect(await child.exited).toEqual({ exitCode: 0, signal: null });
    expect(await output).toBe('written before the child ran\n');
  });

  it('at most two posix_spawn calls on the threadpool at once, the others waiting in call order', async () => {
    const children = Array.from({ length: 24 }, (_, i) => deferred(['exit', String(i)]));
    expect(waitingCalls()).toBe(22);
    const pids = await Promise.all(children.map((child) => child.started!));
    expect(new Set(pids).size).toBe(24);
    expect(waitingCalls()).toBe(0);
    const codes = (await Promise.all(children.map((c) => c.exited))).map((s) => s.exitCode);
    expect(codes).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('a dup2 from a parent fd runs at once (the caller may close that fd when the call returns)', async () => {
    const file = path.join(tmpdir(), `forkexec-deferred-${process.pid}.txt`);
    const fd = openSync(file, 'w');
    const child = deferred(['echo', 'at-once'], { actions: [{ op: 'dup2', from: fd, to: 1 }] });
    expect(child.pid).toBeGreaterThan(0);
    expect(child.started).toBeUndefined();
    closeSync(fd);
    await child.exited;
    expect(readFileSync(file, 'utf8')).toBe('at-once\n');
    rmSync(file);
  });

  it('an fd given as stdio is copied at the call: the copy reaches the child, and closes after the spawn', async () => {
    const file = path.join(tmpdir(), `forkexec-deferred-copy-${process.pid}.txt`);
    const fd = openSync(file, 'w');
    writeSync(fd, 'head\n');
    const before = openFds();
    const child = deferred(['echo', 'tail'], { stdio: ['ignore', fd, 'ignore'] });
    expect(openFds()).toBe(before + 1); // the copy
    closeSync(fd);
    await child.exited;
    expect(openFds()).toBe(before - 1);
    expect(readFileSync(file, 'utf8')).toBe('head\ntail\n');
    rmSync(file);
  });

  it('a failure in the child is a typed error with the errno and the action, and leaves no fd open', async () => {
    const before = openFds();
    const child = deferred(['echo', 'never'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      actions: [
        { op: 'chdir', path: '/' },
        { op: 'open', fd: 7, path: '/nonexistent/forkexec', flags: 'r' },
      ],
    });
    await expect(child.started).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT', actionIndex: 1 });
    await expect(child.exited).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT', actionIndex: 1 });
    expect(child.pid).toBeUndefined();
    expect(child.kill()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20)); // destroyed sockets close on a later tick
    expect(openFds()).toBe(before);
  });

  it('kill() before the pid is known: a bad signal throws at once, a good one is sent once the child runs', async () => {
    const child = deferred(['sleep', '20000']);
    expect(() => child.kill('SIGNOPE' as NodeJS.Signals)).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_SIGNAL' }),
    );
    expect(child.kill('SIGUSR1')).toBe(true);
    expect(await child.exited).toEqual({ exitCode: null, signal: 'SIGUSR1' });
  });

  it('when other koffi users hold all 256 of its async slots, the spawn runs on the loop instead', async () => {
    const koffi = createRequire(__filename)('koffi') as {
      load(name: string): { func(p: string): { async(...args: unknown[]): void } };
    };
    const usleep = koffi.load('libc.so.6').func('int usleep(unsigned int usec)');
    const sleeping: Promise<void>[] = [];
    const sleep = () => {
      let resolve!: () => void;
      sleeping.push(new Promise<void>((r) => (resolve = r)));
      usleep.async(2000, () => resolve()); // throws once koffi has no slot left
    };
    expect(() => {
      for (let i = 0; i < 1000; i++) sleep();
    }).toThrow(/Too many asynchronous calls/);
    sleeping.pop(); // the call koffi refused never settles
    const child = deferred(['echo', 'spawned-anyway'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const output = read(child.stdout);
    expect(child.pid).toBeUndefined();
    expect(await child.started).toBeGreaterThan(0);
    expect(await child.exited).toEqual({ exitCode: 0, signal: null });
    expect(await output).toBe('spawned-anyway\n');
    await Promise.all(sleeping);
    const next = deferred(['exit', '4']); // the lane is free again
    expect(await next.exited).toEqual({ exitCode: 4, signal: null });
  });

  it("a spawn that waited in the queue past the reaper's idle second still has its exit heard", async () => {
    // Two children block in their open action (a FIFO without a writer) before exec, holding both lanes.
    const fifo = path.join(tmpdir(), `forkexec-lane-${process.pid}`);
    execFileSync('mkfifo', [fifo]);
    try {
      const holders = [0, 1].map(() =>
        deferred(['exit', '0'], { actions: [{ op: 'open', fd: 5, path: fifo, flags: 'r' }] }),
      );
      const queued = deferred(['exit', '6']);
      expect(waitingCalls()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // nothing pending: the reaper stops listening
      expect(hostProcess().listenerCount('SIGCHLD')).toBe(0);
      closeSync(openSync(fifo, 'w')); // the holders' opens return: they exec, the queued spawn runs
      await queued.started;
      expect(hostProcess().listenerCount('SIGCHLD')).toBe(1);
      expect(await Promise.all([...holders, queued].map((c) => c.exited))).toEqual([
        { exitCode: 0, signal: null },
        { exitCode: 0, signal: null },
        { exitCode: 6, signal: null },
      ]);
    } finally {
      rmSync(fifo, { force: true });
    }
  });

  it('1000 spawns, 64 at a time, leave no zombie and no extra fd', async () => {
    await deferred(['exit', '0']).exited;
    const before = openFds();
    for (let i = 0; i < 1000; i += 64) {
      const batch = Array.from({ length: Math.min(64, 1000 - i) }, (_, j) =>
        deferred(['exit', String((i + j) % 256)], (i + j) % 3 ? {} : { stdio: ['pipe', 'pipe', 'pipe'] }),
      );
      expect((await Promise.all(batch.map((c) => c.exited))).map((s) => s.exitCode)).toEqual(
        batch.map((_, j) => (i + j) % 256),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(openFds()).toBe(before);
    const zombies = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((e) => {
        try {
          const fields = readFileSync(`/proc/${e}/stat`, 'utf8')
            .replace(/^.*\) /, '')
            .split(' ');
          return fields[0] === 'Z' && Number(fields[1]) === process.pid;
        } catch {
          return false;
        }
      });
    expect(zombies).toEqual([]);
  }, 120_000);
});

// The built packages in a fresh Node, inside a Worker: koffi's async call reports there, and the
// parent's copies of the pipe ends are closed without Node's warning about fds fs did not open.
const dist = path.resolve(__dirname, '../../dist/index.js');
const core = path.resolve(__dirname, '../../../core/dist/index.js');
const whenBuilt = existsSync(dist) && existsSync(core) ? it : it.skip;
describe(`ntdll start off the event loop in a Worker${whenBuilt === it ? '' : ' [skipped: build the packages first]'}`, () => {
  whenBuilt(
    'captures output on every path (clone, posix_spawn on and off the loop) and prints no warning',
    async () => {
      const script = `
      const { Worker } = require('node:worker_threads');
      new Worker(\`
        const { parentPort } = require('node:worker_threads');
        import(${JSON.stringify(core)}).then(async ({ forkBeforeExec }) => {
          const { createBackend } = await import(${JSON.stringify(dist)});
          const out = [];
          for (const spawner of ['posix_spawn', 'clone'])
          for (const startOffLoop of [true, false])
            for (let i = 0; i < 3; i++) {
              const args = ['echo', String(i), 'exit', String(i)];
              out.push((await forkBeforeExec(${JSON.stringify(probePath())}, args, { backend: createBackend({ spawner }), reject: false, startOffLoop })).stdout);
            }
          parentPort.postMessage(out.join(','));
        });
      \`, { eval: true }).on('message', (m) => console.log(m));`;
      const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
        execFile(process.execPath, ['-e', script], (error, stdout, stderr) =>
          error ? reject(error) : resolve({ stdout, stderr }),
        ),
      );
      expect({ stdout: stdout.trim(), stderr }).toEqual({ stdout: '0,1,2,0,1,2,0,1,2,0,1,2', stderr: '' });
    },
  );
});
