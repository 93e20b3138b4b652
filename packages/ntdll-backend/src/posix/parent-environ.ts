/** The parent's environment as libc holds it, for spawns that inherit it unchanged. */
import { types } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import { loadLibc, type Libc } from './libc.js';

/**
 * Whether process.env is Node's own store, whose writes go to libc's `environ`. Test runners
 * (Jest's sandbox proxy) and code that assigns process.env put an ordinary object in its place,
 * whose changes `environ` never sees; a Worker has its own copy (unless started with SHARE_ENV,
 * which it cannot tell).
 */
function envIsEnviron(): boolean {
  if (!isMainThread) return false;
  const env: object = process.env;
  const proto: unknown = Object.getPrototypeOf(env);
  return !types.isProxy(env) && proto !== Object.prototype && proto !== null;
}

/**
 * The parent's environment now, as a copy of libc's `environ` pointer array (see Libc.environ),
 * or undefined when process.env is not backed by it. Two equal snapshots hold the same variables:
 * glibc never changes a string it put in the array, and hands back the same string for the same
 * "name=value" (so helper-exe can key an encoding on it).
 */
export function parentEnviron(): Buffer | undefined {
  return envIsEnviron() ? glibc()?.environ() : undefined;
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
