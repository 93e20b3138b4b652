import { errnoName } from '@forkexec/core/backend-kit';
import { ForkExecError, isForkExecError, SpawnError } from '@forkexec/core';

test('errnoName names C errno values either sign, libuv-only codes by libuv, and the rest by number', () => {
  expect(errnoName(2)).toBe('ENOENT');
  expect(errnoName(-13)).toBe('EACCES');
  expect(errnoName(-4094)).toBe('UNKNOWN'); // UV_UNKNOWN, as child_process reports a failed CreateProcess under Wine
  expect(errnoName(-99999)).toBe('E99999');
});

test('isForkExecError recognises errors of another copy of the package, where instanceof cannot', () => {
  let other: typeof import('../src/errors') | undefined;
  jest.isolateModules(() => {
    other = jest.requireActual('../src/errors') as typeof import('../src/errors');
  });
  const foreign = new other!.SpawnError('from another copy');
  expect(foreign instanceof ForkExecError).toBe(false);
  expect(isForkExecError(foreign)).toBe(true);
  expect(isForkExecError(new SpawnError('here'))).toBe(true);
  for (const value of [new Error('plain'), null, undefined, 'SpawnError', { code: 'FORKEXEC_SPAWN' }])
    expect(isForkExecError(value)).toBe(false);
});
