import { nodeChildProcess, type NodeChildProcess } from './node-child-process.js';
import { countNode, type DropInFunction } from './report.js';

/** Node's own function under the drop-in's name, each call counted with why it went there. */
function nodeOwn<F extends DropInFunction & keyof NodeChildProcess>(fn: F, reason: string): NodeChildProcess[F] {
  const own = nodeChildProcess[fn] as (...args: unknown[]) => unknown;
  return ((...args: unknown[]) => {
    countNode(fn, reason);
    return own(...args);
  }) as NodeChildProcess[F];
}

const SYNC = 'sync API: no backend creates a child synchronously with blocking output collection yet';
export const fork = nodeOwn('fork', 'fork: the IPC channel is Node’s own');
export const spawnSync = nodeOwn('spawnSync', SYNC);
export const execFileSync = nodeOwn('execFileSync', SYNC);
export const execSync = nodeOwn('execSync', SYNC);
