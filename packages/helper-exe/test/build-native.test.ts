// The build of the shipped native parts: a pack (build-native.mjs --all) fails when any shipped platform cannot be
// built, instead of shipping a tarball without it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const script = path.join(__dirname, '..', 'scripts', 'build-native.mjs');

test('--all fails, naming the platform and the package to install, when a cross compiler is missing', () => {
  // No compiler on PATH at all: the first shipped platform already fails.
  const build = spawnSync(process.execPath, [script, '--all'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  expect(build.status).toBe(1);
  expect(build.stderr).toMatch(
    /the linux-x64 build failed, and a pack must hold every platform: no C compiler musl-gcc found; install musl-tools/,
  );
});

test('an unknown option is refused', () => {
  const build = spawnSync(process.execPath, [script, '--al'], { encoding: 'utf8' });
  expect(build.status).toBe(1);
  expect(build.stderr).toMatch(/unknown option --al/);
});
