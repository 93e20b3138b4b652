/**
 * posix_spawn reports one errno for the whole child setup. For path errors, find the first
 * chdir or open action that fails the same way in the parent (same user, same files), so the
 * error can name it; otherwise the program itself is to blame.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { openFlagsNumber, type Action, type SpawnRequest } from '@forkexec/core';

const PATH_ERRNOS = new Set([
  'ENOENT',
  'ENOTDIR',
  'EACCES',
  'ELOOP',
  'ENAMETOOLONG',
  'EISDIR',
  'EEXIST',
  'EROFS',
  'ENXIO',
  'ETXTBSY',
]);

export function blameAction(request: SpawnRequest, errno: string): number | undefined {
  if (!PATH_ERRNOS.has(errno)) return undefined;
  const index = request.actions.findIndex((action) => (action.op === 'chdir' || action.op === 'open') && fails(action));
  return index === -1 ? undefined : index;
}

function fails(action: Extract<Action, { op: 'chdir' | 'open' }>): boolean {
  try {
    if (action.op === 'chdir') {
      accessSync(action.path, constants.X_OK);
      return !statSync(action.path).isDirectory();
    }
    const flags = openFlagsNumber(action.flags);
    const access =
      flags & constants.O_RDWR
        ? constants.R_OK | constants.W_OK
        : flags & constants.O_WRONLY
          ? constants.W_OK
          : constants.R_OK;
    let exists = true;
    try {
      statSync(action.path);
    } catch {
      exists = false;
    }
    if (!exists) {
      if (!(flags & constants.O_CREAT)) return true;
      accessSync(path.dirname(action.path), constants.W_OK | constants.X_OK);
      return false;
    }
    if (flags & constants.O_CREAT && flags & constants.O_EXCL) return true;
    accessSync(action.path, access);
    return false;
  } catch {
    return true;
  }
}
