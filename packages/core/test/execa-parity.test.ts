/**
 * The same calls through execa 9 (in a child process: it is ESM-only) and forkBeforeExec, with
 * the result fields execa 9 has compared one by one.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { forkBeforeExec, SubprocessError, type Options } from '@forkexec/core';

const fixtures = path.join(__dirname, 'fixtures', 'drop-in');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a fixture shared with the execa side
const { CASES, FIELDS } = require('./fixtures/drop-in/execa-cases.mjs') as {
  CASES: Record<string, [string, string[], Options]>;
  FIELDS: string[];
};

let execa: Record<string, Record<string, unknown>>;
beforeAll(async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(fixtures, 'execa-results.mjs')]);
  execa = JSON.parse(stdout);
});

describe('forkBeforeExec gives the result fields execa 9 gives', () => {
  test.each(Object.keys(CASES))('%s', async (name) => {
    const [file, args, options] = CASES[name];
    const result = (await forkBeforeExec(file, args, options)) as unknown as Record<string, unknown>;
    const ours = Object.fromEntries(FIELDS.filter((field) => field in result).map((field) => [field, result[field]]));
    // execa leaves out exitCode and signal when they have no value; forkexec has null there.
    for (const field of ['exitCode', 'signal']) if (ours[field] === null && !(field in execa[name])) delete ours[field];
    const theirs = { ...execa[name] };
    // Over maxBuffer forkexec kills the child, as Node's execFile does; execa lets it run to its end.
    if (name === 'maxBuffer')
      for (const field of ['exitCode', 'signal', 'isTerminated', 'signalDescription']) {
        delete ours[field];
        delete theirs[field];
      }
    expect(ours).toEqual(theirs);
  });

  test('reject: false with a start the OS refused: a failed result, and started still rejects with the error', async () => {
    const child = forkBeforeExec('forkexec-no-such-program', { reject: false });
    await expect(child.started).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT' });
    expect(await child).toMatchObject({
      failed: true,
      code: 'ENOENT',
      shortMessage: expect.stringMatching(/ENOENT|not found/),
    });
    await expect(forkBeforeExec('true', { reject: false, cwd: 1 as never })).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
    });
  });

  test('preferLocal: node_modules/.bin of cwd and its parents come first in PATH', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-local-'));
    try {
      const bin = path.join(dir, 'node_modules', '.bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(path.join(bin, 'forkexec-local-tool'), '#!/bin/sh\necho local "$PWD"\n', { mode: 0o755 });
      mkdirSync(path.join(dir, 'sub'));
      const cwd = path.join(dir, 'sub');
      expect((await forkBeforeExec('forkexec-local-tool', { preferLocal: true, cwd })).stdout).toBe(`local ${cwd}`);
      await expect(forkBeforeExec('forkexec-local-tool', { cwd })).rejects.toMatchObject({ errno: 'ENOENT' });
      const env = await forkBeforeExec('sh', ['-c', 'echo "$PATH"'], { preferLocal: true, cwd, env: { PATH: '/bin' } });
      expect(env.stdout.split(':').slice(0, 2)).toEqual([path.join(cwd, 'node_modules', '.bin'), bin]);
      expect(env.stdout.endsWith(':/bin')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('stdin, stdout and stderr: { file } (append keeps what the file holds); a missing stdin file fails the start', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-file-'));
    try {
      const [input, output, errors] = ['in', 'out', 'err'].map((name) => path.join(dir, name));
      writeFileSync(input, 'from the file\n');
      writeFileSync(errors, 'kept\n');
      const result = await forkBeforeExec('sh', ['-c', 'cat; echo to-err >&2'], {
        stdin: { file: input },
        stdout: { file: pathToFileURL(output) },
        stderr: { file: errors, append: true },
      });
      expect([result.stdout, result.stderr]).toEqual(['', '']);
      expect(readFileSync(output, 'utf8')).toBe('from the file\n');
      expect(readFileSync(errors, 'utf8')).toBe('kept\nto-err\n');
      await expect(forkBeforeExec('cat', { stdin: { file: path.join(dir, 'missing') } })).rejects.toMatchObject({
        code: 'FORKEXEC_SPAWN',
        errno: 'ENOENT',
      });
      await expect(forkBeforeExec('cat', { stdin: { file: input }, input: 'x' })).rejects.toMatchObject({
        code: 'FORKEXEC_INVALID_ARGUMENT',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('cancelSignal: isCanceled, and the abort reason as cause', async () => {
    const controller = new AbortController();
    const child = forkBeforeExec('sleep', ['5'], { cancelSignal: controller.signal });
    await child.started;
    controller.abort('the reason');
    const error = await child.then(
      () => undefined,
      (e: SubprocessError) => e,
    );
    expect([error?.isCanceled, error?.cause]).toEqual(execa.cancelCause);
  });

  test('the error message shows the output, maxBuffer names the stream; two cancel signals and shell are refused', async () => {
    const failed = await forkBeforeExec('sh', ['-c', 'echo to-out; echo to-err >&2; exit 1']).catch(
      (e: SubprocessError) => e,
    );
    expect((failed as SubprocessError).message).toMatch(/exited with code 1\nto-err\nto-out$/);
    expect((failed as SubprocessError).shortMessage).toBe(
      `sh -c 'echo to-out; echo to-err >&2; exit 1': exited with code 1`,
    );
    const over = await forkBeforeExec('sh', ['-c', 'echo 123456 >&2'], { maxBuffer: 3 }).catch(
      (e: SubprocessError) => e,
    );
    expect((over as SubprocessError).message).toMatch(/stderr exceeded maxBuffer \(3 bytes\)/);
    await expect(
      forkBeforeExec('true', { cancelSignal: new AbortController().signal, signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: 'FORKEXEC_INVALID_ARGUMENT', message: expect.stringMatching(/give one of them/) });
    const typed: string[] = (await forkBeforeExec('printf', ['x\\ny'], { lines: true })).stdout; // typed as lines
    expect(typed).toEqual(['x', 'y']);
    await expect(forkBeforeExec('true', { lines: true, encoding: 'buffer' })).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
    });
    await expect(forkBeforeExec('echo hi', { shell: true } as Options)).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
      message: expect.stringMatching(/runs no shell[^]*\/bin\/sh[^]*cmd\.exe[^]*exec\(\)/),
    });
  });
});
