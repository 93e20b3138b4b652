/**
 * helper-exe on Windows: a pool of helpers created suspended ahead of time (their pids exist
 * before any request); a spawn hands one the request and resumes it, and the helper creates the
 * program and stands in for it. Created by createBackend() on win32.
 */
import { accessSync } from 'node:fs';
import path from 'node:path';
import type { Backend, ProbeResult, SpawnedChild, SpawnRequest } from '@forkexec/core';
import { createWin32Backend, win32Internals } from '@forkexec/ntdll-backend';
import { packageDir } from '../locate-helper.js';
import { probeWin32Helper } from './probe-win32-helper.js';
import { spawnOnSuspendedHelper } from './spawn-on-suspended-helper.js';
import { SuspendedHelper } from './suspended-helper.js';
import { SuspendedPool } from './suspended-pool.js';
import { WIN32_PROTOCOL_VERSION } from './wire.js';

export interface Win32HelperSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
  /** The helper program (default: FORKEXEC_HELPER, then the package's dist/fxhelper.exe). */
  helperPath?: string;
}

export interface Win32HelperBackend extends Backend {
  stats(): { warm: number; warmTaken: number; coldStarted: number; retired: number; replaced: number };
  /** The backend whose process creation (NtCreateUserProcess) starts the helpers. */
  starter(): Backend;
}

export function win32HelperPath(option?: string): string {
  return option ?? process.env.FORKEXEC_HELPER ?? path.join(packageDir(), 'dist', 'fxhelper.exe');
}

function helperProblem(file: string): string | undefined {
  try {
    accessSync(file);
    return undefined;
  } catch {
    return `the Windows helper ${file} is not built: build the package with mingw-w64 installed (npm run build -w @forkexec/helper-exe compiles native/win32/fxhelper-win.c with x86_64-w64-mingw32-gcc, or MINGW_CC)`;
  }
}

export function createWin32HelperBackend(settings: Win32HelperSettings): Win32HelperBackend {
  let pool: SuspendedPool | undefined;
  let starter: Backend | undefined;
  const getPool = () => {
    if (pool) return pool;
    const api = win32Internals.loadWin32Api();
    const file = win32HelperPath(settings.helperPath);
    return (pool = new SuspendedPool({ ...settings, start: () => new SuspendedHelper(api, file) }));
  };
  return {
    name: 'helper-exe',
    capabilities: {
      platforms: ['win32'],
      actions: ['dup2', 'close', 'open', 'chdir'],
      pidBeforeExec: true,
      flatCost: true,
    },
    probe(): ProbeResult {
      if (process.platform !== 'win32')
        return { ok: false, reason: `the Windows helper runs on win32, not ${process.platform}` };
      const file = win32HelperPath(settings.helperPath);
      const problem = helperProblem(file);
      if (problem) return { ok: false, reason: problem };
      try {
        const failed = probeWin32Helper(win32Internals.loadWin32Api(), file);
        if (failed) return { ok: false, reason: failed };
        return {
          ok: true,
          detail: `${file} (Windows protocol v${WIN32_PROTOCOL_VERSION}, handshake ok), helpers created suspended through NtCreateUserProcess`,
        };
      } catch (error) {
        return { ok: false, reason: (error as Error).message };
      }
    },
    spawn(request: SpawnRequest): SpawnedChild {
      const current = getPool();
      return spawnOnSuspendedHelper(win32Internals.loadWin32Api(), current, request);
    },
    async dispose() {
      const current = pool;
      pool = undefined;
      await current?.dispose();
    },
    stats() {
      return {
        warm: pool?.warmCount ?? 0,
        ...(pool?.stats ?? { warmTaken: 0, coldStarted: 0, retired: 0, replaced: 0 }),
      };
    },
    starter: () => (starter ??= createWin32Backend()),
  };
}
