// Builds the bench's C programs (native/*.c) into dist/native/ with the system C compiler.
// Part of the package's build step, never an install script; the tarball ships the sources, not these
// programs, and `forkexec bench` names this script (runnable from node_modules) when they are missing.
// Without a compiler the CLI still builds: `forkexec bench` then names the C floor as skipped and spawns /bin/true.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = path.join(root, 'dist', 'native');
const cc = process.env.CC || 'cc';

if (process.platform === 'win32') {
  console.warn('build-native: the bench C programs are POSIX-only; skipped on Windows');
  process.exit(0);
}

function compile(source, output, flags) {
  execFileSync(
    cc,
    [
      '-std=c99',
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      ...flags,
      '-o',
      path.join(out, output),
      path.join(root, 'native', source),
    ],
    {
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
}

mkdirSync(out, { recursive: true });
try {
  compile('spawn-floor.c', 'spawn-floor', []);
} catch (error) {
  const reason =
    error.code === 'ENOENT'
      ? `no C compiler (${cc}) found; install one (apt-get install gcc) or set CC`
      : String(error.stderr || error.message);
  console.warn(`build-native: WARNING: the bench's C programs were not built: ${reason}`);
  process.exit(0);
}
// Static when libc.a is there: the target's own start-up then costs the same small amount for every method.
let isStatic = true;
try {
  compile('bench-target.c', 'bench-target', ['-static']);
} catch {
  isStatic = false;
  compile('bench-target.c', 'bench-target', []);
}
const compiler = execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0];
// Read by the bench report: how its programs were built.
writeFileSync(path.join(out, 'build.json'), `${JSON.stringify({ compiler, targetStatic: isStatic }, null, 2)}\n`);
console.log(`build-native: built ${path.relative(process.cwd(), out)}/{spawn-floor,bench-target}`);
