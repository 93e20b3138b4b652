/**
 * The POSIX-style face of forkexec: `fork_before_exec` returns a pid, actions are built by
 * functions named like the syscalls, `waitpid` returns a promise.
 *
 * `fork()` and `exec*()` exist so that POSIX-style code type-checks; at run time they throw
 * until the codemod rewrites each fork+exec pair into one `fork_before_exec` call.
 */
import { constants as fsConstants } from 'node:fs';
import { signalNumber, type Action, type OpenFlags, type RlimitResource, type SignalSpec } from './actions.js';
import type { ExitStatus } from './backend.js';
import { NotTransformedError, SpawnError } from './errors.js';
import { startChild } from './fork-before-exec.js';
import type { Options } from './options.js';
import { explainFailure } from './request.js';

export type { Action };

export const dup2 = (from: number, to: number): Action => ({ op: 'dup2', from, to });
export const close = (fd: number): Action => ({ op: 'close', fd });
/** Opens `path` onto `fd` in the child, like posix_spawn_file_actions_addopen. */
export const open = (fd: number, path: string, flags: OpenFlags = 'r', mode = 0o666): Action => ({
  op: 'open',
  fd,
  path,
  flags,
  mode,
});
export const chdir = (path: string): Action => ({ op: 'chdir', path });
export const setsid = (): Action => ({ op: 'setsid' });
/** setpgid(0, pgid) in the child; with no argument, a group of its own. An explicit undefined stays, and is refused. */
export const setpgid = (...pgid: [pgid?: number]): Action => ({ op: 'setpgid', pgid: pgid.length ? pgid[0]! : 0 });
export const umask = (mask: number): Action => ({ op: 'umask', mask });
export const sigdefault = (...signals: SignalSpec[]): Action => ({
  op: 'sigdefault',
  signals: signals.length ? signals : 'all',
});
export const sigignore = (...signals: SignalSpec[]): Action => ({ op: 'sigignore', signals });
export const sigmask = (...signals: SignalSpec[]): Action => ({ op: 'sigmask', signals });
export const closefrom = (fd: number): Action => ({ op: 'closefrom', fd });
export const setuid = (uid: number): Action => ({ op: 'setuid', uid });
export const setgid = (gid: number): Action => ({ op: 'setgid', gid });
export const setgroups = (groups: number[]): Action => ({ op: 'setgroups', groups });
export const setrlimit = (resource: RlimitResource, soft: number, hard = soft): Action => ({
  op: 'setrlimit',
  resource,
  soft,
  hard,
});
export const nice = (inc: number): Action => ({ op: 'nice', inc });

export const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL } = fsConstants;
export const STDIN_FILENO = 0;
export const STDOUT_FILENO = 1;
export const STDERR_FILENO = 2;

export interface WaitStatus extends ExitStatus {
  pid: number;
  /** The status word as waitpid(2) encodes it, for WIFEXITED and friends. */
  status: number;
}

const children = new Map<number, Promise<ExitStatus>>();
/** Pids waitpid has reaped (until the kernel hands one out again), to tell a second waitpid what happened. */
const reaped = new Set<number>();
const MAX_REMEMBERED_REAPED = 1024;

/** Environment as execve takes it (`['K=V', ...]`) or as an object. */
export type Envp = readonly string[] | Record<string, string | undefined>;

function envObject(envp: Envp): Record<string, string | undefined> {
  if (!Array.isArray(envp)) return { ...(envp as Record<string, string | undefined>) };
  const env: Record<string, string> = {};
  for (const entry of envp as readonly string[]) {
    const eq = String(entry).indexOf('=');
    if (eq <= 0) throw new SpawnError(`envp entry ${JSON.stringify(entry)} is not of the form KEY=VALUE`);
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

export type ForkBeforeExecOptions = Pick<Options, 'backend' | 'searchPath'>;

/**
 * Starts `file` with the full `argv` (argv[0] included) after the child has carried out
 * `actions` in order. The child inherits fds 0-2 like a forked child would.
 * Returns the pid; throws a ForkExecError if the child cannot be started.
 * `env` replaces the environment (execve); omitted, the child gets the parent's (execv).
 */
export function fork_before_exec(
  file: string,
  argv: readonly string[],
  actions: readonly Action[] = [],
  env?: Envp,
  options: ForkBeforeExecOptions = {},
): number {
  if (!Array.isArray(argv) || argv.length === 0) throw new SpawnError('argv must be an array with at least argv[0]');
  const { child, request } = startChild(file, argv.slice(1), {
    ...options,
    argv0: argv[0],
    actions: [...actions],
    stdio: 'inherit',
    ...(env === undefined ? {} : { env: envObject(env), extendEnv: false }),
  });
  child.started?.catch(() => {}); // a failure is reported by waitpid (or below)
  if (child.pid === undefined) {
    child.exited.catch(() => {});
    throw new SpawnError(`could not start ${file}`, { hint: 'Use forkBeforeExec() to see the asynchronous cause.' });
  }
  const pid = child.pid;
  const exited = child.exited.catch((error: unknown) => {
    throw explainFailure(error, request);
  });
  exited.catch(() => {}); // reported by waitpid
  children.set(pid, exited);
  reaped.delete(pid);
  return pid;
}

function encodeStatus({ exitCode, signal }: ExitStatus): number {
  if (signal) return signalNumber(signal) & 0x7f;
  return ((exitCode ?? 0) & 0xff) << 8;
}

/** Waits for a child started by fork_before_exec. Rejects if its exec failed. */
export async function waitpid(pid: number): Promise<WaitStatus> {
  const exited = children.get(pid);
  if (!exited)
    throw new SpawnError(
      reaped.has(pid)
        ? `waitpid(${pid}): already reaped by an earlier waitpid (a child is waited for once)`
        : `waitpid(${pid}): not a child started by fork_before_exec`,
      { errno: 'ECHILD' },
    );
  try {
    const status = await exited;
    return { pid, ...status, status: encodeStatus(status) };
  } finally {
    children.delete(pid);
    reaped.add(pid);
    if (reaped.size > MAX_REMEMBERED_REAPED) reaped.delete(reaped.values().next().value!); // the oldest
  }
}

export const WIFEXITED = (status: number): boolean => (status & 0x7f) === 0;
export const WEXITSTATUS = (status: number): number => (status >> 8) & 0xff;
export const WIFSIGNALED = (status: number): boolean => (status & 0x7f) !== 0 && (status & 0x7f) !== 0x7f;
export const WTERMSIG = (status: number): number => status & 0x7f;

/** kill(2): sends `signal` to `pid` (or a process group when negative). */
export function kill(pid: number, signal: NodeJS.Signals | number = 'SIGTERM'): void {
  process.kill(pid, signal);
}

/** Ends the process at once with `code`, like _exit(2). */
export function _exit(code: number): never {
  process.exit(code);
}

/** Throws: a real fork() kills a Node child as soon as it runs JS. Apply the codemod transform. */
export function fork(): number {
  throw new NotTransformedError('fork()');
}

const notTransformed =
  (name: string) =>
  (..._args: unknown[]): never => {
    throw new NotTransformedError(`${name}()`);
  };
export const execv: (path: string, argv: readonly string[]) => never = notTransformed('execv');
export const execvp: (file: string, argv: readonly string[]) => never = notTransformed('execvp');
export const execve: (path: string, argv: readonly string[], envp: Envp) => never = notTransformed('execve');
export const execvpe: (file: string, argv: readonly string[], envp: Envp) => never = notTransformed('execvpe');
export const execl: (path: string, ...argv: string[]) => never = notTransformed('execl');
export const execlp: (file: string, ...argv: string[]) => never = notTransformed('execlp');
export const execle: (path: string, ...argvAndEnvp: [...string[], Envp]) => never = notTransformed('execle');
