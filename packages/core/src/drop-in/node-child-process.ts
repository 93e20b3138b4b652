import * as childProcess from 'node:child_process';

export type NodeChildProcess = Pick<
  typeof childProcess,
  'spawn' | 'execFile' | 'exec' | 'fork' | 'spawnSync' | 'execFileSync' | 'execSync'
>;

/**
 * Node's own child_process functions, as they were before the register hook replaced them: the
 * first copy of core loaded (ESM or CommonJS) keeps them for every later one, so a fallback never
 * calls the replacement.
 */
const ORIGINALS = Symbol.for('forkexec.nodeChildProcess');
export const nodeChildProcess: NodeChildProcess = ((globalThis as Record<symbol, NodeChildProcess>)[ORIGINALS] ??= {
  spawn: childProcess.spawn,
  execFile: childProcess.execFile,
  exec: childProcess.exec,
  fork: childProcess.fork,
  spawnSync: childProcess.spawnSync,
  execFileSync: childProcess.execFileSync,
  execSync: childProcess.execSync,
});
