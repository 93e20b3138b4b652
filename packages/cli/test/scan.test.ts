import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
// The generator the codemod's own census test uses.
import { generateTree } from '../../codemod/test/frontends/c/generate-tree.mjs';

// forkexec scan as users run it: the built bin, so the census runs on worker threads.
const bin = path.resolve(__dirname, '../bin/forkexec.js');
const forkexec = (args: string[]) =>
  promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 64 * 1024 * 1024 })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }));

let dir: string;
let expected: ReturnType<typeof generateTree>;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-cli-scan-'));
  expected = generateTree(dir, { projects: 3, filesPerProject: 200 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('--json on two workers: every site, classified, with file:line, function, operations and reason', async () => {
  const { code, stdout, stderr } = await forkexec(['scan', '--json', '--jobs', '2', dir]);
  expect(code).toBe(0);
  expect(stderr).toBe(''); // no progress display: stderr is not a terminal
  const report = JSON.parse(stdout);
  expect(report.files).toBe(expected.files);
  expect(report.sites).toHaveLength(expected.sites);
  expect(Object.fromEntries(report.classes.map((c: { class: string; sites: number }) => [c.class, c.sites]))).toEqual(
    expected.classes,
  );
  expect(report.convertible).toBe(expected.convertible);
  const site = report.sites.find((s: { class: string }) => s.class === 'exec-via-helper');
  expect(site).toMatchObject({
    file: expect.stringMatching(/\.[ch]$/),
    line: expect.any(Number),
    function: expect.any(String),
    operations: expect.any(Array),
    reason: expect.stringMatching(/execs through/),
  });
});

test('the tables: per project, per class, ranked operations', async () => {
  const { code, stdout } = await forkexec(['scan', dir]);
  expect(code).toBe(0);
  expect(stdout).toMatch(
    new RegExp(
      `^forkexec scan: ${expected.files} files .* ${expected.sites} fork sites, ${expected.convertible} convertible`,
    ),
  );
  expect(stdout).toMatch(/^proj1\s+202\s+\d+/m);
  expect(stdout).toMatch(/^fork\+exec\s+\d+\s+\d+%$/m);
  expect(stdout).toMatch(/^child operation \(sites that exec\)/m);
});

test('a missing path exits 2 with the path named', async () => {
  const { code, stderr } = await forkexec(['scan', path.join(dir, 'missing')]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/no such file or directory: .*missing/);
});

test('--shard I/N as three jobs, then merge: the report of one unsharded run', async () => {
  const shards = await Promise.all(
    [1, 2, 3].map(async (i) => {
      const { code, stdout } = await forkexec(['scan', '--shard', `${i}/3`, '--jobs', '1', dir]);
      expect(code).toBe(0);
      const file = path.join(dir, `shard-${i}.json`);
      writeFileSync(file, stdout);
      return file;
    }),
  );
  const whole = await forkexec(['scan', '--json', '--jobs', '1', dir]);
  const merged = await forkexec(['scan', 'merge', '--json', ...shards.reverse()]);
  expect(merged.code).toBe(0);
  const strip = (text: string) => ({ ...JSON.parse(text), elapsedMs: 0 });
  expect(strip(merged.stdout)).toEqual(strip(whole.stdout));
  const table = await forkexec(['scan', 'merge', ...shards]);
  expect(table.stdout).toMatch(new RegExp(`^forkexec scan: ${expected.files} files .* ${expected.sites} fork sites`));
});

test('a bad --shard or a missing shard exits 2 saying what was wrong', async () => {
  const bad = await forkexec(['scan', '--shard', '3/2', dir]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/--shard <I\/N>.* expects I\/N with 1 <= I <= N/);
  const file = path.join(dir, 'only.json');
  writeFileSync(file, (await forkexec(['scan', '--shard', '1/2', dir])).stdout);
  const missing = await forkexec(['scan', 'merge', file]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toBe('forkexec scan merge: missing shard 2/2\n');
});
