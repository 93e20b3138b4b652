/**
 * @forkexec/ntdll-backend: process creation that does not copy the parent. posix_spawn through
 * koffi on Linux, ntdll on Windows. Importing this module loads no native code: koffi loads on
 * the first probe() or spawn().
 */
import type { Backend } from '@forkexec/core';
import { createPosixBackend } from './posix/posix-backend.js';
import { createWin32Backend } from './win32/index.js';

/** A backend for this platform. */
export function createBackend(): Backend {
  return process.platform === 'win32' ? createWin32Backend() : createPosixBackend();
}

export const backend: Backend = createBackend();
