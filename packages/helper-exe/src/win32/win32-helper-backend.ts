/**
 * helper-exe on Windows: a pool of helpers created suspended ahead of time (their pids exist
 * before any request); a spawn hands one the request and resumes it, and the helper creates the
 * program and stands in for it. Created by createBackend() on win32.
 */
import type { Backend, ProbeResult, SpawnedChild, SpawnRequest } from '@forkexec/core';
import { createWin32Backend, loadWin32Api, WIN32_ACTIONS } from '@forkexec/ntdll-backend/internal';
import { helperPath, helperProblem } from '../locate-helper.js';
import { probeWin32Helper } from './probe-win32-helper.js';
import { spawnOnSuspendedHelper } from './spawn-on-suspended-helper.js';
import { SuspendedHelper } from './suspended-helper.js';
import { SuspendedPool } from './suspended-pool.js';
import { WIN32_PROTOCOL_VERSION } from './wire.js';

export interface Win32HelperSettings {
  min: number;
  max: number;
  idleTimeoutMs: number;
  /** The helper program (default: FORKEXEC_HELPER, then the package's dist/win32-x64/fxhelper.exe). */
  helperPath?: string;
}

export interface Win32HelperBackend extends Backend {
  stats(): { warm: number; warmTaken: number; coldStarted: number; retired: number; replaced: number };
  /** The backend whose process creation (NtCreateUserProcess) starts the helpers. */
  starter(): Backend;
}

export function createWin32HelperBackend(settings: Win32HelperSettings): Win32HelperBackend {
  let pool: SuspendedPool | undefined;
  let starter: Backend | undefined;
  const getPool = () => {
    if (pool) return pool;
    const api = loadWin32Api();
    const file = helperPath(settings.helperPath);
    return (pool = new SuspendedPool({ ...settings, start: () => new SuspendedHelper(api, file) }));
  };
  return {
    name: 'helper-exe',
    capabilities: {
      platforms: ['win32'],
      actions: [...WIN32_ACTIONS],
      pidBeforeExec: true,
      preStartsHelpers: true,
      flatCost: true,
    },
    probe(): ProbeResult {
      if (process.platform !== 'win32')
        return { ok: false, reason: `the Windows helper runs on win32, not ${process.platform}` };
      const problem = helperProblem(settings.helperPath);
      if (problem) return { ok: false, reason: problem };
      const file = helperPath(settings.helperPath);
      try {
        const failed = probeWin32Helper(loadWin32Api(), file);
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
      return spawnOnSuspendedHelper(loadWin32Api(), current, request);
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
