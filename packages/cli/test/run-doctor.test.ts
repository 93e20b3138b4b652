import { execFile } from 'node:child_process';
import { constants } from 'node:os';
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
    .then(({ stdout, stderr }) => ({ code: 0 as number | null, signal: null as string | null, stdout, stderr }))
    .catch((error: { code: number | null; signal: string | null; stdout: string; stderr: string }) => ({
      code: error.code,
      signal: error.signal,
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

  test('death by a signal: forkexec dies of the same signal, so the shell sees it', async () => {
    expect(await forkexec(['run', '--', 'sh', '-c', 'kill -9 $$'])).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(await forkexec(['run', '--', 'sh', '-c', 'kill -TERM $$'])).toMatchObject({ code: null, signal: 'SIGTERM' });
    // SIGUSR1 would start Node's inspector rather than end it: the shell's 128 + n instead
    expect((await forkexec(['run', '--', 'sh', '-c', 'kill -USR1 $$'])).code).toBe(128 + constants.signals.SIGUSR1);
  });

  test('--timeout ends the program, says so, and exits 124 like timeout(1)', async () => {
    const { code, stderr } = await forkexec(['run', '--timeout', '50', '--', 'sleep', '5']);
    expect(code).toBe(124);
    expect(stderr).toBe('forkexec: sleep timed out after 50 ms and was ended\n');
  });

  test.each(['abc', '-5', '1.5', '', '1e3', '99999999999'])('--timeout %p is refused', async (value) => {
    const { code, stderr } = await forkexec(['run', '--timeout', value, '--', 'true']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/option '--timeout <ms>' argument .* is invalid\. expected a whole number of milliseconds/);
  });

  test('an unknown backend fails with a clear message', async () => {
    const { code, stderr } = await forkexec(['run', '--', 'true'], { env: { FORKEXEC_BACKEND: 'nope' } });
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown backend "nope" \(from FORKEXEC_BACKEND\)/);
    expect(stderr).not.toMatch(/npm install/);
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

  test('a broken config file is reported in one line, exit 1, with an error field in --json', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-doctor-'));
    try {
      writeFileSync(path.join(dir, 'forkexec.config.json'), '{bad');
      const text = await forkexec(['doctor'], { cwd: dir });
      expect(text.code).toBe(1);
      expect(text.stderr).toBe('');
      expect(text.stdout).toMatch(
        /\nchosen: none — could not read the forkexec config: .*forkexec\.config\.json: .*JSON.*\n$/,
      );
      const json = await forkexec(['doctor', '--json'], { cwd: dir });
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        chosen: null,
        error: { code: 'FORKEXEC_BACKEND_LOAD', message: expect.stringContaining('forkexec.config.json') },
      });
      const run = await forkexec(['run', '--', 'true'], { cwd: dir });
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')[0]).toMatch(
        /^forkexec: could not read the forkexec config: .*forkexec\.config\.json/,
      );
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

  test('an unknown backend: exit 1, the source named once, a did-you-mean', async () => {
    const { code, stdout } = await forkexec(['doctor'], { env: { FORKEXEC_BACKEND: 'nod' } });
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /\nchosen: none — unknown backend "nod" \(from FORKEXEC_BACKEND\) \(did you mean "node"\?\)\n$/,
    );
    expect(stdout.match(/FORKEXEC_BACKEND/g)).toHaveLength(1);
    const json = JSON.parse((await forkexec(['doctor', '--json'], { env: { FORKEXEC_BACKEND: 'nod' } })).stdout);
    expect(json).toMatchObject({ chosen: null, source: 'FORKEXEC_BACKEND', error: { code: 'FORKEXEC_BACKEND_LOAD' } });
  });
});
