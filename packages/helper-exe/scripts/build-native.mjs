// Builds the native parts with the system C compiler (CC, default cc): dist/fxhelper, the helper
// program the pool pre-starts; dist/libfxtake.so, the check the pool makes when it takes a helper
// (native/take-check.c); and a compile check of the C library (native/libforkexec.c).
// Run by the package's build script, never by an install script. Usage: build-native.mjs [outDir]
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWin32Helper } from './build-win32-helper.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const native = path.join(root, 'native');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist'));
const compiler = process.env.CC || 'cc';
const flags = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror=implicit-function-declaration'];

function compile(args, what, { optional = false } = {}) {
  try {
    execFileSync(compiler, [...flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    return true;
  } catch (error) {
    if (optional && error.code !== 'ENOENT') return false;
    if (error.code === 'ENOENT') {
      console.error(
        `@forkexec/helper-exe: no C compiler found (${compiler}). The helper program must be compiled: ` +
          'install one (Debian/Ubuntu: apt-get install gcc; macOS: xcode-select --install) or set CC.',
      );
    } else {
      console.error(`@forkexec/helper-exe: compiling ${what} failed:\n${error.stderr?.toString() ?? error.message}`);
    }
    process.exit(1);
  }
}

buildWin32Helper(outDir); // dist/fxhelper.exe with mingw-w64, skipped with a note when it is not installed
if (process.platform === 'win32') {
  console.error('@forkexec/helper-exe: the POSIX helper (fxhelper) is not built on Windows.');
  process.exit(0);
}
mkdirSync(outDir, { recursive: true });
const helper = path.join(outDir, 'fxhelper');
// Written next to the target and renamed, so a running pool never sees a half-written binary.
// Static when the C library allows it: a helper starts about a quarter faster without the dynamic loader.
const helperArgs = ['-o', `${helper}.tmp`, path.join(native, 'fxhelper.c'), path.join(native, 'action-core.c')];
if (!compile(['-static', ...helperArgs], 'native/fxhelper.c', { optional: true }))
  compile(helperArgs, 'native/fxhelper.c');
renameSync(`${helper}.tmp`, helper);
const takeCheck = path.join(outDir, 'libfxtake.so');
compile(['-shared', '-fPIC', '-o', `${takeCheck}.tmp`, path.join(native, 'take-check.c')], 'native/take-check.c');
renameSync(`${takeCheck}.tmp`, takeCheck);
compile(
  ['-fsyntax-only', path.join(native, 'libforkexec.c'), path.join(native, 'action-core.c')],
  'native/libforkexec.c',
);
