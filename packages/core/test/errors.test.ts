import { errnoName } from '@forkexec/core/backend-kit';

test('errnoName names C errno values either sign, libuv-only codes by libuv, and the rest by number', () => {
  expect(errnoName(2)).toBe('ENOENT');
  expect(errnoName(-13)).toBe('EACCES');
  expect(errnoName(-4094)).toBe('UNKNOWN'); // UV_UNKNOWN, as child_process reports a failed CreateProcess under Wine
  expect(errnoName(-99999)).toBe('E99999');
});
