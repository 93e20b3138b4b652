import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { exec, execFile } from './exec-file.js';
import { fork } from './fork.js';
import { writeReportOnExit } from './report.js';
import { spawn } from './spawn.js';
import { execFileSync, execSync, spawnSync } from './sync.js';

/**
 * Replaces the built-in module's functions with the drop-in's, once per process (a second copy of
 * core, ESM beside CommonJS, finds them replaced). Node's own stay in nodeChildProcess for the fallbacks.
 */
export function installDropIn(): void {
  const INSTALLED = Symbol.for('forkexec.dropInInstalled');
  const registry = globalThis as Record<symbol, boolean>;
  if (registry[INSTALLED]) return;
  registry[INSTALLED] = true;
  Object.assign(childProcess, { spawn, execFile, exec, fork, spawnSync, execFileSync, execSync });
  syncBuiltinESMExports(); // `import { spawn } from 'node:child_process'` sees them too
  writeReportOnExit();
}
