// Pid first: the call returns with the helper's pid and hands the request over on a microtask
// right after. Whatever the caller changes once the call returns (its fds, process.env, the
// working directory) must not reach the child; a kill, or the helper's death, before the request
// goes out is reported and leaks nothing. Real helpers, real processes. (process.env changed right
// after the call: inherited-env.test.ts, on a real Node parent.)
import { closeSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, type SpawnRequest } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import type { HelperExeBackend } from '../src/index.js';
import { helperBinary } from './support/helper-binary.js';
import { poolBackends, runProbe as run } from './support/pool-backends.js';
import { childPids, openFds, processState, until } from './support/processes.js';
import { rejection } from './support/rejection.js';

const helper = helperBinary();
let dir: string;

beforeAll(async () => {
  helper.build();
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-pid-first-')));
  const warmUp = make(); // loads what the first spawn loads, so that fd counts compare
  await run(warmUp, ['exit', '0']);
  await warmUp.dispose();
});

afterAll(() => {
  helper.remove();
  rmSync(dir, { recursive: true, force: true });
});

const make = poolBackends(() => helper.path);

/** A pool with `min` helpers warm; after `use`, disposing it must leave the fds and children there were before. */
async function withWarmPool(use: (backend: HelperExeBackend) => Promise<void>): Promise<void> {
  const fds = openFds();
  const children = childPids();
  const backend = make({ min: 2 });
  await run(backend, ['exit', '0']);
  await until(
    () => backend.stats().warm === 2,
    () => JSON.stringify(backend.stats()),
  );
  await use(backend);
  await backend.dispose();
  await until(
    () => openFds().length === fds.length,
    () => `fds ${openFds()} (before: ${fds})`,
  ); // streams close their fds on a later tick
  expect(openFds()).toEqual(fds);
  expect(childPids()).toEqual(children);
}

/** Spins, without yielding to the event loop (so before the deferred send), until pid is a zombie. */
function spinUntilZombie(pid: number): void {
  const deadline = Date.now() + 5000;
  while (processState(pid) !== 'Z') if (Date.now() > deadline) throw new Error(`${pid} is still ${processState(pid)}`);
}

/** fcntl(F_SETFD) through koffi: Node opens every fd close-on-exec. */
function setCloseOnExec(fd: number, on: boolean): void {
  const koffi = createRequire(__filename)('koffi') as {
    load(lib: string): { func(prototype: string): (...args: number[]) => number };
  };
  const fcntl = koffi.load('libc.so.6').func('int fcntl(int fd, int cmd, int arg)');
  if (fcntl(fd, 2 /* F_SETFD */, on ? 1 : 0) !== 0) throw new Error(`fcntl(${fd}, F_SETFD) failed`);
}

describe('helper-exe: pid first', () => {
  it('the caller closes a passed stdio fd and a dup2 source right after the call (and reuses the numbers): the child writes where they pointed', async () => {
    await withWarmPool(async (backend) => {
      const [out, extra, decoy] = ['out', 'extra', 'decoy'].map((name) => path.join(dir, name));
      const outFd = openSync(out, 'w');
      const extraFd = openSync(extra, 'w');
      const child = run(backend, ['echo', 'to-stdout', 'write', '7', 'to-fd-7', 'fds'], {
        stdout: outFd,
        actions: [{ op: 'dup2', from: extraFd, to: 7 }],
      });
      closeSync(outFd);
      closeSync(extraFd);
      const decoyFds = [openSync(decoy, 'w'), openSync(decoy, 'w')]; // the lowest free numbers: most likely the two just closed
      await child;
      decoyFds.forEach((fd) => closeSync(fd));
      const [echoed, fds] = readFileSync(out, 'utf8').split('\n');
      expect(echoed).toBe('to-stdout');
      expect(readFileSync(extra, 'utf8')).toBe('to-fd-7');
      expect(readFileSync(decoy, 'utf8')).toBe('');
      // The copies travel close-on-exec like the fds they stand for (Node opens files O_CLOEXEC): the program sees only its own.
      expect(fds.split(' ').map(Number)).toEqual([0, 1, 2, 7]);
    });
  });

  it('dup2 sources keep their close-on-exec flag: one without it stays open in the program at its own number', async () => {
    await withWarmPool(async (backend) => {
      const [cloexec, inheritable] = ['cloexec', 'inheritable'].map((name) => openSync(path.join(dir, name), 'w'));
      setCloseOnExec(inheritable, false);
      const child = run(backend, ['fds'], {
        actions: [
          { op: 'dup2', from: cloexec, to: 7 },
          { op: 'dup2', from: inheritable, to: 8 },
        ],
      });
      closeSync(cloexec);
      closeSync(inheritable);
      expect((await child).stdout.split(' ').map(Number)).toEqual([0, 1, 2, 7, 8, inheritable].sort((a, b) => a - b));
    });
  });

  it('a stdio fd that is not open is refused during the call, with EBADF', async () => {
    await withWarmPool(async (backend) => {
      const fd = openSync(path.join(dir, 'closed'), 'w');
      closeSync(fd);
      const request: SpawnRequest = {
        file: probePath(),
        argv: ['fxprobe'],
        env: {},
        actions: [],
        stdio: ['ignore', fd, 'ignore'],
        command: 'fxprobe',
      };
      expect(() => backend.spawn(request)).toThrow(
        expect.objectContaining({
          code: 'FORKEXEC_SPAWN',
          errno: 'EBADF',
          message: expect.stringMatching(`stdio\\[1\\] names fd ${fd}`),
        }),
      );
    });
  });

  it('process.chdir right after the call: the child starts in the directory of the call', async () => {
    await withWarmPool(async (backend) => {
      const before = process.cwd();
      const probe = probePath(); // found from the working directory: before leaving it
      const child = forkBeforeExec(probe, ['cwd'], { backend });
      process.chdir(dir);
      try {
        expect((await child).stdout).toBe(before);
      } finally {
        process.chdir(before);
      }
    });
  });

  it('kill() right after the call, the helper dead before the request goes out: the result reports the signal', async () => {
    await withWarmPool(async (backend) => {
      const child = run(backend, ['echo', 'never'], { reject: false });
      expect(child.kill('SIGKILL')).toBe(true);
      spinUntilZombie(child.pid!);
      expect(await child).toMatchObject({ signal: 'SIGKILL', stdout: '' });
    });
  });

  it('a helper SIGKILLed by someone else right after the call: the result rejects with a SpawnError that says the program did not run', async () => {
    await withWarmPool(async (backend) => {
      const child = run(backend, ['echo', 'never']);
      process.kill(child.pid!, 'SIGKILL');
      spinUntilZombie(child.pid!);
      const error = await rejection(child);
      expect(error).toMatchObject({
        code: 'FORKEXEC_SPAWN',
        hint: expect.stringMatching(/did not run.*retrying is safe/),
      });
      expect(error.message).toMatch(/died before it could exec .*killed by SIGKILL/);
      expect(await rejection(child.started!)).toBe(error);
      expect((await run(backend, ['echo', 'next'])).stdout).toBe('next'); // that helper is never used again
    });
  });

  it('a hand-over that fails (its fd copy closed behind its back) rejects with a SpawnError, retires that helper and leaks nothing', async () => {
    await withWarmPool(async (backend) => {
      const fd = openSync(path.join(dir, 'unused'), 'w');
      const before = openFds();
      const child = run(backend, ['echo', 'never'], { stdio: ['ignore', fd, 'ignore'] });
      const copies = openFds().filter((n) => !before.includes(n));
      expect(copies).toHaveLength(1);
      closeSync(copies[0]);
      closeSync(fd);
      const error = await rejection(child);
      expect(error).toMatchObject({
        code: 'FORKEXEC_SPAWN',
        hint: expect.stringMatching(/did not run; retrying is safe/),
      });
      expect(error.message).toMatch(/could not hand the request to helper \d+: sendmsg failed: EBADF/);
      await until(
        () => processState(child.pid!) === 'gone',
        () => `helper ${child.pid} is ${processState(child.pid!)}`,
      );
    });
  });
});
