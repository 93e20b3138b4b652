/**
 * Watches the exit of a child of this process that the backend did not start itself (for example
 * a helper forked with clone(CLONE_PARENT) by a process the backend started: it is our child, and
 * only we can reap it). Same reaping rules as the backend's own children: waitpid(pid, WNOHANG) on
 * SIGCHLD, never waitpid(-1).
 */
import type { WatchedChild } from '@forkexec/core';
import { sharedReaper } from './shared-reaper.js';

/**
 * Starts watching `pid`, which must be a child of this process not watched by anything else.
 * Throws when libc cannot be bound (koffi missing). The child may have exited already: its zombie
 * waits for us, and is checked for at once (its SIGCHLD may have come before this call).
 */
export function watchChildPid(pid: number): WatchedChild {
  if (!Number.isInteger(pid) || pid <= 0)
    throw new RangeError(`watchChildPid: pid must be a positive integer, got ${pid}`);
  const children = sharedReaper();
  children.listen();
  const exited = children.watch(pid); // checks this pid at once, too
  children.setRef(pid, true); // watch() leaves a running timer's ref state as it was
  return {
    pid,
    exited,
    kill: (signal = 'SIGTERM') => children.kill(pid, signal),
    ref: () => children.setRef(pid, true),
    unref: () => children.setRef(pid, false),
  };
}
