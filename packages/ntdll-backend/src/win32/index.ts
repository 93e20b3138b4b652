// Placeholder: the Windows implementation through ntdll (issue 4) replaces this file.
import { BackendUnavailableError, type Backend } from '@forkexec/core';

export function createWin32Backend(): Backend {
  return {
    name: 'ntdll',
    capabilities: { platforms: ['win32'], actions: [], pidBeforeExec: false, flatCost: true },
    probe: () => ({ ok: false, reason: 'the Windows implementation is not built yet' }),
    spawn() {
      throw new BackendUnavailableError('the Windows ntdll backend is not built yet');
    },
  };
}
