/**
 * `@forkexec/core/child_process`: Node's child_process API on forkexec's flat-cost backends. A call
 * the chosen backend cannot carry out exactly as Node would goes to Node's own module (counted:
 * see dropInReport). `node --import @forkexec/core/register` puts it in place of the built-in.
 */
export { ForkExecChildProcess } from './drop-in/child.js';
export { exec, execFile } from './drop-in/exec-file.js';
export {
  dropInReport,
  summarizeReportFile,
  type DropInFunction,
  type DropInReport,
  type DropInSummary,
} from './drop-in/report.js';
export { fork } from './drop-in/fork.js';
export { spawn } from './drop-in/spawn.js';
export { execFileSync, execSync, spawnSync } from './drop-in/sync.js';
export { ChildProcess } from 'node:child_process';
