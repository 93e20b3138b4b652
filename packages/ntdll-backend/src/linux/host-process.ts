import { runInThisContext } from 'node:vm';

/**
 * The `process` of the host realm. Inside a vm sandbox (Jest runs every test file in one) the
 * global `process` is a copy whose signal listeners never fire; a script run by the host's own
 * vm module sees the real one. Outside a sandbox both are the same object.
 */
export function hostProcess(): NodeJS.Process {
  try {
    const host = runInThisContext('process') as NodeJS.Process;
    if (host && typeof host.on === 'function' && host.pid === process.pid) return host;
  } catch {}
  return process;
}
