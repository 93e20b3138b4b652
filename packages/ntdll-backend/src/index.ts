/**
 * @forkexec/ntdll-backend: process creation that does not copy the parent. posix_spawn through
 * koffi on Linux, ntdll on Windows. Importing this module loads no native code: koffi loads on
 * the first probe() or spawn().
 */
import type { Backend } from '@forkexec/core';
import { refuseUnknownKeys } from '@forkexec/core/backend-kit';
import { createLinuxBackend } from './linux/linux-backend.js';
import { createWin32Backend, type Win32BackendOptions } from './win32/index.js';

/** Options from the config file's `backendOptions`; only the Windows implementation takes any. */
export type NtdllBackendOptions = Win32BackendOptions;

/** A backend for this platform (core calls it with the config file's `backendOptions`). */
export function createBackend(options: NtdllBackendOptions = {}): Backend {
  refuseUnknownKeys(options, ['creator'], 'ntdll options');
  return process.platform === 'win32' ? createWin32Backend(options) : createLinuxBackend();
}

export const backend: Backend = createBackend();

export type { ProcessCreator, Win32BackendOptions } from './win32/index.js';
