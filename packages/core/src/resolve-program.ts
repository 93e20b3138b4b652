import { accessSync, closeSync, constants, openSync, readSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Action } from './actions.js';
import type { Backend, SpawnRequest } from './backend.js';
import { SpawnError, spawnHint } from './errors.js';
import { processEnvIsEnviron } from './process-env.js';

/** Read once: `process` is a large object, and each read of it on the spawn path costs. */
export const ON_WINDOWS = process.platform === 'win32';

/** Why a file cannot be executed, and the advice when the errno's usual advice does not fit. */
interface ExecProblem {
  errno: string;
  why: string;
  hint?: string;
}

function spawnError(
  errno: string,
  message: string,
  command: () => string,
  cause?: unknown,
  hint = spawnHint(errno),
): SpawnError {
  return new SpawnError(message, { errno, command: command(), hint, cause });
}

/**
 * Files found runnable, with the stat fields that verdict rests on: a chmod, an ACL change or a
 * new file changes ctime or ino, so a match skips access() and the format check. (A process that
 * changed its own uid since is told by exec itself: EACCES, as any backend reports it.)
 */
const runnable = new Map<string, number[]>();

function fingerprint(stats: Stats): number[] {
  const { dev, ino, mode, uid, gid, size, mtimeMs, ctimeMs } = stats;
  return [dev, ino, mode, uid, gid, size, mtimeMs, ctimeMs];
}

function sameFingerprint(a: number[] | undefined, b: number[]): boolean {
  return a !== undefined && a.every((value, i) => value === b[i]);
}

/** Why `candidate` cannot be executed, or undefined when it can. */
function execProblem(candidate: string, checkFormat = true): ExecProblem | undefined {
  let stats;
  try {
    stats = statSync(candidate, { throwIfNoEntry: false }); // a PATH miss is common: no exception for it
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ENOENT';
    return { errno: code, why: `cannot be read (${code})` };
  }
  if (!stats) return { errno: 'ENOENT', why: 'does not exist' };
  const version = checkFormat ? fingerprint(stats) : undefined;
  if (version !== undefined && sameFingerprint(runnable.get(candidate), version)) return undefined;
  if (stats.isDirectory()) return { errno: 'EACCES', why: 'is a directory' };
  if (!stats.isFile()) return { errno: 'EACCES', why: 'is not a regular file' };
  try {
    accessSync(candidate, constants.X_OK);
  } catch {
    return { errno: 'EACCES', why: 'is not executable' };
  }
  if (!checkFormat) return undefined;
  const problem = formatProblem(candidate);
  if (!problem) runnable.set(candidate, version!);
  return problem;
}

/**
 * The kernel runs ELF binaries and `#!` scripts; anything else fails with ENOEXEC, and
 * glibc's execvp (under child_process) would then hand the file to /bin/sh. Refusing such files
 * here keeps every backend shell-free and turns a missing interpreter into a clear error.
 */
function formatProblem(candidate: string): ExecProblem | undefined {
  const head = Buffer.alloc(256);
  let length = 0;
  try {
    const fd = openSync(candidate, 'r');
    try {
      length = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined; // executable but unreadable (mode --x): the kernel may still run it
  }
  const bytes = head.subarray(0, length);
  if (bytes.subarray(0, 2).toString('latin1') === '#!') {
    const line = bytes.subarray(2).toString('utf8').split('\n')[0].trim();
    const interpreter = line.split(/\s+/)[0];
    if (!interpreter) return { errno: 'ENOEXEC', why: 'has an empty #! line' };
    if (bytes.indexOf(0x0a) === -1 && length === head.length) return undefined; // very long #! line: let the kernel judge
    const problem = execProblem(interpreter, false);
    if (problem)
      return {
        errno: problem.errno,
        why: `needs the interpreter ${interpreter}, which ${problem.why}`,
        hint: `Install ${interpreter}, or change the script's #! line to an interpreter that exists (e.g. #!/usr/bin/env ${path.basename(interpreter)}).`,
      };
  } else if (!isBinaryFormat(bytes)) {
    return { errno: 'ENOEXEC', why: 'is neither a binary nor a script with a #! line' };
  }
  return undefined;
}

/** ELF (Linux, BSD), Mach-O (macOS), PE (Windows). */
function isBinaryFormat(bytes: Buffer): boolean {
  if (bytes.length < 4) return false;
  const magic = bytes.readUInt32BE(0);
  return (
    magic === 0x7f454c46 ||
    [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic) ||
    bytes.subarray(0, 2).toString('latin1') === 'MZ'
  );
}

/** The working directory the child execs in: its last chdir action's, else the parent's. */
export function execCwd(actions: readonly Action[]): string {
  return actions.findLast((a): a is Extract<Action, { op: 'chdir' }> => a.op === 'chdir')?.path ?? process.cwd();
}

/**
 * Whether the child may search PATH for `file`, a bare name (no slash), itself (see
 * BackendCapabilities.searchesPath): the child's PATH (`env`, null for the parent's environment)
 * is the one libc holds, which posix_spawnp searches.
 */
export function childSearches(
  file: string,
  env: Readonly<Record<string, string>> | null,
  backend: Backend,
  searchPath: boolean,
): boolean {
  if (!searchPath || ON_WINDOWS || !backend.capabilities.searchesPath) return false;
  const path = process.env.PATH;
  return path !== undefined && (env === null || env.PATH === path) && processEnvIsEnviron();
}

/**
 * Finds the program the way execvp would in the child: a name with a slash is taken relative
 * to the child's working directory, a bare name is searched in the child's PATH.
 * Doing it in the parent turns ENOENT/EACCES into errors before anything runs, on every backend.
 * With `exactExec` (the backend reports what exec refuses, see BackendCapabilities), a path found
 * runnable before is taken as it is, without a syscall: if it changed since, the child's exec
 * fails and `programProblem` explains why. `env` null: the parent's (process.env, read only for a
 * search: a read of `process` costs on the spawn path).
 */
export function resolveProgram(
  file: string,
  env: Readonly<Record<string, string | undefined>> | null,
  actions: readonly Action[],
  searchPath: boolean,
  command: () => string,
  exactExec = false,
): string {
  // Windows backends search PATH and PATHEXT themselves; without the search a bare name is the child's cwd's.
  if (ON_WINDOWS)
    return searchPath || /[\\/]/.test(file) || /^[a-z]:/i.test(file)
      ? file
      : path.win32.resolve(execCwd(actions), file);
  // A path found runnable before (an absolute one: the verdicts' keys) is taken as it is (see find), without a call.
  if (exactExec && runnable.has(file)) return file;
  const found = find(file, env, actions, searchPath, command, exactExec);
  if (typeof found !== 'string') throw found;
  return found;
}

/** `file`, found as `candidate`, cannot run: why. */
function refusal(
  file: string,
  candidate: string,
  problem: ExecProblem,
  command: () => string,
  cause: unknown,
): SpawnError {
  const message = `cannot run ${JSON.stringify(file)}: ${candidate} ${problem.why}`;
  return spawnError(problem.errno, message, command, cause, problem.hint ?? spawnHint(problem.errno));
}

/** The program's path, or the error saying why there is none to run (caused by `cause`). */
function find(
  file: string,
  env: Readonly<Record<string, string | undefined>> | null,
  actions: readonly Action[],
  searchPath: boolean,
  command: () => string,
  exactExec: boolean,
  cause?: unknown,
): string | SpawnError {
  if (file.includes('/') || !searchPath) {
    if (exactExec && runnable.has(file)) return file; // absolute and normalized, as the verdict's key: no path.resolve
    const cwd = execCwd(actions);
    const candidate = path.resolve(cwd, file);
    if (exactExec && runnable.has(candidate)) return candidate;
    const problem = execProblem(candidate);
    return problem ? refusal(file, candidate, problem, command, cause) : candidate;
  }
  const cwd = execCwd(actions);
  const dirs = ((env ?? process.env).PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  let denied: string | undefined;
  for (const dir of new Set(dirs)) {
    // a directory listed twice answers the same twice
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, file);
    const problem = execProblem(candidate);
    if (!problem) return candidate;
    // execvp stops at a file the kernel cannot run (and would hand it to /bin/sh): so do we, refusing it.
    if (problem.errno === 'ENOEXEC') return refusal(file, candidate, problem, command, cause);
    if (problem.errno === 'EACCES' && problem.why !== 'is a directory') denied ??= candidate;
  }
  if (denied)
    return spawnError('EACCES', `cannot run ${JSON.stringify(file)}: ${denied} is not executable`, command, cause);
  return spawnError('ENOENT', `program ${JSON.stringify(file)} not found in PATH (${dirs.join(':')})`, command, cause);
}

/**
 * Why the child's exec refused the request's program (`failure` says how), found by checking or
 * searching afresh; undefined when the program looks runnable now. No verdict kept for it stays.
 */
export function programProblem(request: SpawnRequest, failure: unknown): SpawnError | undefined {
  if (!request.searchPath) runnable.delete(request.file);
  const found = find(
    request.file,
    request.env,
    request.actions,
    request.searchPath === true,
    () => request.command,
    false,
    failure,
  );
  return typeof found === 'string' ? undefined : found;
}
