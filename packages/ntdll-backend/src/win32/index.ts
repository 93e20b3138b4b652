// The Windows half of the ntdll backend: processes created at the NT layer through koffi.
// Nothing here loads native code until a spawn or probe runs on Windows.
import type { Backend, SpawnRequest, SpawnedChild } from '@forkexec/core';
import type { ProcessCreator } from './create-process.js';
import { loadWin32Api } from './ntdll-api.js';
import { spawnWin32 } from './spawn-child.js';

export type { ProcessCreator } from './create-process.js';
// Building blocks the helper-exe backend's Windows helper shares (internal to forkexec: no semver promise).
export { buildCommandLine } from './command-line.js';
export { createProcess, type CreatedProcess, type ProcessSpec } from './create-process.js';
export { environmentBlock } from './environment-block.js';
export { watchProcessHandle } from './watch-process-handle.js';
export { findProgram } from './find-program.js';
export { CURRENT_PROCESS, isValidHandle, loadWin32Api, type Win32Api } from './ntdll-api.js';
export { exitCodeOf, fileKind, terminatingSignal, TERMINATED_EXIT_STATUS } from './spawn-child.js';
export { prepareStdio, type ChildStdio } from './stdio-handles.js';

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
      actions: ['dup2', 'close', 'open', 'chdir'],
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
