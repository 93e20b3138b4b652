/** The ntdll backend's POSIX face: posix_spawn through koffi (glibc on Linux). */
import { readdirSync } from 'node:fs';
import {
  SpawnError,
  type ActionOp,
  type Backend,
  type ProbeResult,
  type SpawnedChild,
  type SpawnOptions,
  type SpawnRequest,
  type SyncSpawnOptions,
  type SyncSpawnResult,
} from '@forkexec/core';
import { errnoName, spawnHint } from '@forkexec/core/backend-kit';
import { blameAction } from './blame-action.js';
import { cloneLibrary, cloneLibraryPath, cloneSpawn, type ExecFailure } from './clone-spawn.js';
import { AF_UNIX, loadLibc, O_CLOEXEC, SOCK_STREAM, type Libc } from './libc.js';
import { parentEnviron } from './parent-environ.js';
import { PosixChild } from './posix-child.js';
import { posixSpawn, posixSpawnOffThread, type SpawnOutcome } from './posix-spawn.js';
import { sharedReaper } from './shared-reaper.js';
import { planSpawn, readsParentFds } from './spawn-plan.js';
import { watchChildPid } from './watch-child-pid.js';
import { closeAfterSpawn, closeStdio, openStdio, stdioStreams, type ChildStdio } from './stdio.js';
import { waitSync } from './sync-child.js';

/**
 * What posix_spawn expresses exactly. umask, sigignore, setuid, setgid, setgroups, setrlimit
 * and nice have no posix_spawn equivalent: core refuses them and names the backends that can.
 */
const LINUX_ACTIONS: readonly ActionOp[] = [
  'dup2',
  'close',
  'open',
  'chdir',
  'setsid',
  'setpgid',
  'sigdefault',
  'sigmask',
  'closefrom',
];

function parentFds(): number[] {
  return readdirSync('/proc/self/fd').map(Number);
}

/** How the Linux backend starts a child (backend option `spawner`). */
export type LinuxSpawner = 'clone' | 'posix_spawn';

/**
 * The clone path (x86-64, with dist/linux-x64/libfxclone.so): the child is created here, and this
 * returns as soon as it exists; its setup and exec run concurrently (see clone-spawn.ts), a
 * failure comes with its exit. `deferPid` is moot: the pid is there at once.
 */
function spawnByClone(request: SpawnRequest): SpawnedChild | undefined {
  const lib = cloneLibrary();
  if (!lib) return undefined;
  const libc = loadLibc();
  const children = sharedReaper();
  const stdio = openStdio(request, libc);
  let outcome;
  try {
    children.listen();
    const env = (request.inheritsEnv && parentEnviron()) || request.env;
    outcome = cloneSpawn(lib, request, env, planSpawn(request, stdio.sources, parentFds));
  } catch (error) {
    closeStdio(stdio);
    throw error;
  }
  if ('errno' in outcome) {
    closeStdio(stdio);
    throw spawnFailure(request, outcome.errno, undefined);
  }
  // The child has its own copy of the fd table since clone: the parent's copies can go now.
  closeAfterSpawn(stdio);
  const failure = ({ errno, actionIndex }: ExecFailure) => spawnFailure(request, errno, actionIndex ?? null);
  const child = new PosixChild(children, stdioStreams(stdio), false, { slot: outcome.slot, failure });
  child.run(outcome.pid);
  return child;
}

/**
 * Starts the child with posix_spawn. With `deferPid` (and no fd of the parent read by the
 * actions), posix_spawn runs on libuv's threadpool and the event loop goes on meanwhile;
 * otherwise it runs here.
 */
function spawnByPosixSpawn(request: SpawnRequest, options: SpawnOptions = {}): SpawnedChild {
  const libc = loadLibc();
  const children = sharedReaper();
  const deferred = options.deferPid === true && !readsParentFds(request);
  const stdio = openStdio(request, libc, deferred);
  // Core resolved every path (program, cwd, action paths) to an absolute one: a later process.chdir() cannot change them.
  if (!deferred) {
    children.listen();
    const { pid } = spawnHere(libc, request, stdio);
    const child = new PosixChild(children, stdioStreams(stdio), false);
    child.run(pid);
    return child;
  }

  const env = (request.inheritsEnv && parentEnviron()) || request.env;
  let child: PosixChild | undefined;
  const done = (outcome: SpawnOutcome | Error) => {
    closeAfterSpawn(stdio);
    if (outcome instanceof Error)
      child!.fail(
        new SpawnError(`could not start ${request.file}: ${outcome.message}`, {
          command: request.command,
          cause: outcome,
        }),
      );
    else if ('errno' in outcome) child!.fail(spawnFailure(request, outcome.errno, outcome.refused?.actionIndex));
    else {
      children.listen(); // again: a long queue may have outlasted the listener (run() reaps a child that exited meanwhile)
      child!.run(outcome.pid);
    }
  };
  let refused;
  try {
    children.listen();
    refused = posixSpawnOffThread(libc, request, request.argv, env, planSpawn(request, stdio.sources, parentFds), done);
  } catch (error) {
    closeStdio(stdio);
    throw error;
  }
  if (refused) {
    closeStdio(stdio);
    throw spawnFailure(request, refused.errno, refused.refused.actionIndex);
  }
  // The streams exist before the child does: the parent ends of the pipes are open already.
  return (child = new PosixChild(children, stdioStreams(stdio), true));
}

/** posix_spawn on this thread; on failure the stdio is closed and the typed error thrown. */
function spawnHere(libc: Libc, request: SpawnRequest, stdio: ChildStdio): ChildStdio & { pid: number } {
  const env = (request.inheritsEnv && parentEnviron()) || request.env;
  let outcome;
  try {
    outcome = posixSpawn(libc, request, request.argv, env, planSpawn(request, stdio.sources, parentFds));
  } catch (error) {
    closeStdio(stdio);
    throw error;
  }
  if ('errno' in outcome) {
    closeStdio(stdio);
    throw spawnFailure(request, outcome.errno, outcome.refused?.actionIndex);
  }
  closeAfterSpawn(stdio);
  return Object.assign(stdio, { pid: outcome.pid });
}

/** Backend.spawnSync: the child started here and waited for on this thread (see waitSync). */
function spawnSync(request: SpawnRequest, options: SyncSpawnOptions): SyncSpawnResult {
  return spawnSyncWith(loadLibc(), request, options);
}

/** spawnSync on the given libc (the tests take pidfd_open away to run the fallback of older kernels). */
export function spawnSyncWith(libc: Libc, request: SpawnRequest, options: SyncSpawnOptions): SyncSpawnResult {
  const started = spawnHere(libc, request, openStdio(request, libc));
  return waitSync(libc, started.pid, started.parentEnds, options);
}

/** Backend.socketPair: AF_UNIX stream ends, close-on-exec (SOCK_CLOEXEC has O_CLOEXEC's value on Linux). */
function socketPair(): [number, number] {
  const libc = loadLibc();
  const fds = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, fds) !== 0)
    throw new SpawnError(`socketpair failed: ${errnoName(libc.errno())}`, { errno: errnoName(libc.errno()) });
  return [fds[0], fds[1]];
}

/** `refusedIndex`: the failed action, when known (null: known to be none, undefined: guessed by blameAction). */
function spawnFailure(request: SpawnRequest, errno: number, refusedIndex: number | null | undefined): SpawnError {
  const name = errnoName(errno);
  const actionIndex = refusedIndex === null ? undefined : (refusedIndex ?? blameAction(request, name));
  const what =
    actionIndex === undefined
      ? `could not start ${request.file}`
      : `actions[${actionIndex}] (${request.actions[actionIndex].op}) failed in the child`;
  return new SpawnError(`${what}: ${name}`, {
    errno: name,
    actionIndex,
    command: request.command,
    hint: spawnHint(name),
  });
}

function probe(clone: boolean): ProbeResult {
  try {
    const libc = loadLibc();
    const how = clone && cloneLibrary() ? `clone(CLONE_VM) through ${cloneLibraryPath()}` : 'posix_spawn';
    return { ok: true, detail: `${how} through koffi ${libc.koffiVersion}, glibc ${libc.glibcVersion}` };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

/**
 * `spawner`: 'clone' (the default) where this platform has the clone library, else posix_spawn;
 * 'posix_spawn' keeps the posix_spawn path (on the threadpool with deferPid) everywhere.
 */
export function createLinuxBackend({ spawner = 'clone' }: { spawner?: LinuxSpawner } = {}): Backend {
  // Only a file's presence is checked here (importing the backend loads no native code); the
  // capabilities follow the path spawns will take.
  const clone = spawner === 'clone' && cloneLibraryPath() !== undefined;
  return {
    name: 'ntdll',
    capabilities: {
      platforms: ['linux'],
      actions: [...LINUX_ACTIONS],
      // The clone path returns the pid before the child exec'd: a failure comes with `exited`.
      pidBeforeExec: clone,
      flatCost: true,
      deferredPid: !clone,
      exactExec: true,
      searchesPath: true,
    },
    probe: () => probe(clone),
    spawn: clone
      ? (request, options) => spawnByClone(request) ?? spawnByPosixSpawn(request, options)
      : spawnByPosixSpawn,
    watchChild: watchChildPid,
    spawnSync,
    socketPair,
  };
}
