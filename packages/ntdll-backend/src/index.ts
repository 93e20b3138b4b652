// Placeholder until the posix_spawn (issue 3) and ntdll (issue 4) implementations land.
import { BackendUnavailableError, type Backend } from '@forkexec/core';

export const backend: Backend = {
  name: 'ntdll',
  capabilities: { platforms: ['linux', 'darwin', 'win32'], actions: [], pidBeforeExec: false, flatCost: true },
  probe: () => ({ ok: false, reason: 'not implemented yet' }),
  spawn() {
    throw new BackendUnavailableError('the ntdll backend is not implemented yet');
  },
};

export const createBackend = (): Backend => backend;
