import type { SpawnRequest, SyncSpawnOptions, SyncSpawnResult } from './backend.js';
import { withRequest } from './fork-before-exec.js';
import { nodeBackend } from './node-backend.js';
import type { Options } from './options.js';

/**
 * Runs the child to its end with the backend's spawnSync (the node backend's when the chosen one
 * has none), from options already validated (validateOptions). Throws the typed error of a start
 * that failed (the drop-in's sync functions hand those to Node).
 */
export function runChildSync(
  file: unknown,
  args: unknown,
  validated: Options,
  sync: SyncSpawnOptions,
): SyncSpawnResult & { backend: string; request: SpawnRequest } {
  return withRequest(
    file,
    args,
    validated,
    (backend, request) => ({ ...backend.spawnSync!(request, sync), backend: backend.name, request }),
    (backend) => (backend.spawnSync ? backend : nodeBackend),
  );
}
