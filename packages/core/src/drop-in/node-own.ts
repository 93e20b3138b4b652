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

export const fork = nodeOwn('fork', 'fork: the IPC channel is Node’s own');
