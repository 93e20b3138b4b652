/**
 * spawnSync, execFileSync and execSync through Node's child_process and through
 * @forkexec/core/child_process on real programs: results, thrown errors and what reached the
 * parent's stderr compared, and the route each call took checked in the drop-in's report.
 */
import * as node from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { types } from 'node:util';
import { loadBackend, nodeBackend, registerBackend } from '@forkexec/core';
import * as forkexec from '@forkexec/core/child_process';

type Module = Pick<typeof node, 'spawnSync' | 'execFileSync' | 'execSync'>;

/** A value as a caller sees it: Buffers and strings told apart, errors by their fields (any realm). */
function view(value: unknown, depth = 0): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return { buffer: value.length > 4096 ? `${value.length} bytes` : Buffer.from(value).toString('latin1') };
  if (typeof value === 'string') return value.length > 4096 ? `${value.length} chars` : value;
  if (Array.isArray(value)) return value.map((v) => view(v, depth));
  if (types.isNativeError(value) || value instanceof Error) {
    const e = value as Error & Record<string, unknown>;
    const fields: Record<string, unknown> = { class: e.constructor.name, message: e.message, keys: Object.keys(e) };
    for (const key of Object.keys(e))
      fields[key] = key === 'error' ? e.error === e : key === 'pid' ? typeof e.pid : view(e[key], depth + 1);
    return fields;
  }
  if (typeof value === 'object' && value !== null && depth < 3) {
    const fields: Record<string, unknown> = { keys: Object.keys(value) };
    for (const [key, v] of Object.entries(value)) fields[key] = key === 'pid' ? typeof v : view(v, depth + 1);
    return fields;
  }
  return value;
}

/** What a call gave: its return value or what it threw, and what it wrote to the parent's stderr. */
function outcome(run: () => unknown): unknown {
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(Buffer.from(chunk as Uint8Array).toString());
    return true;
  });
  try {
    return { returned: view(run()), written };
  } catch (error) {
    return { threw: view(error), written };
  } finally {
    spy.mockRestore();
  }
}

const count = (r: Record<string, Record<string, number> | number | undefined>) =>
  Object.values(r).reduce<number>(
    (a, v) => a + (typeof v === 'number' ? v : Object.values(v ?? {}).reduce((x, y) => x + y, 0)),
    0,
  );

/** Runs `call` through both modules: the outcomes must be equal, and ours must take `route`. */
function expectSame(call: (cp: Module) => unknown, route: 'fast' | 'node'): unknown {
  const expected = outcome(() => call(node));
  const before = forkexec.dropInReport();
  const actual = outcome(() => call(forkexec));
  const after = forkexec.dropInReport();
  expect(actual).toEqual(expected);
  const taken = route === 'fast' ? count(after.fast) - count(before.fast) : count(after.node) - count(before.node);
  expect(taken).toBe(1);
  return actual;
}

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-sync-')));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await loadBackend('helper-exe').dispose?.();
});
afterEach(() => {
  delete process.env.FORKEXEC_BACKEND;
});

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

describeLinux('on ntdll: the backend’s synchronous spawn, side by side with Node', () => {
  beforeEach(() => {
    process.env.FORKEXEC_BACKEND = 'ntdll';
  });

  test('spawnSync: status, output array, stdout and stderr as Buffers, then as strings', () => {
    const result = expectSame((cp) => cp.spawnSync('sh', ['-c', 'echo out; echo err >&2; exit 3']), 'fast');
    expect(result).toMatchObject({ returned: { status: 3, stdout: { buffer: 'out\n' }, stderr: { buffer: 'err\n' } } });
    expectSame((cp) => cp.spawnSync('sh', ['-c', 'printf é; printf ü >&2'], { encoding: 'utf8' }), 'fast');
    expectSame((cp) => cp.spawnSync('sh', ['-c', 'printf "\\377"'], { encoding: 'latin1' }), 'fast');
  });

  test('input (string in the encoding, Buffer, TypedArray), larger than a pipe holds', () => {
    expectSame((cp) => cp.spawnSync('cat', { input: 'héllo', encoding: 'utf8' }), 'fast');
    expectSame((cp) => cp.spawnSync('cat', [], { input: '68656c6c6f', encoding: 'hex' }), 'fast');
    expectSame((cp) => cp.spawnSync('cat', [], { input: new Uint16Array([0x6968, 0x0a21]) }), 'fast');
    const big = Buffer.alloc(3 << 20, 'xyz');
    const result = expectSame(
      (cp) => cp.spawnSync('sh', ['-c', 'cat; cat >&2'], { input: big, maxBuffer: Infinity }),
      'fast',
    );
    expect(result).toMatchObject({ returned: { stdout: { buffer: `${3 << 20} bytes` }, stderr: { buffer: '' } } });
    // A child that does not read its input: EPIPE in the result, its exit status kept.
    expectSame((cp) => cp.spawnSync('true', { input: Buffer.alloc(1 << 20) }), 'fast');
  });

  test('timeout sends killSignal: ETIMEDOUT with Node’s errno, syscall, path and spawnargs', () => {
    const result = expectSame((cp) => cp.spawnSync('sleep', ['10'], { timeout: 100, killSignal: 'SIGINT' }), 'fast');
    expect(result).toMatchObject({ returned: { signal: 'SIGINT', error: { code: 'ETIMEDOUT', errno: -110 } } });
    expectSame(
      (cp) => cp.spawnSync('sh', ['-c', 'echo before; exec sleep 10'], { timeout: 300, encoding: 'utf8' }),
      'fast',
    );
    // The child exits at once, a process it started holds its pipes: the timeout ends the wait, no signal sent.
    expectSame((cp) => cp.spawnSync('sh', ['-c', 'sleep 1 & echo hi'], { timeout: 300, encoding: 'utf8' }), 'fast');
  });

  test('maxBuffer counts stdout and stderr together: ENOBUFS and killSignal', () => {
    // How much was read before the kill depends on the pipe's chunks: only the rest is compared.
    const shape = (cp: Module) => {
      const r = cp.spawnSync('sh', ['-c', 'head -c 3000 /dev/zero >&2; exec head -c 3000000 /dev/zero'], {
        maxBuffer: 5000,
        killSignal: 9,
      });
      return { ...r, output: null, stdout: r.stdout.length > 0, stderr: r.stderr.length };
    };
    const result = expectSame(shape, 'fast');
    expect(result).toMatchObject({ returned: { signal: 'SIGKILL', error: { code: 'ENOBUFS' }, stdout: true } });
  });

  test('stdio inherit, ignore, parent fds; a signal that ended the child; cwd, env and argv0', () => {
    expectSame((cp) => cp.spawnSync('true', { stdio: 'ignore' }), 'fast');
    expectSame((cp) => cp.spawnSync('true', { stdio: ['inherit', 'inherit', 'pipe', 'ignore'] }), 'fast');
    expectSame((cp) => cp.spawnSync('sh', ['-c', 'echo to-stderr >&2'], { stdio: ['ignore', 2, 'pipe'] }), 'fast');
    expectSame((cp) => cp.spawnSync('sh', ['-c', 'kill -KILL $$']), 'fast');
    expectSame(
      (cp) =>
        cp.spawnSync('sh', ['-c', 'pwd; echo "$FOO $0"'], {
          cwd: dir,
          env: { FOO: 'bar', PATH: process.env.PATH },
          argv0: 'named',
          encoding: 'utf8',
        }),
      'fast',
    );
    expectSame((cp) => cp.spawnSync('echo $0 "$1"', ['x'], { shell: true, encoding: 'utf8' }), 'fast');
    const leader = 'read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; [ "$sid" = "$$" ] && echo leader';
    const detached = expectSame(
      (cp) => cp.spawnSync('sh', ['-c', leader], { detached: true, encoding: 'utf8' }),
      'fast',
    );
    expect(detached).toMatchObject({ returned: { stdout: 'leader\n' } });
  });

  test('execFileSync: stdout returned; a failure thrown with Node’s message and fields, its stderr shown', () => {
    expectSame((cp) => cp.execFileSync('echo', ['sync']), 'fast');
    expectSame((cp) => cp.execFileSync('sh', ['-c', 'echo out; echo err >&2'], { encoding: 'utf8' }), 'fast');
    const failed = expectSame((cp) => cp.execFileSync('sh', ['-c', 'echo out; echo err >&2; exit 3']), 'fast');
    expect(failed).toMatchObject({ threw: { message: 'Command failed: sh -c echo out; echo err >&2; exit 3\nerr\n' } });
    expect(failed).toMatchObject({ written: ['err\n'] });
    expectSame((cp) => cp.execFileSync('sh', ['-c', 'exit 5'], { argv0: 'named', stdio: 'pipe' }), 'fast');
    expectSame((cp) => cp.execFileSync('sleep', ['10'], { timeout: 100, encoding: 'utf8' }), 'fast');
  });

  test('execSync: the platform shell, errors with the command in their message', () => {
    expectSame((cp) => cp.execSync('echo $0; echo e >&2', { encoding: 'utf8' }), 'fast');
    expectSame((cp) => cp.execSync('echo out; exit 2', { stdio: 'pipe' }), 'fast');
    expectSame((cp) => cp.execSync('echo $0', { shell: '/bin/bash', encoding: 'utf8' }), 'fast');
    expectSame((cp) => cp.execSync('sleep 10', { timeout: 100 }), 'fast');
    expectSame((cp) => cp.execSync('echo in: $(cat)', { input: 'given', encoding: 'utf8' }), 'fast');
  });

  test('no fd left open, every child reaped (its pid is gone at once)', () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const pids = [
      forkexec.spawnSync('sh', ['-c', 'echo x; echo y >&2'], { input: 'in' }).pid,
      forkexec.spawnSync('sleep', ['10'], { timeout: 50 }).pid,
      forkexec.spawnSync('head', ['-c', '1000000', '/dev/zero'], { maxBuffer: 10 }).pid,
      forkexec.spawnSync('true', { input: Buffer.alloc(1 << 20) }).pid,
    ];
    expect(fds()).toBe(before);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  });

  test('a start the backend refuses, and arguments Node refuses, go to Node’s own', () => {
    expectSame((cp) => cp.spawnSync('no-such-program-here', ['a']), 'node');
    expectSame((cp) => cp.execFileSync(path.join(dir, 'missing')), 'node');
    expectSame((cp) => cp.spawnSync('true', { maxBuffer: -1 }), 'node');
    expectSame((cp) => cp.spawnSync('true', { cwd: path.join(dir, 'no-such-dir') }), 'node');
    expectSame((cp) => cp.execSync(42 as unknown as string), 'node');
    expectSame((cp) => cp.spawnSync('cat', { input: 42 as unknown as string }), 'node');
  });
});

describeLinux('on a backend without a synchronous spawn', () => {
  test('Node’s own runs the call, counted with the reason', () => {
    registerBackend('forkexec-test-no-sync', () => ({ ...nodeBackend, name: 'no-sync', spawnSync: undefined }));
    process.env.FORKEXEC_BACKEND = 'forkexec-test-no-sync';
    expectSame((cp) => cp.execFileSync('echo', ['via node'], { encoding: 'utf8' }), 'node');
    expect(forkexec.dropInReport().node.execFileSync).toHaveProperty([
      'sync API: the no-sync backend has no synchronous spawn',
    ]);
  });
});

describeLinux('on helper-exe: its starter’s synchronous spawn', () => {
  test('the fast path, side by side with Node', () => {
    process.env.FORKEXEC_BACKEND = 'helper-exe';
    expectSame((cp) => cp.execFileSync('sh', ['-c', 'echo out; echo err >&2'], { encoding: 'utf8' }), 'fast');
    expectSame((cp) => cp.spawnSync('cat', { input: 'hi' }), 'fast');
  });
});
