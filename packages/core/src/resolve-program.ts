import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { SpawnError, spawnHint } from './errors.js';

function spawnError(errno: string, message: string, command: string): SpawnError {
  return new SpawnError(message, { errno, command, hint: spawnHint(errno) });
}

/** Why `candidate` cannot be executed, or undefined when it can. */
function execProblem(candidate: string): { errno: string; why: string } | undefined {
  let stats;
  try {
    stats = statSync(candidate);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'ENOENT';
    return { errno: code, why: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})` };
  }
  if (stats.isDirectory()) return { errno: 'EACCES', why: 'is a directory' };
  if (!stats.isFile()) return { errno: 'EACCES', why: 'is not a regular file' };
  try {
    accessSync(candidate, constants.X_OK);
  } catch {
    return { errno: 'EACCES', why: 'is not executable' };
  }
  return undefined;
}

/**
 * Finds the program the way execvp would in the child: a name with a slash is taken relative
 * to the child's working directory, a bare name is searched in the child's PATH.
 * Doing it in the parent turns ENOENT/EACCES into errors before anything runs, on every backend.
 */
export function resolveProgram(file: string, env: Record<string, string>, cwd: string, searchPath: boolean, command: string): string {
  if (process.platform === 'win32') return file;
  if (file.includes('/') || !searchPath) {
    const candidate = path.resolve(cwd, file);
    const problem = execProblem(candidate);
    if (problem) throw spawnError(problem.errno, `cannot run ${JSON.stringify(file)}: ${candidate} ${problem.why}`, command);
    return candidate;
  }
  const dirs = (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':');
  let denied: string | undefined;
  for (const dir of dirs) {
    const candidate = path.resolve(cwd, dir === '' ? '.' : dir, file);
    const problem = execProblem(candidate);
    if (!problem) return candidate;
    if (problem.errno === 'EACCES' && problem.why !== 'is a directory') denied ??= candidate;
  }
  if (denied) throw spawnError('EACCES', `cannot run ${JSON.stringify(file)}: ${denied} is not executable`, command);
  throw spawnError('ENOENT', `program ${JSON.stringify(file)} not found in PATH (${dirs.join(':')})`, command);
}
