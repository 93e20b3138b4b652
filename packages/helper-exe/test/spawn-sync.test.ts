// The synchronous spawn runs on the starter (a helper cannot be waited for by a blocked caller):
// forkBeforeExecSync and the drop-in's execFileSync on helper-exe, real programs.
import { forkBeforeExec, forkBeforeExecSync, nodeBackend } from '@forkexec/core';
import { createBackend } from '../src/index.js';
import { backendOnBuiltHelper } from './support/helper-binary.js';

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

describeLinux('helper-exe spawnSync', () => {
  const backend = backendOnBuiltHelper();

  test('runs on the starter: the same result as the async call, and no helper is taken or started', async () => {
    const options = { backend, input: 'in\n', all: true };
    const sync = forkBeforeExecSync('sh', ['-c', 'cat; echo err >&2; exit 2'], { ...options, reject: false });
    expect(sync).toMatchObject({ exitCode: 2, stdout: 'in', stderr: 'err', all: 'in\nerr', backend: 'helper-exe' });
    expect(backend.stats()).toMatchObject({ warmTaken: 0, coldStarted: 0, overflowed: 0 });
    const async = await forkBeforeExec('sh', ['-c', 'cat; echo err >&2; exit 2'], { ...options, reject: false });
    expect({ ...sync, pid: 0, durationMs: 0 }).toEqual({ ...async, pid: 0, durationMs: 0 });
  });

  test('an action the starter cannot carry out is refused by name, naming the starter', () => {
    expect(() => forkBeforeExecSync('true', { backend, actions: [{ op: 'umask', mask: 0o22 }] })).toThrow(
      expect.objectContaining({
        code: 'FORKEXEC_UNSUPPORTED_ACTION',
        actionIndex: 0,
        message: expect.stringContaining(
          "helper-exe's synchronous spawn runs on its starter, the ntdll backend, which cannot carry out umask",
        ),
      }),
    );
  });

  test('a starter without a synchronous spawn is a typed error', () => {
    const starter = { ...nodeBackend, name: 'no-sync', spawnSync: undefined };
    const onIt = createBackend({ starter });
    expect(() => forkBeforeExecSync('true', { backend: onIt })).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_BACKEND_UNAVAILABLE', message: expect.stringContaining('no-sync') }),
    );
  });
});
