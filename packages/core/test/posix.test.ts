import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  _exit,
  chdir,
  dup2,
  execlp,
  execv,
  fork,
  fork_before_exec,
  kill,
  open,
  O_CREAT,
  O_TRUNC,
  O_WRONLY,
  setpgid,
  setsid,
  waitpid,
  WEXITSTATUS,
  WIFEXITED,
  WIFSIGNALED,
  WTERMSIG,
} from '@forkexec/core/posix';

describe('@forkexec/core/posix', () => {
  let dir: string;
  beforeAll(() => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-posix-')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('fork() and exec*() throw a typed error that says to apply the transform', () => {
    expect(() => fork()).toThrow(
      expect.objectContaining({
        code: 'FORKEXEC_NOT_TRANSFORMED',
        message: expect.stringContaining('fork_before_exec'),
      }),
    );
    expect(() => execv('/bin/true', ['true'])).toThrow(expect.objectContaining({ code: 'FORKEXEC_NOT_TRANSFORMED' }));
    expect(() => execlp('true', 'true')).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('@forkexec/codemod') }),
    );
    expect(typeof _exit).toBe('function');
  });

  test('setpgid() makes a group of its own; setpgid(undefined), a pid read too early, is refused', () => {
    expect(setpgid()).toEqual({ op: 'setpgid', pgid: 0 });
    expect(() => fork_before_exec('/bin/true', ['true'], [setpgid(undefined)])).toThrow(
      expect.objectContaining({
        code: 'FORKEXEC_INVALID_ACTION',
        actionIndex: 0,
        message: expect.stringContaining('pgid is undefined'),
      }),
    );
  });

  test('fork_before_exec runs the actions in order and waitpid reports the status', async () => {
    const file = path.join(dir, 'out.txt');
    const pid = fork_before_exec(
      'sh',
      ['sh', '-c', 'pwd; echo "$0 $FOO"; exit 5'],
      [open(1, file, O_WRONLY | O_CREAT | O_TRUNC, 0o644), chdir(dir)],
      ['FOO=bar', 'PATH=/usr/bin:/bin'],
    );
    expect(pid).toBeGreaterThan(0);
    const status = await waitpid(pid);
    expect(status).toMatchObject({ pid, exitCode: 5, signal: null });
    expect(WIFEXITED(status.status)).toBe(true);
    expect(WEXITSTATUS(status.status)).toBe(5);
    expect(readFileSync(file, 'utf8')).toBe(`${dir}\nsh bar\n`);
  });

  test('a dup2 chain and setsid; kill and WTERMSIG', async () => {
    const file = path.join(dir, 'chain.txt');
    const pid = fork_before_exec(
      '/bin/sh',
      ['sh', '-c', 'echo err >&2; exec sleep 20'],
      [open(1, file, 'w'), dup2(1, 2), setsid()],
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    kill(pid, 'SIGTERM');
    const { status, signal } = await waitpid(pid);
    expect(signal).toBe('SIGTERM');
    expect(WIFSIGNALED(status)).toBe(true);
    expect(WTERMSIG(status)).toBe(15);
    expect(readFileSync(file, 'utf8')).toBe('err\n');
  });

  test('errors are thrown synchronously, like a failing syscall', () => {
    expect(() => fork_before_exec('forkexec-missing-program', ['x'])).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT' }),
    );
    expect(() => fork_before_exec('true', [])).toThrow(expect.objectContaining({ code: 'FORKEXEC_SPAWN' }));
    expect(() => fork_before_exec('true', ['true'], [dup2(-1, 1)])).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_INVALID_ACTION', actionIndex: 0 }),
    );
    expect(() => fork_before_exec('true', ['true'], [], ['NOEQUALS'])).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_SPAWN' }),
    );
  });

  test('searchPath: false refuses a bare name like execv', () => {
    expect(() => fork_before_exec('true', ['true'], [], undefined, { searchPath: false })).toThrow(
      expect.objectContaining({ errno: 'ENOENT' }),
    );
  });

  test('waitpid of a pid that is not ours is ECHILD, and a pid is waited once', async () => {
    await expect(waitpid(1)).rejects.toMatchObject({
      errno: 'ECHILD',
      message: 'waitpid(1): not a child started by fork_before_exec',
    });
    const pid = fork_before_exec('true', ['true']);
    await waitpid(pid);
    await expect(waitpid(pid)).rejects.toMatchObject({
      errno: 'ECHILD',
      message: `waitpid(${pid}): already reaped by an earlier waitpid (a child is waited for once)`,
    });
  });
});
