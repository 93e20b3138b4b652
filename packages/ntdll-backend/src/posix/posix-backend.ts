/** The ntdll backend's POSIX face: posix_spawn through koffi (glibc on Linux). */
import { readdirSync } from 'node:fs';
import {
  errnoName, SpawnError, spawnHint,
  type ActionOp, type Backend, type ProbeResult, type SpawnedChild, type SpawnRequest,
} from '@forkexec/core';
import { blameAction } from './blame-action.js';
import { loadLibc, WNOHANG, type Libc } from './libc.js';
import { posixSpawn } from './posix-spawn.js';
import { Reaper } from './reaper.js';
import { planSpawn } from './spawn-plan.js';
import { closeAfterSpawn, closeStdio, openStdio, stdioStreams } from './stdio.js';

/**
 * What posix_spawn expresses exactly. umask, sigignore, setuid, setgid, setgroups, setrlimit
 * and nice have no posix_spawn equivalent: core refuses them and names the backends that can.
 */
export const POSIX_ACTIONS: readonly ActionOp[] = ['dup2', 'close', 'open', 'chdir', 'setsid', 'setpgid', 'sigdefault', 'sigmask', 'closefrom'];

let reaper: Reaper | undefined;

function reaperFor(libc: Libc): Reaper {
  if (reaper) return reaper;
  const waitpid = Object.assign((pid: number, status: Int32Array) => libc.waitpid(pid, status, WNOHANG), { errno: () => libc.errno() });
  return (reaper = new Reaper(waitpid));
}

function parentFds(): number[] {
  return readdirSync('/proc/self/fd').map(Number);
}

function spawn(request: SpawnRequest): SpawnedChild {
  const libc = loadLibc();
  const children = reaperFor(libc);
  const stdio = openStdio(request, libc);
  let outcome;
  try {
    children.listen();
    outcome = posixSpawn(libc, request.file, request.argv, request.env, planSpawn(request, stdio.sources, parentFds));
  } catch (error) {
    closeStdio(stdio);
    throw error;
  }
  if ('errno' in outcome) {
    closeStdio(stdio);
    throw spawnFailure(request, outcome.errno, outcome.refused?.actionIndex);
  }
  closeAfterSpawn(stdio);
  const { pid } = outcome;
  const exited = children.watch(pid);
  const streams = stdioStreams(stdio);
  if (streams.stdin || streams.stdout || streams.stderr) exited.then(() => process.nextTick(flushStdio, streams), () => {});
  return {
    pid,
    ...streams,
    exited,
    kill(signal = 'SIGTERM') {
      if (!children.isPending(pid)) return false;
      try {
        process.kill(pid, signal);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
        throw error; // an unknown signal name, or EPERM: the caller's mistake, not "already gone"
      }
    },
    ref: () => children.setRef(pid, true),
    unref: () => children.setRef(pid, false),
  };
}

/**
 * Once the child is gone, as child_process does: stdin has no reader left, and output nobody
 * reads is drained so that its pipe reaches EOF and closes instead of staying open forever.
 */
function flushStdio({ stdin, stdout, stderr }: ReturnType<typeof stdioStreams>): void {
  stdin?.destroy();
  for (const stream of [stdout, stderr]) if (stream && stream.readable && !stream.readableFlowing && stream.listenerCount('data') === 0 && stream.listenerCount('readable') === 0) stream.resume();
}

function spawnFailure(request: SpawnRequest, errno: number, refusedIndex: number | undefined): SpawnError {
  const name = errnoName(errno);
  const actionIndex = refusedIndex ?? blameAction(request, name);
  const what = actionIndex === undefined ? `could not start ${request.file}` : `actions[${actionIndex}] (${request.actions[actionIndex].op}) failed in the child`;
  return new SpawnError(`${what}: ${name}`, { errno: name, actionIndex, command: request.command, hint: spawnHint(name) });
}

function probe(): ProbeResult {
  try {
    const libc = loadLibc();
    return { ok: true, detail: `posix_spawn through koffi ${libc.koffiVersion}, glibc ${libc.glibcVersion}` };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

export function createPosixBackend(): Backend {
  return {
    name: 'ntdll',
    capabilities: { platforms: ['linux'], actions: [...POSIX_ACTIONS], pidBeforeExec: false, flatCost: true },
    probe,
    spawn,
  };
}
