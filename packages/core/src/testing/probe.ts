import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Root of the installed @forkexec/core package, found from the working directory. */
function corePackageDir(): string {
  const req = createRequire(path.join(process.cwd(), '__forkexec__.js'));
  return path.dirname(req.resolve('@forkexec/core/package.json'));
}

/**
 * Path of the fxprobe program the conformance suite spawns (`testing/probe.c`, built by
 * core's build step; compiled here with `cc` when the build has not run, as in an installed package,
 * whose tarball holds the source only: the probe is built for the machine that runs the suite).
 * FORKEXEC_PROBE overrides.
 */
export function probePath(): string {
  if (process.env.FORKEXEC_PROBE) return process.env.FORKEXEC_PROBE;
  const dir = corePackageDir();
  const source = path.join(dir, 'testing', 'probe.c');
  const binary = path.join(dir, 'dist', process.platform === 'win32' ? 'fxprobe.exe' : 'fxprobe');
  if (!existsSync(binary) || statSync(binary).mtimeMs < statSync(source).mtimeMs) buildProbe(source, binary);
  return binary;
}

export function buildProbe(source: string, binary: string, compiler = process.env.CC ?? 'cc'): void {
  mkdirSync(path.dirname(binary), { recursive: true });
  try {
    execFileSync(compiler, ['-std=c99', '-O2', '-Wall', '-o', binary, source], { stdio: 'pipe' });
  } catch (error) {
    const e = error as { code?: string; stderr?: Buffer };
    throw new Error(
      e.code === 'ENOENT'
        ? `no C compiler (${compiler}) to build the conformance probe: install one (apt-get install gcc) or set CC`
        : `building ${source} failed:\n${e.stderr?.toString() ?? String(error)}`,
    );
  }
}

/**
 * A copy of the probe in `dir` that any user can run: a child that drops to `nobody` must still
 * reach it, wherever the checkout lies (a private mktemp folder, say). Makes `dir` traversable.
 */
export function publicProbeCopy(dir: string): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const copy = path.join(dir, path.basename(probePath()));
  copyFileSync(probePath(), copy);
  chmodSync(copy, 0o755);
  return copy;
}
