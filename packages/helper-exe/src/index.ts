// Placeholder until the helper implementation (issue 5) lands.
import { BackendUnavailableError, type Backend } from '@forkexec/core';

export const backend: Backend = {
  name: 'helper-exe',
  capabilities: { platforms: ['linux', 'darwin', 'win32'], actions: [], pidBeforeExec: true, flatCost: true },
  probe: () => ({ ok: false, reason: 'not implemented yet' }),
  spawn() {
    throw new BackendUnavailableError('the helper-exe backend is not implemented yet');
  },
};

export const createBackend = (): Backend => backend;
