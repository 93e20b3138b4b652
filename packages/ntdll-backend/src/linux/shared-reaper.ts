/**
 * The one Reaper of this process: the backend's own children and those handed to watchChildPid share
 * it, so there is one SIGCHLD listener and one timer however many children are pending.
 */
import { loadLibc, P_ALL, WEXITED, WNOHANG, WNOWAIT, type Libc } from './libc.js';
import { Reaper, type PeekExited } from './reaper.js';

let reaper: Reaper | undefined;

/** Throws when libc cannot be bound (koffi missing). */
export function sharedReaper(): Reaper {
  if (reaper) return reaper;
  const libc = loadLibc();
  const waitpid = Object.assign((pid: number, status: Int32Array) => libc.waitpid(pid, status, WNOHANG), {
    errno: () => libc.errno(),
  });
  return (reaper = new Reaper(waitpid, peekExited(libc)));
}

/** PeekExited on libc: waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT), which reaps nothing. */
export function peekExited(libc: Libc): PeekExited {
  const info = new Int32Array(32); // siginfo_t
  return () => {
    info[4] = 0; // si_pid: waitid leaves 0 there when no child has exited
    return libc.waitid(P_ALL, 0, info, WEXITED | WNOHANG | WNOWAIT) === 0 ? info[4] : -1;
  };
}
