/**
 * Runs a converted program for real in a child `node`, importing the built @forkexec/core
 * (the root `npm test` builds it; alone: `npx turbo run build --filter=@forkexec/core`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const CORE = path.resolve(__dirname, '../../core');

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary folder where `@forkexec/core` resolves to the built package. */
export function sandbox(): { dir: string; cleanup(): void } {
  if (!existsSync(path.join(CORE, 'dist', 'posix.js')))
    throw new Error('@forkexec/core is not built: run `npx turbo run build --filter=@forkexec/core` first');
  const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-codemod-'));
  mkdirSync(path.join(dir, 'node_modules', '@forkexec'), { recursive: true });
  symlinkSync(CORE, path.join(dir, 'node_modules', '@forkexec', 'core'), 'dir');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function runNode(
  dir: string,
  file: string,
  code: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Ran {
  writeFileSync(path.join(dir, file), code);
  const result = spawnSync(process.execPath, [file, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, FORKEXEC_BACKEND: '', ...env },
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
