import type { SyncSpawnOptions, SyncSpawnResult } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import type { Options } from './options.js';
import { buildRequest, explainFailure } from './request.js';
import { backendsSupporting, resolveBackend } from './select-backend.js';

/**
 * Validates as forkBeforeExec does, then runs the child to its end with the backend's spawnSync.
 * Throws the typed error of a start that failed (the drop-in's sync functions hand those to Node).
 */
export function runChildSync(
  file: string,
  args: string[],
  options: Options,
  sync: SyncSpawnOptions,
): SyncSpawnResult & { backend: string } {
  const backend = resolveBackend(options.backend);
  if (!backend.spawnSync) throw new InvalidArgumentError(`the ${backend.name} backend has no synchronous spawn`);
  const request = buildRequest(file, args, options, backend, backendsSupporting);
  try {
    return { ...backend.spawnSync(request, sync), backend: backend.name };
  } catch (error) {
    throw explainFailure(error, request);
  }
}
