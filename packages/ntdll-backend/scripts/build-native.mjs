// Builds libfxclone.so (native/clone-spawn.c, the clone path of the Linux backend) into
// dist/linux-x64/, the folder the package looks in at run time. Never run by an install script
// (npm skips them). Only x86-64 has the clone path: elsewhere the backend uses posix_spawn, and
// so does it when the library is missing.
//
//   build-native.mjs              from source with CC (default cc), on an x86-64 Linux machine
//   build-native.mjs --available  the package build: built when a compiler for x86-64 Linux is there, else skipped with a note
//   build-native.mjs --all        before a pack: a failure fails the pack (the tarball must hold the library)
//
// The library is linked against no libc and must import nothing but `environ` (the child it starts
// shares the parent's memory and thread-local storage: see the file's header); the build checks it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const source = path.join(root, 'native', 'clone-spawn.c');
const flags = [
  '-std=c99',
  '-O2',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-shared',
  '-fPIC',
  '-nostdlib',
  '-ffreestanding',
  '-fno-builtin',
  '-fno-stack-protector',
  '-fno-tree-loop-distribute-patterns', // no memcpy/memset calls made out of loops (there is no libc to call)
  '-s',
];
/** The only symbol the library may take from the process: environ, read by the parent before clone. */
const ALLOWED_IMPORTS = new Set(['environ']);

const hostIsX64Linux = process.platform === 'linux' && process.arch === 'x64';
/** The compiler for x86-64 Linux: CC or cc on such a machine, Debian's cross compiler elsewhere. */
const cc = process.env.CC || (hostIsX64Linux ? 'cc' : 'x86_64-linux-gnu-gcc');

function build() {
  const dir = path.join(root, 'dist', 'linux-x64');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'libfxclone.so');
  try {
    execFileSync(cc, [...flags, '-o', `${file}.tmp`, source], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    return error.code === 'ENOENT'
      ? `no C compiler ${cc} found (Debian/Ubuntu: apt-get install ${hostIsX64Linux ? 'gcc' : 'gcc-x86-64-linux-gnu'})`
      : `compiling native/clone-spawn.c with ${cc} failed:\n${error.stderr?.toString() ?? error.message}`;
  }
  const nm = cc.endsWith('gcc') && cc.includes('-') ? cc.replace(/gcc$/, 'nm') : 'nm';
  let imports;
  try {
    imports = execFileSync(nm, ['-D', '--undefined-only', `${file}.tmp`], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim().split(/\s+/).pop())
      .filter(Boolean);
  } catch (error) {
    return `checking the imports of libfxclone.so with ${nm} failed: ${error.message}`;
  }
  const extra = imports.filter((name) => !ALLOWED_IMPORTS.has(name));
  if (extra.length)
    return `libfxclone.so imports ${extra.join(', ')}: the child it starts must call no libc (see native/clone-spawn.c)`;
  renameSync(`${file}.tmp`, file);
  return undefined;
}

const [arg] = process.argv.slice(2);
if (arg !== undefined && arg !== '--all' && arg !== '--available') {
  console.error(`@forkexec/ntdll-backend: unknown option ${arg}: use --all or --available`);
  process.exit(1);
}
const problem = build();
if (problem) {
  if (arg === '--available') {
    console.warn(`@forkexec/ntdll-backend: skipped libfxclone.so (the Linux x86-64 clone path): ${problem}`);
  } else {
    console.error(`@forkexec/ntdll-backend: ${problem}`);
    process.exit(1);
  }
}
