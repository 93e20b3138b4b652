import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// The CLI as users run it: the built bin (the root `npm test` builds before Jest).
const bin = path.resolve(__dirname, '../bin/forkexec.js');
const forkexec = (args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  promisify(execFile)(process.execPath, [bin, ...args], {
    env: { ...process.env, FORKEXEC_BACKEND: '', ...options.env },
    cwd: options.cwd,
  })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }));

describe('forkexec run', () => {
  test('exits with the program exit code', async () => {
    expect((await forkexec(['run', '--', process.execPath, '-e', 'process.exit(3)'])).code).toBe(3);
  });

  test('passes stdio through, with the chosen backend', async () => {
    const { code, stdout } = await forkexec(['run', '--backend', 'node', '--', 'sh', '-c', 'echo "hello $WHO"'], {
      env: { WHO: 'there' },
    });
    expect(code).toBe(0);
    expect(stdout).toBe('hello there\n');
  });

  test('--json prints the result', async () => {
    const { code, stdout } = await forkexec(['run', '--json', '--env', 'X=1', '--', 'sh', '-c', 'echo $X; exit 4']);
    expect(code).toBe(4);
    expect(JSON.parse(stdout)).toMatchObject({ exitCode: 4, stdout: '1', signal: null, backend: expect.any(String) });
  });

  test('death by signal exits with 128 + signal number', async () => {
    expect((await forkexec(['run', '--', 'sh', '-c', 'kill -9 $$'])).code).toBe(137);
  });

  test('an unknown backend fails with a clear message', async () => {
    const { code, stderr } = await forkexec(['run', '--', 'true'], { env: { FORKEXEC_BACKEND: 'nope' } });
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown backend "nope" \(from FORKEXEC_BACKEND\)/);
    expect(stderr).toMatch(/npm install nope/);
  });

  test('a missing program exits 127 with ENOENT advice', async () => {
    const { code, stderr } = await forkexec(['run', '--', 'forkexec-no-such-program']);
    expect(code).toBe(127);
    expect(stderr).toMatch(/not found in PATH/);
  });

  test('usage errors exit 2', async () => {
    expect((await forkexec(['run'])).code).toBe(2);
    expect((await forkexec(['frobnicate'])).code).toBe(2);
  });
});

describe('forkexec doctor', () => {
  test('lists every backend with its status and the chosen one', async () => {
    const { code, stdout } = await forkexec(['doctor']);
    expect(code).toBe(0);
    for (const name of ['node', 'ntdll', 'helper-exe']) expect(stdout).toMatch(new RegExp(`(ok|no)\\s+${name}`));
    expect(stdout).toMatch(/chosen: \S+ \(from auto\)/);
  });

  test('--json, and a config file is honoured', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-doctor-'));
    try {
      writeFileSync(path.join(dir, '.forkexecrc'), JSON.stringify({ backend: 'node' }));
      const { stdout } = await forkexec(['doctor', '--json'], { cwd: dir });
      const report = JSON.parse(stdout);
      expect(report).toMatchObject({ chosen: 'node', source: path.join(dir, '.forkexecrc') });
      expect(report.backends.find((b: { name: string }) => b.name === 'node')).toMatchObject({
        ok: true,
        capabilities: { actions: expect.arrayContaining(['dup2']) },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--register-report adds up the lines the register hook wrote, by route and reason', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-doctor-'));
    try {
      const file = path.join(dir, 'report.jsonl');
      const line = (fast: number, reason: string) =>
        JSON.stringify({ pid: 1, argv: [], backend: 'ntdll', fast: { spawn: fast }, node: { spawn: { [reason]: 1 } } });
      writeFileSync(file, `${line(2, 'uid/gid')}\n${line(3, 'uid/gid')}\n`);
      const { stdout } = await forkexec(['doctor', '--json'], { env: { FORKEXEC_REGISTER_REPORT: file } });
      expect(JSON.parse(stdout).register).toEqual({
        processes: 2,
        backends: ['ntdll'],
        fast: { spawn: 5 },
        node: { spawn: { 'uid/gid': 2 } },
      });
      const text = await forkexec(['doctor', '--register-report', file]);
      expect(text.stdout).toMatch(/2 processes; fast path on ntdll:\n\s+spawn\s+5\n[^]*spawn\s+2\s+uid\/gid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
