/** Where the helper program is, and why it may be missing (for the probe). */
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = '@forkexec/helper-exe';

/** This package's root: the nearest package.json named @forkexec/helper-exe above this module. */
export function packageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      if (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === PACKAGE_NAME) return dir;
    } catch {}
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the ${PACKAGE_NAME} package folder from ${fileURLToPath(import.meta.url)}`);
}

/**
 * The helper program: the option, then FORKEXEC_HELPER, then the one the package's build step
 * compiles (dist/fxhelper, or dist/fxhelper.exe on Windows).
 */
export function helperPath(option?: string): string {
  const built = process.platform === 'win32' ? 'fxhelper.exe' : 'fxhelper';
  return option ?? process.env.FORKEXEC_HELPER ?? path.join(packageDir(), 'dist', built);
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

/** Undefined when the helper can run; otherwise what is wrong and what to do. */
export function helperProblem(file: string): string | undefined {
  if (isExecutable(file)) return undefined; // on Windows, X_OK checks that the file exists
  if (process.platform === 'win32')
    return `the Windows helper ${file} is not built: build the package with mingw-w64 installed (npm run build -w ${PACKAGE_NAME} compiles native/win32/fxhelper-win.c with x86_64-w64-mingw32-gcc, or MINGW_CC)`;
  const cc = process.env.CC || 'cc';
  return onPath(cc)
    ? `the helper program ${file} is not built: build the package (npm run build -w ${PACKAGE_NAME}), which compiles it with ${cc}`
    : `the helper program ${file} is not built, and no C compiler (${cc}) is found to build it: install one (apt-get install gcc) or set CC, then build the package (npm run build -w ${PACKAGE_NAME})`;
}
