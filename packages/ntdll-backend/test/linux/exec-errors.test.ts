// Exec and setup failures come back as typed SpawnErrors with the errno, never as exit code 127: thrown by
// the posix_spawn path, brought by `exited` on the clone path (which returns before the child execs).
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, type Backend, type SpawnRequest } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { createBackend } from '../../src/index.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ntdll-errors-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A request as core would hand it over, for failures core itself would catch first. */
const request = (file: string, args: string[] = [], extra: Partial<SpawnRequest> = {}): SpawnRequest => ({
  file,
  argv: [file, ...args],
  env: { PATH: '/usr/bin:/bin' },
  actions: [],
  stdio: ['ignore', 'pipe', 'pipe'],
  command: [file, ...args].join(' '),
  ...extra,
});
const openFds = () => readdirSync('/proc/self/fd').length;

/** The error of a spawn that must fail: thrown, or (clone path only) the rejection of `exited`. */
async function spawnError(backend: Backend, req: SpawnRequest): Promise<unknown> {
  let child;
  try {
    child = backend.spawn(req);
  } catch (error) {
    return error;
  }
  expect(backend.capabilities.pidBeforeExec).toBe(true); // only the clone path returns before the exec
  expect(child.pid).toBeGreaterThan(0);
  return child.exited.then(
    () => 'it ran',
    (error: unknown) => error,
  );
}

describe.each(['clone', 'posix_spawn'] as const)('ntdll exec failures (spawner %s)', (spawner) => {
  const backend = createBackend({ spawner });

  it('ENOEXEC: an executable file the kernel cannot run', async () => {
    const file = path.join(dir, 'garbage');
    writeFileSync(file, Buffer.from([0x00, 0x13, 0x37, 0xfe, 0xca, 0xbe, 0xba, 0x42, 0x0a, 0x00]));
    chmodSync(file, 0o755);
    expect(await spawnError(backend, request(file))).toMatchObject({
      name: 'SpawnError',
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOEXEC',
    });
  });

  it('E2BIG: one argument above MAX_ARG_STRLEN, and an argv above ARG_MAX', async () => {
    expect(await spawnError(backend, request('/bin/true', ['x'.repeat(256 * 1024)]))).toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'E2BIG',
    });
    const many = Array.from({ length: 40_000 }, (_, i) => `argument-${i}-${'y'.repeat(64)}`);
    await expect(forkBeforeExec(probePath(), many, { backend })).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'E2BIG',
    });
  });

  it('EACCES and ENOENT reach the caller from the spawn itself', async () => {
    const file = path.join(dir, 'not-executable');
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o644);
    expect(await spawnError(backend, request(file))).toMatchObject({ errno: 'EACCES' });
    expect(await spawnError(backend, request(path.join(dir, 'missing')))).toMatchObject({
      errno: 'ENOENT',
      actionIndex: undefined,
    });
  });

  it('a failing open or chdir action is named by its index', async () => {
    const missing = path.join(dir, 'no-such-dir', 'file.txt');
    await expect(
      forkBeforeExec(probePath(), ['exit', '0'], {
        backend,
        actions: [
          { op: 'chdir', path: '/' },
          { op: 'open', fd: 1, path: missing, flags: 'w' },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOENT',
      actionIndex: 1,
    });
    const file = path.join(dir, 'plain-file');
    writeFileSync(file, '');
    await expect(
      forkBeforeExec(probePath(), ['exit', '0'], { backend, actions: [{ op: 'chdir', path: file }] }),
    ).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOTDIR',
      actionIndex: 0,
    });
    mkdirSync(path.join(dir, 'exists'), { recursive: true });
    writeFileSync(path.join(dir, 'exists', 'taken'), '');
    await expect(
      forkBeforeExec(probePath(), ['exit', '0'], {
        backend,
        actions: [{ op: 'open', fd: 5, path: path.join(dir, 'exists', 'taken'), flags: 'wx' }],
      }),
    ).rejects.toMatchObject({
      errno: 'EEXIST',
      actionIndex: 0,
    });
  });

  it('EBADF: a stdio fd that is not open, a dup2 target beyond RLIMIT_NOFILE', async () => {
    const fd = openSync(path.join(dir, 'closed-soon'), 'w');
    closeSync(fd);
    expect(await spawnError(backend, request('/bin/true', [], { stdio: ['ignore', fd, 'ignore'] }))).toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'EBADF',
    });
    await expect(forkBeforeExec(probePath(), ['exit', '0'], { backend, stdout: fd })).rejects.toMatchObject({
      errno: 'EBADF',
    }); // core may catch it first
    await expect(
      forkBeforeExec(probePath(), ['exit', '0'], {
        backend,
        actions: [
          { op: 'chdir', path: '/' },
          { op: 'dup2', from: 1, to: 1_000_000 },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'EBADF',
      actionIndex: 1,
    });
  });

  it('failures leave no fd behind in the parent', async () => {
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      expect(
        await spawnError(backend, request(path.join(dir, 'missing'), [], { stdio: ['pipe', 'pipe', 'pipe'] })),
      ).toMatchObject({ errno: 'ENOENT' });
      await expect(
        forkBeforeExec(probePath(), ['exit', '0'], {
          backend,
          stdin: 'pipe',
          actions: [{ op: 'open', fd: 0, path: path.join(dir, 'nope', 'x') }],
        }),
      ).rejects.toMatchObject({ errno: 'ENOENT' });
    }
    expect(openFds()).toBe(before);
  });
});
