/**
 * The one Reaper of this process: the backend's own children and those handed to watchChildPid share
 * it, so there is one SIGCHLD listener and one timer however many children are pending.
 */
import { loadLibc, WNOHANG } from './libc.js';
import { Reaper } from './reaper.js';

let reaper: Reaper | undefined;

/** Throws when libc cannot be bound (koffi missing). */
export function sharedReaper(): Reaper {
  if (reaper) return reaper;
  const libc = loadLibc();
  const waitpid = Object.assign((pid: number, status: Int32Array) => libc.waitpid(pid, status, WNOHANG), {
    errno: () => libc.errno(),
  });
  return (reaper = new Reaper(waitpid));
}
