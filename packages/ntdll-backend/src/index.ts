/**
 * @forkexec/ntdll-backend: process creation that does not copy the parent. posix_spawn through
 * koffi on Linux, ntdll on Windows. Importing this module loads no native code: koffi loads on
 * the first probe() or spawn().
 */
import type { Backend } from '@forkexec/core';
import { refuseUnknownKeys } from '@forkexec/core/backend-kit';
import { createLinuxBackend, type LinuxSpawner } from './linux/linux-backend.js';
import { createWin32Backend, type Win32BackendOptions } from './win32/index.js';

/** Options from the config file's `backendOptions`: `creator` on Windows, `spawner` on Linux. */
export type NtdllBackendOptions = Win32BackendOptions & {
  /**
   * Linux: 'clone' (default; x86-64 with the package's libfxclone.so, elsewhere posix_spawn) or
   * 'posix_spawn' (on libuv's threadpool with core's `startOffLoop`, the path before clone).
   */
  spawner?: LinuxSpawner;
};

/** A backend for this platform (core calls it with the config file's `backendOptions`). */
export function createBackend(options: NtdllBackendOptions = {}): Backend {
  refuseUnknownKeys(options, ['creator', 'spawner'], 'ntdll options');
  if (process.platform === 'win32') return createWin32Backend(options);
  if (options.spawner !== undefined && options.spawner !== 'clone' && options.spawner !== 'posix_spawn')
    throw new TypeError(`ntdll options: spawner must be 'clone' or 'posix_spawn', not ${String(options.spawner)}`);
  return createLinuxBackend({ spawner: options.spawner });
}

export const backend: Backend = createBackend();

export type { ProcessCreator, Win32BackendOptions } from './win32/index.js';
