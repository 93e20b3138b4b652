import { types } from 'node:util';
import { isMainThread } from 'node:worker_threads';

/**
 * Whether process.env is Node's own store, whose reads and writes go to libc's `environ` (what
 * a child started by libc or handed `environ` sees). Test runners (Jest's sandbox proxy) and code
 * that assigns process.env put an ordinary object in its place, whose changes `environ` never
 * sees; a Worker has its own copy (unless started with SHARE_ENV, which it cannot tell).
 */
export function processEnvIsEnviron(): boolean {
  const env: object = process.env;
  if (env !== judged) {
    const proto: unknown = Object.getPrototypeOf(env);
    verdict = isMainThread && !types.isProxy(env) && proto !== Object.prototype && proto !== null;
    judged = env;
  }
  return verdict;
}

/** The process.env object last judged, and the verdict (the check is a native call: once per object). */
let judged: object | undefined;
let verdict = false;
