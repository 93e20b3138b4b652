// One test per bug the reliability suite found in core and the node backend.
import { ChildProcess, execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { forkBeforeExec, nodeBackend, validateActions, type Backend } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';

const probe = (args: string[], options = {}) => forkBeforeExec(probePath(), args, { backend: nodeBackend, ...options });
const hasPrlimit = (() => {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return process.platform === 'linux';
  } catch {
    return false;
  }
})();

describe('node backend', () => {
  test('dup2 from an ignored standard fd onto a higher fd gives /dev/null there, not a closed fd', async () => {
    const { stdout } = await probe(['fdpath', '5'], { stdin: 'ignore', actions: [{ op: 'dup2', from: 0, to: 5 }] });
    expect(stdout).toBe('/dev/null');
  });

  test('dup2(fd, fd) hands a parent fd to the child on the same number, as posix_spawn does', async () => {
    const fd = openSync(probePath(), 'r');
    try {
      const { stdout } = await probe(['fdpath', String(fd)], { actions: [{ op: 'dup2', from: fd, to: fd }] });
      expect(stdout).toBe(probePath());
    } finally {
      closeSync(fd);
    }
  });

  (hasPrlimit ? test : test.skip)(
    'a spawn that fails with EMFILE gives back every fd (child_process leaks its stdio pipes there)',
    async () => {
      await probe(['exit', '0']);
      const soft = readFileSync('/proc/self/limits', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Max open files'))!
        .split(/\s+/)[3];
      const setSoft = (n: number | string) => execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${n}:`]);
      setSoft(Math.max(...readdirSync('/proc/self/fd').map(Number)) + 32);
      const hoard: number[] = [];
      try {
        for (;;) hoard.push(openSync('/dev/null', 'r'));
      } catch {
        // EMFILE: the table is full
      }
      try {
        closeSync(hoard.pop()!);
        for (let i = 0; i < 3; i++) closeSync(hoard.pop()!);
        // 4 free fds: libuv makes both stdio socketpairs, then fails on its own pipe.
        await expect(probe(['exit', '0'])).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'EMFILE' });
        await new Promise((resolve) => setTimeout(resolve, 50));
        const free: number[] = [];
        try {
          for (;;) free.push(openSync('/dev/null', 'r'));
        } catch {
          // EMFILE again
        }
        free.forEach((fd) => closeSync(fd));
        expect(free.length).toBe(4);
      } finally {
        hoard.forEach((fd) => closeSync(fd));
        setSoft(soft);
      }
    },
  );
});

describe('node backend: a start libuv reports as UNKNOWN (Wine: a process that died while starting)', () => {
  /** Makes child_process's next `failures` starts fail as libuv's UNKNOWN does (the handle closed, the error thrown); counts the starts. */
  function failStarts(failures: number): { starts: number; restore(): void } {
    type Start = (this: { _handle: { close(): void } | null }, options: object) => unknown;
    const proto = ChildProcess.prototype as unknown as { spawn: Start };
    const real = proto.spawn;
    const counter = { starts: 0, restore: () => void (proto.spawn = real) };
    proto.spawn = function (options) {
      counter.starts++;
      if (counter.starts > failures) return real.call(this, options);
      this._handle!.close();
      this._handle = null;
      throw Object.assign(new Error('spawn UNKNOWN'), { errno: -4094, code: 'UNKNOWN', syscall: 'spawn' });
    };
    return counter;
  }

  test('is made again: the third start runs the program, with its output', async () => {
    const starts = failStarts(2);
    try {
      await expect(probe(['echo', 'third time'])).resolves.toMatchObject({ exitCode: 0, stdout: 'third time' });
    } finally {
      starts.restore();
    }
    expect(starts.starts).toBe(3);
  });

  test('fails as a typed UNKNOWN after three starts, with no fd left behind', async () => {
    const fds = readdirSync('/proc/self/fd').length;
    const starts = failStarts(Infinity);
    try {
      await expect(probe(['exit', '0'])).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'UNKNOWN' });
    } finally {
      starts.restore();
    }
    expect(starts.starts).toBe(3);
    expect(readdirSync('/proc/self/fd').length).toBe(fds);
  });
});

describe('core validation', () => {
  test('dup2 from an fd that an earlier close or closefrom removed is refused with EBADF, naming both actions', () => {
    expect(() =>
      validateActions([
        { op: 'dup2', from: 0, to: 7 },
        { op: 'close', fd: 7 },
        { op: 'dup2', from: 7, to: 8 },
      ]),
    ).toThrow(
      expect.objectContaining({
        code: 'FORKEXEC_INVALID_ACTION',
        errno: 'EBADF',
        actionIndex: 2,
        message: expect.stringContaining('actions[1] closed it'),
      }),
    );
    expect(() =>
      validateActions([
        { op: 'closefrom', fd: 0 },
        { op: 'dup2', from: 2, to: 1 },
      ]),
    ).toThrow(expect.objectContaining({ actionIndex: 1, errno: 'EBADF' }));
    expect(() =>
      validateActions([
        { op: 'closefrom', fd: 3 },
        { op: 'open', fd: 4, path: '/dev/null' },
        { op: 'dup2', from: 4, to: 1 },
      ]),
    ).not.toThrow();
  });

  test('a stdio fd that is not open in the parent is refused before running, naming the stream', async () => {
    const child = probe(['exit', '0'], { stdout: 987_654 });
    await expect(child).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
      errno: 'EBADF',
      message: expect.stringContaining('`stdout` fd 987654'),
    });
    expect(child.pid).toBeUndefined();
  });

  test('E2BIG names the argument or variable that is too long, before running', async () => {
    const big = 'x'.repeat(200_000);
    const arg = probe(['echo', big]);
    await expect(arg).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'E2BIG',
      message: expect.stringContaining('args[1] is 200000 bytes'),
    });
    expect(arg.pid).toBeUndefined();
    await expect(probe(['exit', '0'], { env: { HUGE: big } })).rejects.toMatchObject({
      errno: 'E2BIG',
      message: expect.stringContaining('env.HUGE'),
    });
  });

  test('an E2BIG from exec (all arguments together) tells the sizes and the largest one', async () => {
    const args = Array.from({ length: 80 }, (_, i) => `${i}`.padEnd(100_000, 'y'));
    await expect(probe(args)).rejects.toMatchObject({
      errno: 'E2BIG',
      message: expect.stringMatching(/the 81 arguments take \d+ bytes .* the largest is args\[\d+\]/),
    });
  });
});

describe('Subprocess', () => {
  test("keeps a backend's typed error from another copy of core (CommonJS backend, ESM caller) with its errno and action index", async () => {
    // Every copy of core brands its errors with the same registered symbol (errors.ts).
    const foreign = Object.assign(new Error('actions[1] (setsid) failed in the child: EPERM'), {
      code: 'FORKEXEC_SPAWN',
      errno: 'EPERM',
      actionIndex: 1,
      [Symbol.for('forkexec.error')]: true,
    });
    const backend: Backend = {
      ...nodeBackend,
      name: 'foreign-core',
      spawn: () => ({
        pid: 1234,
        stdin: null,
        stdout: null,
        stderr: null,
        exited: Promise.reject(foreign),
        kill: () => false,
      }),
    };
    await expect(forkBeforeExec(probePath(), ['exit', '0'], { backend })).rejects.toBe(foreign);
  });
});
