// Backend.spawnSync on real programs: output, input, timeout and maxBuffer, the exit of that child
// alone reaped (other children's statuses reach their owners), with and without a pidfd.
import { spawn as nodeSpawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import type { SpawnRequest, SyncSpawnOptions } from '@forkexec/core';
import { backend } from '../../src/index.js';
import { loadLibc } from '../../src/linux/libc.js';
import { spawnSyncWith } from '../../src/linux/linux-backend.js';

const request = (argv: string[], stdio: SpawnRequest['stdio'] = ['pipe', 'pipe', 'pipe']): SpawnRequest => ({
  file: argv[0],
  argv,
  env: { PATH: '/usr/bin:/bin' },
  actions: [],
  stdio,
  command: argv.join(' '),
});
const TERM: SyncSpawnOptions = { killSignal: 15 };
const openFds = () => readdirSync('/proc/self/fd').length;

const withoutPidfd = () => spawnSyncWith.bind(null, { ...loadLibc(), pidfdOpen: () => -1 });
const ways = [
  ['with a pidfd', () => backend.spawnSync!.bind(backend)],
  ['without a pidfd (kernels before 5.3)', withoutPidfd],
] as const;

describe.each(ways)('spawnSync %s', (_, way) => {
  test('stdout, stderr, exit code; input larger than a pipe; a signal; no fd left open', () => {
    const spawnSync = way();
    const before = openFds();
    expect(spawnSync(request(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']), TERM)).toEqual({
      pid: expect.any(Number),
      exitCode: 3,
      signal: null,
      stdout: Buffer.from('out\n'),
      stderr: Buffer.from('err\n'),
    });
    const input = Buffer.alloc(3 << 20, 'abc');
    const echoed = spawnSync(request(['/bin/cat']), { ...TERM, input });
    expect(echoed.stdout!.equals(input)).toBe(true);
    expect(spawnSync(request(['/bin/sh', '-c', 'kill -KILL $$']), TERM)).toMatchObject({
      exitCode: null,
      signal: 'SIGKILL',
    });
    expect(spawnSync(request(['/bin/true'], ['ignore', 'inherit', 'ignore']), TERM)).toMatchObject({
      stdout: null,
      stderr: null,
      exitCode: 0,
    });
    expect(openFds()).toBe(before);
  });

  test('timeout and maxBuffer send killSignal and keep what was read; EPIPE for unread input', () => {
    const spawnSync = way();
    expect(
      spawnSync(request(['/bin/sh', '-c', 'echo early; exec sleep 10']), { killSignal: 2, timeout: 200 }),
    ).toMatchObject({
      signal: 'SIGINT',
      error: 'ETIMEDOUT',
      stdout: Buffer.from('early\n'),
    });
    // Exited, but a process it started holds the pipes: the timeout closes them, no signal is sent.
    expect(spawnSync(request(['/bin/sh', '-c', 'sleep 1 & echo hi']), { ...TERM, timeout: 200 })).toMatchObject({
      exitCode: 0,
      signal: null,
      error: 'ETIMEDOUT',
      stdout: Buffer.from('hi\n'),
    });
    const flooded = spawnSync(request(['/usr/bin/head', '-c', '10000000', '/dev/zero']), { ...TERM, maxBuffer: 1000 });
    expect(flooded).toMatchObject({ signal: 'SIGTERM', error: 'ENOBUFS' });
    expect(flooded.stdout!.length).toBeGreaterThan(1000);
    expect(spawnSync(request(['/bin/true']), { ...TERM, input: Buffer.alloc(1 << 20) })).toMatchObject({
      exitCode: 0,
      error: 'EPIPE',
    });
  });

  test('maxBufferPerStream: the stream over it is cut there and named, the other kept whole; all in the order read', () => {
    const spawnSync = way();
    const cut = spawnSync(request(['/bin/sh', '-c', 'printf ab >&2; sleep 0.2; exec yes']), {
      ...TERM,
      maxBufferPerStream: 5,
      all: true,
    });
    expect(cut).toMatchObject({
      error: 'ENOBUFS',
      overflow: 'stdout',
      stdout: Buffer.from('y\ny\ny'),
      stderr: Buffer.from('ab'),
    });
    expect(cut.all).toEqual(Buffer.from('aby\ny\ny'));
    const within = spawnSync(request(['/bin/sh', '-c', 'printf 12345; printf 12345 >&2']), {
      ...TERM,
      maxBufferPerStream: 5,
    });
    expect(within).toMatchObject({ exitCode: 0, stdout: Buffer.from('12345'), stderr: Buffer.from('12345') });
    expect(within).not.toHaveProperty('error');
    expect(within).not.toHaveProperty('all');
  });

  test('only its own child is reaped: children of the backend and of Node get their exit statuses', async () => {
    const spawnSync = way();
    const ours = backend.spawn(request(['/bin/sh', '-c', 'exit 7'], ['ignore', 'ignore', 'ignore']));
    const nodes = nodeSpawn('/bin/sh', ['-c', 'exit 8']);
    // Both have exited before the sync child does: a waitpid(-1) would take their statuses.
    expect(spawnSync(request(['/bin/sh', '-c', 'sleep 0.3; exit 9']), TERM).exitCode).toBe(9);
    await expect(ours.exited).resolves.toEqual({ exitCode: 7, signal: null });
    expect((await once(nodes, 'exit'))[0]).toBe(8);
  });
});

test('a start that fails throws the typed error, as spawn does, with nothing left open', () => {
  const before = openFds();
  expect(() => backend.spawnSync!(request(['/no/such/program']), TERM)).toThrow(
    expect.objectContaining({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT' }),
  );
  expect(openFds()).toBe(before);
});
