/** One posix_spawn call: file actions and attributes built from a plan, always freed. */
import {
  FILE_ACTIONS_SIZE, POSIX_SPAWN_SETPGROUP, POSIX_SPAWN_SETSID, POSIX_SPAWN_SETSIGDEF, POSIX_SPAWN_SETSIGMASK, SIGSET_SIZE, SPAWNATTR_SIZE,
  type Libc,
} from './libc.js';
import type { FileOp, SpawnPlan } from './spawn-plan.js';

/**
 * The pid, or the errno posix_spawn returned (exec failures included: glibc reports them
 * synchronously), with the file action glibc refused up front (an fd beyond RLIMIT_NOFILE).
 */
export type SpawnOutcome = { pid: number } | { errno: number; refused?: FileOp };

let defaultAttr: Buffer | undefined;
const pidOut = new Int32Array(1);

export function posixSpawn(libc: Libc, file: string, argv: string[], env: Record<string, string>, plan: SpawnPlan): SpawnOutcome {
  const envp: (string | null)[] = [];
  for (const key in env) envp.push(`${key}=${env[key]}`);
  envp.push(null);
  const custom = plan.setsid || plan.pgroup !== undefined || plan.sigmask.length > 0;
  const attr = custom ? buildAttr(libc, plan) : (defaultAttr ??= buildAttr(libc, plan));
  const fa = Buffer.allocUnsafe(FILE_ACTIONS_SIZE); // posix_spawn_file_actions_init fills it
  check(libc.file_actions_init(fa), 'posix_spawn_file_actions_init');
  try {
    for (const op of plan.fileOps) {
      const refused = addFileOp(libc, fa, op);
      if (refused !== 0) return { errno: refused, refused: op };
    }
    const error = libc.posix_spawn(pidOut, file, fa, attr, [...argv, null], envp);
    return error === 0 ? { pid: pidOut[0] } : { errno: error };
  } finally {
    libc.file_actions_destroy(fa);
    if (custom) libc.spawnattr_destroy(attr);
  }
}

function addFileOp(libc: Libc, fa: Buffer, op: FileOp): number {
  switch (op.op) {
    case 'dup2':
      return libc.file_actions_adddup2(fa, op.from, op.to);
    case 'close':
      return libc.file_actions_addclose(fa, op.fd);
    case 'open':
      return libc.file_actions_addopen(fa, op.fd, op.path, op.flags, op.mode);
    case 'chdir':
      return libc.file_actions_addchdir(fa, op.path);
    case 'closefrom':
      return libc.file_actions_addclosefrom(fa, op.fd);
  }
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

/** These calls fail only on bad arguments or memory exhaustion: a bug, not a user error. */
function check(result: number, call: string): void {
  if (result !== 0) throw new Error(`${call} failed with ${result}`);
}
