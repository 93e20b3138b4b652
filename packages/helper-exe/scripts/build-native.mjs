// Builds the native parts into dist/<platform>-<arch>/, the folder the package looks in at run time:
// fxhelper, the helper program the pool pre-starts, and libfxtake.so, the check the pool makes when it
// takes a helper (native/take-check.c), on Linux; fxhelper.exe (native/win32/fxhelper-win.c) on Windows.
// Never run by an install script (npm skips them).
//
//   build-native.mjs              this machine's platform, with CC (default cc): the from-source build,
//                                 which also works from node_modules/@forkexec/helper-exe
//   build-native.mjs --available  the package build: this machine's platform, then every shipped platform
//                                 whose cross compiler is installed (the others skipped with a note)
//   build-native.mjs --all        before a pack: every shipped platform, and any that fails fails the pack
//   build-native.mjs DIR          only the helper program, for this machine, into DIR (tests)
//
// The shipped Linux helpers are static, so one per architecture runs on glibc and musl alike, and
// libfxtake.so is linked against no libc (its few libc calls bind to whichever the Node process has).
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const native = path.join(root, 'native');
const flags = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror=implicit-function-declaration'];
/** A library that needs no libc of its own: no DT_NEEDED, unversioned symbols (glibc and musl Node alike). */
const libcFreeLibrary = ['-shared', '-fPIC', '-nostdlib', '-fno-stack-protector'];

/** The platforms the package ships prebuilt, with the compiler each is built with (Debian's package for it). */
export const SHIPPED = {
  'linux-x64': { cc: 'musl-gcc', apt: 'musl-tools', os: 'linux' },
  'linux-arm64': { cc: 'aarch64-linux-gnu-gcc', apt: 'gcc-aarch64-linux-gnu', os: 'linux' },
  'win32-x64': { cc: 'x86_64-w64-mingw32-gcc', apt: 'gcc-mingw-w64-x86-64', os: 'win32' },
};

const host = `${process.platform}-${process.arch}`;

class BuildError extends Error {}

function compile(cc, args, what) {
  try {
    execFileSync(cc, [...flags, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw new BuildError(
      error.code === 'ENOENT'
        ? `no C compiler ${cc} found`
        : `compiling ${what} with ${cc} failed:\n${error.stderr?.toString() ?? error.message}`,
    );
  }
}

/** Compiles to `file` through a temporary name: a running pool never sees a half-written binary. */
function compileTo(cc, file, args, what) {
  compile(cc, ['-o', `${file}.tmp`, ...args], what);
  renameSync(`${file}.tmp`, file);
}

function buildLinuxHelper(cc, dir, { shipped }) {
  const helper = path.join(dir, 'fxhelper');
  const source = [path.join(native, 'fxhelper.c'), path.join(native, 'action-core.c')];
  if (shipped) return compileTo(cc, helper, ['-static', '-s', ...source], 'native/fxhelper.c');
  // From source: static when the C library allows it (a helper starts about a quarter faster without the loader).
  try {
    compileTo(cc, helper, ['-static', ...source], 'native/fxhelper.c');
  } catch (error) {
    if (/no C compiler/.test(error.message)) throw error;
    compileTo(cc, helper, source, 'native/fxhelper.c');
  }
}

/** Builds one platform's folder; `shipped` builds use that platform's cross compiler, else CC or cc. */
function buildPlatform(platform, { shipped }) {
  const target = SHIPPED[platform];
  const os = target?.os ?? process.platform;
  const dir = path.join(root, 'dist', platform);
  mkdirSync(dir, { recursive: true });
  if (os === 'win32') {
    const cc = process.env.MINGW_CC || (shipped ? target.cc : process.env.CC || 'gcc');
    // No C runtime: kernel32 only, our own entry point (a helper that loads fewer DLLs resumes faster).
    const winFlags = ['-ffreestanding', '-nostdlib', '-nostartfiles', '-Wl,-e,fxhelper_main', '-s'];
    const source = path.join(native, 'win32', 'fxhelper-win.c');
    return compileTo(cc, path.join(dir, 'fxhelper.exe'), [...winFlags, source, '-lkernel32'], 'fxhelper-win.c');
  }
  const cc = shipped ? target.cc : process.env.CC || 'cc';
  buildLinuxHelper(cc, dir, { shipped });
  // musl-gcc links shared objects against musl's libc.so; the libc-free library needs only a compiler for the arch.
  const libraryCc = cc === 'musl-gcc' ? process.env.CC || 'cc' : cc;
  const takeCheck = path.join(native, 'take-check.c');
  compileTo(libraryCc, path.join(dir, 'libfxtake.so'), [...libcFreeLibrary, '-s', takeCheck], 'take-check.c');
}

function fail(message) {
  console.error(`@forkexec/helper-exe: ${message}`);
  process.exit(1);
}

/** Runs a from-source build with the system compiler; a failure ends the build, saying how to get one. */
function fromSource(build) {
  try {
    build();
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    fail(
      `${error.message}\nThe helper for ${host} is built from source with a C compiler: install one ` +
        '(Debian/Ubuntu: apt-get install gcc; macOS: xcode-select --install) or set CC, then run ' +
        `node ${path.join(root, 'scripts', 'build-native.mjs')}`,
    );
  }
}

const buildHost = () => fromSource(() => buildPlatform(host, { shipped: false }));

/** The C library's contract: it compiles with the system compiler (native/forkexec.h, native/libforkexec.c). */
function checkCLibrary() {
  if (process.platform === 'win32') return;
  try {
    compile(
      process.env.CC || 'cc',
      ['-fsyntax-only', `-I${native}`, path.join(native, 'libforkexec.c'), path.join(native, 'action-core.c')],
      'the C library',
    );
  } catch (error) {
    fail(error.message);
  }
}

/** Builds every shipped platform; returns the ones built. With `required`, a failure ends the build. */
function buildShipped({ required }) {
  const built = [];
  const skipped = [];
  for (const [platform, target] of Object.entries(SHIPPED)) {
    try {
      buildPlatform(platform, { shipped: true });
      built.push(platform);
    } catch (error) {
      if (!(error instanceof BuildError)) throw error;
      const fix = `install ${target.apt} (Debian/Ubuntu: apt-get install ${target.apt})`;
      if (required) fail(`the ${platform} build failed, and a pack must hold every platform: ${error.message}; ${fix}`);
      skipped.push(`${platform} (${error.message.split('\n')[0]}; ${fix})`);
    }
  }
  if (skipped.length) console.warn(`@forkexec/helper-exe: skipped the prebuilt helpers for ${skipped.join(', ')}`);
  return built;
}

const [arg] = process.argv.slice(2);
if (arg === '--all' || arg === '--available') {
  // This machine's platform from source (CC) when no prebuilt one could be made for it.
  if (!buildShipped({ required: arg === '--all' }).includes(host)) buildHost();
  checkCLibrary();
} else if (arg === undefined) {
  buildHost();
  checkCLibrary();
} else if (arg.startsWith('-')) fail(`unknown option ${arg}: use --all, --available, or an output folder`);
else {
  const dir = path.resolve(arg);
  mkdirSync(dir, { recursive: true });
  fromSource(() => buildLinuxHelper(process.env.CC || 'cc', dir, { shipped: false }));
}
