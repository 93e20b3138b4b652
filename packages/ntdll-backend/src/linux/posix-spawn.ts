/** One posix_spawn call, here or on libuv's threadpool: file actions and attributes built from a plan, always freed. */
import {
  check,
  POSIX_SPAWN_SETPGROUP,
  POSIX_SPAWN_SETSID,
  POSIX_SPAWN_SETSIGDEF,
  POSIX_SPAWN_SETSIGMASK,
  SIGSET_SIZE,
  SPAWNATTR_SIZE,
  type Envp,
  type Libc,
} from './libc.js';
import type { SpawnRequest } from '@forkexec/core';
import { FileActionsCache, type LeasedFileActions } from './file-actions-cache.js';
import type { FileOp, SpawnPlan } from './spawn-plan.js';
import { onThreadPool } from './thread-pool-lane.js';

/** What to run: a path, or with `searchPath` a bare name found in libc's PATH (posix_spawnp). */
export type Program = Pick<SpawnRequest, 'file' | 'searchPath'>;

/**
 * The pid, or the errno posix_spawn returned (exec failures included: glibc reports them
 * synchronously), with the file action glibc refused up front (an fd beyond RLIMIT_NOFILE).
 */
export type SpawnOutcome = { pid: number } | { errno: number; refused?: FileOp };

let defaultAttr: Buffer | undefined;
let fileActions: FileActionsCache | undefined;
const pidOut = new Int32Array(1);

/** A posix_spawn call ready to run: file actions and attributes built, freed once it ran. */
interface Prepared {
  actions: LeasedFileActions;
  attr: Buffer;
  custom: boolean;
  argv: (string | null)[];
  envp: Envp;
}

/** Builds the call, or returns the errno of the file action glibc refused up front (nothing stays allocated). */
function prepare(
  libc: Libc,
  argv: string[],
  env: ChildEnv,
  plan: SpawnPlan,
): Prepared | { errno: number; refused: FileOp } {
  const envp = Buffer.isBuffer(env) ? env : envpOf(env);
  const actions = (fileActions ??= new FileActionsCache(libc)).lease(plan.fileOps);
  if ('errno' in actions) return actions;
  const custom = plan.setsid || plan.pgroup !== undefined || plan.sigmask.length > 0;
  let attr;
  try {
    attr = custom ? buildAttr(libc, plan) : (defaultAttr ??= buildAttr(libc, plan));
  } catch (error) {
    actions.release();
    throw error;
  }
  return { actions, attr, custom, argv: [...argv, null], envp };
}

/** The child's environment: its variables, or a ready envp (see parentEnviron). */
type ChildEnv = Record<string, string> | Buffer;

function envpOf(env: Record<string, string>): (string | null)[] {
  const envp: (string | null)[] = [];
  for (const key in env) envp.push(`${key}=${env[key]}`);
  envp.push(null);
  return envp;
}

function release(libc: Libc, { actions, attr, custom }: Prepared): void {
  actions.release();
  if (custom) libc.spawnattr_destroy(attr);
}

/** posix_spawnp for a bare name to search for, else posix_spawn: [on this thread, on the threadpool]. */
function spawnFunctions(libc: Libc, { searchPath }: Program): [Libc['posix_spawn'], Libc['posix_spawn_async']] {
  return searchPath ? [libc.posix_spawnp, libc.posix_spawnp_async] : [libc.posix_spawn, libc.posix_spawn_async];
}

/** posix_spawn on this thread: returns once the child has exec'd (or failed to). */
export function posixSpawn(libc: Libc, program: Program, argv: string[], env: ChildEnv, plan: SpawnPlan): SpawnOutcome {
  const call = prepare(libc, argv, env, plan);
  if ('errno' in call) return call;
  try {
    const error = spawnFunctions(libc, program)[0](
      pidOut,
      program.file,
      call.actions.fa,
      call.attr,
      call.argv,
      call.envp,
    );
    return error === 0 ? { pid: pidOut[0] } : { errno: error };
  } finally {
    release(libc, call);
  }
}

/**
 * posix_spawn on libuv's threadpool, so the event loop does not wait for the child's exec.
 * A refused file action is returned at once; otherwise `done` gets the outcome later (never
 * before this returns), or an Error when koffi failed the call.
 */
export function posixSpawnOffThread(
  libc: Libc,
  program: Program,
  argv: string[],
  env: ChildEnv,
  plan: SpawnPlan,
  done: (outcome: SpawnOutcome | Error) => void,
): { errno: number; refused: FileOp } | undefined {
  const call = prepare(libc, argv, env, plan);
  if ('errno' in call) return call;
  const { file } = program;
  const [spawn, spawnAsync] = spawnFunctions(libc, program);
  const pid = new Int32Array(1); // written by the worker thread: one per call
  const outcome = (result: number): SpawnOutcome => (result === 0 ? { pid: pid[0] } : { errno: result });
  onThreadPool(
    (finished) =>
      spawnAsync(pid, file, call.actions.fa, call.attr, call.argv, call.envp, (error, result) => {
        release(libc, call); // `call` kept the buffers alive until now
        finished();
        done(error ?? outcome(result));
      }),
    () => {
      // koffi refused the async call (other koffi users hold all of its slots): spawn on this thread.
      let result: SpawnOutcome | Error;
      try {
        result = outcome(spawn(pid, file, call.actions.fa, call.attr, call.argv, call.envp));
      } catch (error) {
        result = error as Error;
      } finally {
        release(libc, call);
      }
      process.nextTick(done, result);
    },
  );
  return undefined;
}

/** Every signal back to its default disposition, the plan's mask, and session or group. */
function buildAttr(libc: Libc, plan: SpawnPlan): Buffer {
  const attr = Buffer.alloc(SPAWNATTR_SIZE);
  check(libc.spawnattr_init(attr), 'posix_spawnattr_init');
  const set = Buffer.alloc(SIGSET_SIZE);
  libc.sigfillset(set);
  check(libc.spawnattr_setsigdefault(attr, set), 'posix_spawnattr_setsigdefault');
  libc.sigemptyset(set);
  for (const signal of plan.sigmask) check(libc.sigaddset(set, signal), `sigaddset ${signal}`);
  check(libc.spawnattr_setsigmask(attr, set), 'posix_spawnattr_setsigmask');
  let flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (plan.setsid) flags |= POSIX_SPAWN_SETSID;
  if (plan.pgroup !== undefined) {
    flags |= POSIX_SPAWN_SETPGROUP;
    check(libc.spawnattr_setpgroup(attr, plan.pgroup), 'posix_spawnattr_setpgroup');
  }
  check(libc.spawnattr_setflags(attr, flags), 'posix_spawnattr_setflags');
  return attr;
}
