/** The parent's environment as libc holds it, for spawns that inherit it unchanged. */
import { processEnvIsEnviron } from '@forkexec/core/backend-kit';
import { loadLibc, type Libc } from './libc.js';

/**
 * The parent's environment now, as a copy of libc's `environ` pointer array (see Libc.environ),
 * or undefined when process.env is not backed by it. Two equal snapshots hold the same variables:
 * glibc never changes a string it put in the array, and hands back the same string for the same
 * "name=value" (so helper-exe can key an encoding on it).
 */
export function parentEnviron(): Buffer | undefined {
  return processEnvIsEnviron() ? glibc()?.environ() : undefined;
}

let libc: Libc | null | undefined;

/** libc when it binds here (Linux with glibc), else null: asked once. */
function glibc(): Libc | null {
  if (libc === undefined) {
    try {
      libc = loadLibc();
    } catch {
      libc = null;
    }
  }
  return libc;
}
