/**
 * The example project (examples/posix-pipeline), written in POSIX style, built by Rollup
 * through @forkexec/codemod/rollup as a user would (`rollup -c`), then run.
 * Needs the built packages: the root `npm test` builds them; alone, `npx turbo run build --filter=@forkexec/codemod`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SourceMapConsumer, type RawSourceMap } from 'source-map';

const root = path.resolve(__dirname, '../../..');
const example = path.join(root, 'examples', 'posix-pipeline');
const rollupBin = path.join(root, 'node_modules', 'rollup', 'dist', 'bin', 'rollup');

let work: string;
beforeAll(() => {
  for (const built of ['packages/codemod/dist/rollup.js', 'packages/core/dist/posix.js'])
    if (!existsSync(path.join(root, built)))
      throw new Error(`${built} is missing: run \`npx turbo run build --filter=@forkexec/codemod\` first`);
  rmSync(path.join(example, 'out'), { recursive: true, force: true });
  work = mkdtempSync(path.join(tmpdir(), 'forkexec-example-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('rollup -c rewrites every fork (failOnUnconverted) and the bundle runs', () => {
  const build = spawnSync(process.execPath, [rollupBin, '-c'], { cwd: example, encoding: 'utf8' });
  expect(build.status).toBe(0);
  expect(build.stderr).not.toMatch(/forkexec-codemod|\(!\)/);
  const bundle = readFileSync(path.join(example, 'out', 'main.js'), 'utf8');
  expect(bundle.match(/fork_before_exec\(/g)).toHaveLength(3);
  expect(bundle).not.toMatch(/\bfork\(\)|\bexecv?l?p?e?\(/);

  const stdout = execFileSync(process.execPath, ['out/main.js', work], {
    cwd: example,
    encoding: 'utf8',
    env: { ...process.env, FORKEXEC_BACKEND: '' },
  });
  expect(stdout).toBe(
    `ls exited 0: ${readdirSync('/').length} entries in /\ngzip exited 0: non-empty archive\nhello from the child\nsh exited 4\n`,
  );
  // ls ran in / with its stdout on listing.txt; gzip read it on stdin and wrote the archive on stdout.
  const listing = readFileSync(path.join(work, 'listing.txt'), 'utf8');
  expect(listing.trim().split('\n').sort()).toEqual(
    readdirSync('/')
      .filter((f) => !f.startsWith('.'))
      .sort(),
  );
  expect(gunzipSync(readFileSync(path.join(work, 'listing.txt.gz'))).toString()).toBe(listing);

  // The source map leads from each fork_before_exec back to the fork() it replaced.
  const map = new SourceMapConsumer(
    JSON.parse(readFileSync(path.join(example, 'out', 'main.js.map'), 'utf8')) as RawSourceMap,
  );
  const source = readFileSync(path.join(example, 'src', 'jobs.js'), 'utf8').split('\n');
  bundle.split('\n').forEach((line, i) => {
    const column = line.indexOf('fork_before_exec(');
    if (column < 0) return;
    const original = map.originalPositionFor({ line: i + 1, column });
    expect(original.source).toMatch(/src\/jobs\.js$/);
    expect(source[original.line! - 1]).toMatch(/fork\(\)/);
  });
});

test('the sources alone stop at fork() with FORKEXEC_NOT_TRANSFORMED', () => {
  const run = spawnSync(process.execPath, ['src/main.js', work], { cwd: example, encoding: 'utf8' });
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/FORKEXEC_NOT_TRANSFORMED/);
});
