// Each action on real processes, through core, as a caller uses the backend.
import { closeSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, type Action, type Options } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { backend } from '../../src/index.js';

const run = (args: string[], options: Options = {}) => forkBeforeExec(probePath(), args, { backend, ...options });
const out = async (args: string[], options: Options = {}) => (await run(args, options)).stdout as string;
const ids = (line: string) =>
  Object.fromEntries(
    line
      .split(' ')
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, k === 'groups' ? v : Number(v)]),
  );

let dir = '';
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'ntdll-actions-')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ntdll actions on Linux', () => {
  it('declares exactly the actions posix_spawn expresses', () => {
    expect([...backend.capabilities.actions].sort()).toEqual([
      'chdir',
      'close',
      'closefrom',
      'dup2',
      'open',
      'setpgid',
      'setsid',
      'sigdefault',
      'sigmask',
    ]);
  });

  it('dup2 of a parent fd onto itself passes it through (clears close-on-exec), nothing else leaks', async () => {
    const fd = openSync(path.join(dir, 'through.txt'), 'w'); // Node opens with O_CLOEXEC
    try {
      expect(await out(['fds'])).toBe('0 1 2');
      expect(await out(['fds', 'write', String(fd), 'passed'], { actions: [{ op: 'dup2', from: fd, to: fd }] })).toBe(
        `0 1 2 ${fd}`,
      );
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path.join(dir, 'through.txt'), 'utf8')).toBe('passed');
  });

  it('open onto a high fd, then dup2 it to stdout; the child sees exactly the fds asked for', async () => {
    const file = path.join(dir, 'high.txt');
    const actions: Action[] = [
      { op: 'open', fd: 6, path: file, flags: 'w', mode: 0o640 },
      { op: 'dup2', from: 6, to: 1 },
    ];
    await run(['fds'], { actions });
    expect(readFileSync(file, 'utf8')).toBe('0 1 2 6\n');
  });

  it('close of a standard fd leaves it closed', async () => {
    expect(await out(['fds'], { actions: [{ op: 'close', fd: 0 }] })).toBe('1 2');
  });

  it('chdir applies in order: the last one wins', async () => {
    expect(
      await out(['cwd'], {
        actions: [
          { op: 'chdir', path: '/' },
          { op: 'chdir', path: dir },
        ],
      }),
    ).toBe(dir);
  });

  it('setpgid joins an existing process group', async () => {
    const leader = run(['echo', 'up', 'sleep', '5000'], { actions: [{ op: 'setpgid', pgid: 0 }], reject: false });
    try {
      const up = new Promise<void>((resolve) => leader.stdout!.once('data', () => resolve()));
      // Started off the loop, the leader's output can come before its pid: `started` brings the pid.
      const [pid] = await Promise.all([leader.started, up]);
      const member = ids(await out(['ids'], { actions: [{ op: 'setpgid', pgid: pid }] }));
      expect(member.pgid).toBe(pid);
      expect(member.pid).not.toBe(pid);
    } finally {
      leader.kill('SIGKILL');
      await leader;
    }
  });

  it('a session leader cannot then change group: EPERM up front, with the index', async () => {
    await expect(run(['exit', '0'], { actions: [{ op: 'setsid' }, { op: 'setpgid', pgid: 0 }] })).rejects.toMatchObject(
      {
        code: 'FORKEXEC_SPAWN',
        errno: 'EPERM',
        actionIndex: 1,
      },
    );
  });

  it('signal dispositions return to default even without actions (Node ignores SIGPIPE)', async () => {
    expect(await out(['sigs'])).toBe('blocked= ignored=');
  });

  it('sigmask: the last one wins, sigdefault keeps it', async () => {
    const { SIGUSR2, SIGTERM } = osConstants.signals;
    const actions: Action[] = [
      { op: 'sigmask', signals: ['SIGHUP'] },
      { op: 'sigmask', signals: ['SIGTERM', 'SIGUSR2'] },
      { op: 'sigdefault', signals: ['SIGTERM'] },
    ];
    expect(await out(['sigs'], { actions })).toBe(
      `blocked=${[SIGUSR2, SIGTERM].sort((a, b) => a - b).join(',')} ignored=`,
    );
  });

  it('closefrom in the middle: later actions can open fds again', async () => {
    const fd = openSync(path.join(dir, 'closefrom.txt'), 'w');
    try {
      const actions: Action[] = [
        { op: 'dup2', from: fd, to: 3 },
        { op: 'dup2', from: fd, to: 8 },
        { op: 'closefrom', fd: 4 },
        { op: 'open', fd: 10, path: '/dev/null' },
      ];
      expect(await out(['fds'], { actions })).toBe('0 1 2 3 10');
    } finally {
      closeSync(fd);
    }
  });

  it("stdio: 'ignore' is /dev/null, a number is that parent fd", async () => {
    const outFile = path.join(dir, 'stdio-out.txt');
    const target = openSync(outFile, 'w');
    try {
      await run(['fdpath', '0', 'fdpath', '2'], { stdin: 'ignore', stdout: target, stderr: 'ignore' });
    } finally {
      closeSync(target);
    }
    expect(readFileSync(outFile, 'utf8')).toBe('/dev/null\n/dev/null\n');
  });

  it('actions the backend cannot do are refused naming other backends, never dropped', async () => {
    for (const action of [
      { op: 'umask', mask: 0o77 },
      { op: 'setrlimit', resource: 'nofile', soft: 10, hard: 10 },
      { op: 'sigignore', signals: ['SIGHUP'] },
    ] as Action[]) {
      await expect(run(['exit', '0'], { actions: [action] })).rejects.toMatchObject({
        code: 'FORKEXEC_UNSUPPORTED_ACTION',
        actionIndex: 0,
      });
    }
  });
});
