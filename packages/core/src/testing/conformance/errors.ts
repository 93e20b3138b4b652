/** Errors: a failure in the child before exec, and bad input refused before running. */
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Action } from '../../actions.js';
import { rejectsWith } from '../cases.js';
import { openFds } from '../proc.js';
import type { ConformanceContext } from './context.js';

export function errorCases(ctx: ConformanceContext): void {
  const { backend, test, run, spawn, tmp } = ctx;
  test(
    'a failure in the child before exec rejects `started` with the same typed error; pid stays undefined, no fd stays open',
    async () => {
      const before = process.platform === 'linux' ? openFds() : [];
      const child = run(['echo', 'never'], {
        actions: [{ op: 'open', fd: 0, path: path.join(tmp(), 'not-there', 'x'), flags: 'r' }],
      });
      const error = await child.started.then(
        () => assert.fail('started resolved'),
        (e: unknown) => e,
      );
      assert.equal((error as { errno?: string }).errno, 'ENOENT');
      await assert.rejects(Promise.resolve(child), (e) => e === error);
      if (!backend().capabilities.pidBeforeExec) assert.equal(child.pid, undefined);
      await new Promise((resolve) => setTimeout(resolve, 20)); // destroyed streams close their fds on a later tick
      if (process.platform === 'linux') assert.deepEqual(openFds(), before);
    },
    ['open'],
  );

  test('empty file name, NUL bytes and non-string arguments are refused before running', async () => {
    await rejectsWith(spawn('', []), 'FORKEXEC_INVALID_ARGUMENT');
    await rejectsWith(spawn('tr\0ue', []), 'FORKEXEC_INVALID_ARGUMENT');
    await rejectsWith(run(['echo', 'a\0b']), 'FORKEXEC_INVALID_ARGUMENT');
    await rejectsWith(run(['exit', '0'], { env: { BAD: 'x\0y' } }), 'FORKEXEC_INVALID_ARGUMENT');
    await rejectsWith(run(['exit', '0'], { env: { 'A=B': 'x' } }), 'FORKEXEC_INVALID_ARGUMENT');
    await rejectsWith(run(['exit', 0 as unknown as string]), 'FORKEXEC_INVALID_ARGUMENT');
  });

  test('bad actions are refused with the index of the action', async () => {
    await rejectsWith(
      run(['exit', '0'], {
        actions: [
          { op: 'chdir', path: '/' },
          { op: 'dup2', from: -1, to: 1 },
        ],
      }),
      'FORKEXEC_INVALID_ACTION',
      { actionIndex: 1 },
    );
    await rejectsWith(run(['exit', '0'], { actions: [{ op: 'chdir', path: 'relative' }] }), 'FORKEXEC_INVALID_ACTION', {
      actionIndex: 0,
    });
    await rejectsWith(
      run(['exit', '0'], { actions: [{ op: 'fork' } as unknown as Action] }),
      'FORKEXEC_INVALID_ACTION',
      { actionIndex: 0 },
    );
    await rejectsWith(
      run(['exit', '0'], { actions: [{ op: 'dup2', from: 987654, to: 1 }] }),
      'FORKEXEC_INVALID_ACTION',
      { errno: 'EBADF' },
    );
  });
}
