/**
 * subprocess.pipe() as execa 9's, on real programs: stdout into stdin, chains, stderr, pipefail
 * (the destination's failure first, then the source's), an early-ending destination, bad arguments.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { forkBeforeExec, type PipedResult } from '@forkexec/core';

/** execa 9's pipe, run in a child (execa is ESM-only): its stdout and its source's. */
async function execaPipe(): Promise<[string, number, string]> {
  const script = `import { execa } from 'execa';
const r = await execa('printf', ['b\\\\na\\\\n']).pipe('sort');
process.stdout.write(JSON.stringify([r.stdout, r.pipedFrom.length, r.pipedFrom[0].stdout]));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: __dirname,
  });
  return JSON.parse(stdout);
}

const describePosix = process.platform === 'win32' ? describe.skip : describe;

describePosix('subprocess.pipe()', () => {
  test('into a file name: the destination’s result, the source’s in pipedFrom, as execa 9', async () => {
    const ours = await forkBeforeExec('printf', ['b\\na\\n']).pipe('sort');
    expect([ours.stdout, ours.pipedFrom.length, (ours.pipedFrom[0] as PipedResult).stdout]).toEqual(await execaPipe());
    expect(ours.stdout).toBe('a\nb');
  });

  test('into a started subprocess, and chained; from: stderr', async () => {
    const destination = forkBeforeExec('tr', ['a-z', 'A-Z'], { stdin: 'pipe' });
    const result = await forkBeforeExec('echo', ['shout']).pipe(destination);
    expect(result.stdout).toBe('SHOUT');
    expect(await destination).toBe(result);

    const chained = await forkBeforeExec('printf', ['c\\nb\\na\\n']).pipe('sort').pipe('head', ['-n', '1']);
    expect(chained.stdout).toBe('a');
    expect((chained.pipedFrom[0] as PipedResult).pipedFrom).toHaveLength(1);

    const fromStderr = await forkBeforeExec('sh', ['-c', 'echo out; echo err >&2']).pipe('cat', { from: 'stderr' });
    expect(fromStderr.stdout).toBe('err');
  });

  test('pipefail: a failed source or destination rejects the pipe, the destination’s failure first', async () => {
    await expect(forkBeforeExec('sh', ['-c', 'echo x; exit 3']).pipe('cat')).rejects.toMatchObject({
      exitCode: 3,
      command: "sh -c 'echo x; exit 3'",
    });
    const both = forkBeforeExec('sh', ['-c', 'exit 3']).pipe('sh', ['-c', 'cat; exit 4']);
    await expect(both).rejects.toMatchObject({ exitCode: 4, pipedFrom: [expect.objectContaining({ exitCode: 3 })] });
  });

  test('a destination that stops reading: the source gets SIGPIPE instead of blocking', async () => {
    const pipe = forkBeforeExec('yes').pipe('head', ['-n', '1']);
    await expect(pipe).rejects.toMatchObject({ signal: 'SIGPIPE' });
  });

  test('bad arguments reject with a typed error, the other side’s stdin ended', async () => {
    const noPipe = forkBeforeExec('cat'); // stdin 'ignore' unless input or stdin: 'pipe'
    await expect(forkBeforeExec('echo', ['x']).pipe(noPipe)).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
      message: expect.stringContaining("stdin: 'pipe'"),
    });
    await expect(forkBeforeExec('echo').pipe('cat', { input: 'x' })).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
    });
    await expect(forkBeforeExec('echo').pipe(42 as unknown as string)).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
    });
    // A source that could not start: its own error, and the destination sees the end of its input.
    const reader = forkBeforeExec('cat', { stdin: 'pipe' });
    await expect(forkBeforeExec('no-such-program-here').pipe(reader)).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOENT',
    });
    await expect(reader).resolves.toMatchObject({ exitCode: 0 });
    const waiting = forkBeforeExec('cat', { stdin: 'pipe' });
    await expect(forkBeforeExec('echo').pipe(waiting, { from: 'all' as 'stdout' })).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
    });
    await expect(waiting).resolves.toMatchObject({ exitCode: 0, stdout: '' });
  });
});
