/**
 * `forkexec codemod` as users run it: the built CLI (packages/cli/bin/forkexec.js).
 * Needs the built packages: the root `npm test` builds them; alone, `npx turbo run build --filter=@forkexec/cli`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const bin = path.resolve(__dirname, '../../cli/bin/forkexec.js');
const forkexec = (args: string[], cwd: string) =>
  promisify(execFile)(process.execPath, [bin, 'codemod', ...args], { cwd })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }));

const SOURCE = `import { fork, execvp, _exit } from '@forkexec/core/posix';
const pid = fork();
if (pid === 0) {
  execvp('true', ['true']);
  _exit(127);
}
export const again = () => fork();
`;

let dir: string;
beforeAll(() => {
  if (!existsSync(path.resolve(__dirname, '../../cli/dist/index.js')))
    throw new Error('the CLI is not built: run `npx turbo run build --filter=@forkexec/cli` first');
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-cli-codemod-'));
  writeFileSync(path.join(dir, 'a.mjs'), SOURCE);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('--dry --fail-on-unconverted: diff on stdout, summary on stderr, exit 1, nothing written', async () => {
  const { code, stdout, stderr } = await forkexec(['--dry', '--fail-on-unconverted', '.'], dir);
  expect(code).toBe(1);
  expect(stdout).toMatch(/^--- a\/a\.mjs\n\+\+\+ b\/a\.mjs\n/);
  expect(stderr).toContain('skipped    a.mjs:7:28 wrapper:');
  expect(readFileSync(path.join(dir, 'a.mjs'), 'utf8')).toBe(SOURCE);
});

test('--json, then in place: exit 0, the file is rewritten', async () => {
  const { code, stdout } = await forkexec(['--json'], dir);
  expect(code).toBe(0);
  expect(JSON.parse(stdout).totals).toMatchObject({ files: 1, converted: 1, sitesConverted: 1, sitesUnconverted: 1 });
  expect(readFileSync(path.join(dir, 'a.mjs'), 'utf8')).toContain("const pid = fork_before_exec('true', ['true']);");
});

test('usage and parse errors exit 2', async () => {
  expect((await forkexec(['--bogus'], dir)).code).toBe(2);
  expect((await forkexec(['--concurrency', 'zero'], dir)).code).toBe(2);
  writeFileSync(path.join(dir, 'b.ts'), 'let x: = 1;\n');
  const { code, stdout, stderr } = await forkexec([], dir);
  expect(code).toBe(2);
  expect(stderr).toMatch(/^error {6}b\.ts:1:8: /m); // errors on stderr, the summary on stdout
  expect(stdout).not.toMatch(/^error/m);
});
