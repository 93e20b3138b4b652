/** Where the helper program is, and why it may be missing (for the probe). */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '@forkexec/core/backend-kit';

const PACKAGE_NAME = '@forkexec/helper-exe';

/** This package's root: the nearest package.json named @forkexec/helper-exe above this module. */
export function packageDir(): string {
  const dir = packageRoot(import.meta.url, PACKAGE_NAME);
  if (dir === undefined)
    throw new Error(`cannot find the ${PACKAGE_NAME} package folder from ${fileURLToPath(import.meta.url)}`);
  return dir;
}

/**
 * A native part for this platform: dist/<platform>-<arch>/NAME. The package ships them prebuilt for linux-x64,
 * linux-arm64 and win32-x64 (the Linux helpers static and libfxtake.so linked against no libc, so glibc and musl
 * share them); scripts/build-native.mjs builds the folder from source for any other platform.
 */
export function nativeFile(name: string): string {
  return path.join(packageDir(), 'dist', `${process.platform}-${process.arch}`, name);
}

/** The from-source build of this platform's native parts, runnable wherever the package is installed. */
export function fromSourceCommand(): string {
  return `node ${path.join(packageDir(), 'scripts', 'build-native.mjs')}`;
}

/** The helper program: the option, then FORKEXEC_HELPER, then the package's own for this platform. */
export function helperPath(option?: string): string {
  return (
    option ?? process.env.FORKEXEC_HELPER ?? nativeFile(process.platform === 'win32' ? 'fxhelper.exe' : 'fxhelper')
  );
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(program: string): boolean {
  if (program.includes('/')) return isExecutable(program);
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && isExecutable(path.join(dir, program)));
}

/** Undefined when the helper `helperPath(option)` can run; otherwise what is wrong and what to do. */
export function helperProblem(option?: string): string | undefined {
  const file = helperPath(option);
  if (isExecutable(file)) return undefined;
  if (option !== undefined) return `the helper program ${file} (option helperPath) is not an executable file`;
  if (process.env.FORKEXEC_HELPER !== undefined)
    return `FORKEXEC_HELPER names ${file}, which is not an executable file: fix it, or unset it to use the package's own helper`;
  const cc = process.env.CC || (process.platform === 'win32' ? 'gcc' : 'cc');
  const build = onPath(cc)
    ? `build it from source with ${cc}: ${fromSourceCommand()}`
    : `no C compiler (${cc}) is found to build it from source: install one (Debian/Ubuntu: apt-get install gcc) or set CC, then run ${fromSourceCommand()}`;
  return `${PACKAGE_NAME} has no helper program for ${process.platform}-${process.arch} (${file}): ${build}`;
}
