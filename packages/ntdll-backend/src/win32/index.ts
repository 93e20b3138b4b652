// The Windows half of the ntdll backend: processes created at the NT layer through koffi.
// Nothing here loads native code until a spawn or probe runs on Windows.
import type { ActionOp, Backend, SpawnRequest, SpawnedChild } from '@forkexec/core';
import type { ProcessCreator } from './create-process.js';
import { loadWin32Api } from './ntdll-api.js';
import { spawnWin32 } from './spawn-win32.js';

export type { ProcessCreator } from './create-process.js';

/** What a Windows process creation carries out: stdio handles (dup2, close, open) and the working directory. */
export const WIN32_ACTIONS: readonly ActionOp[] = ['dup2', 'close', 'open', 'chdir'];

export interface Win32BackendOptions {
  /** The ntdll entry point that creates processes (default NtCreateUserProcess, which falls back to RtlCreateUserProcess). */
  creator?: ProcessCreator;
}

export function createWin32Backend(options: Win32BackendOptions = {}): Backend {
  const creator = options.creator ?? 'NtCreateUserProcess';
  return {
    name: 'ntdll',
    capabilities: {
      platforms: ['win32'],
      actions: [...WIN32_ACTIONS],
      pidBeforeExec: false,
      flatCost: true,
    },
    probe() {
      if (process.platform !== 'win32')
        return { ok: false, reason: `the Windows ntdll backend runs on win32, not ${process.platform}` };
      try {
        loadWin32Api();
        return { ok: true, detail: `${creator} through koffi` };
      } catch (error) {
        return { ok: false, reason: (error as Error).message };
      }
    },
    spawn(request: SpawnRequest): SpawnedChild {
      return spawnWin32(loadWin32Api(), request, creator);
    },
  };
}
