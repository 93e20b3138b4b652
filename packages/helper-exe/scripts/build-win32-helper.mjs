// Builds the Windows helper, dist/fxhelper.exe, from native/win32/fxhelper-win.c with mingw-w64
// (MINGW_CC; default x86_64-w64-mingw32-gcc, or gcc on Windows). Called by build-native.mjs.
// Without mingw-w64 the step is skipped with a note: the Windows helper backend's probe says so.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export function buildWin32Helper(outDir) {
  const compiler = process.env.MINGW_CC || (process.platform === 'win32' ? 'gcc' : 'x86_64-w64-mingw32-gcc');
  const out = path.join(outDir, 'fxhelper.exe');
  mkdirSync(outDir, { recursive: true });
  // No C runtime: kernel32 only, our own entry point (a helper that loads fewer DLLs resumes faster).
  const args = [
    '-std=c99',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror=implicit-function-declaration',
    '-ffreestanding',
    '-nostdlib',
    '-nostartfiles',
    '-Wl,-e,fxhelper_main',
    '-s',
    '-o',
    `${out}.tmp`,
    path.join(root, 'native', 'win32', 'fxhelper-win.c'),
    '-lkernel32',
  ];
  try {
    execFileSync(compiler, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (error.code === 'ENOENT') {
      console.warn(
        `@forkexec/helper-exe: skipping the Windows helper (fxhelper.exe): ${compiler} not found (Debian/Ubuntu: apt-get install gcc-mingw-w64-x86-64; or set MINGW_CC)`,
      );
      return false;
    }
    console.error(
      `@forkexec/helper-exe: compiling native/win32/fxhelper-win.c failed:\n${error.stderr?.toString() ?? error.message}`,
    );
    process.exit(1);
  }
  renameSync(`${out}.tmp`, out);
  return true;
}
