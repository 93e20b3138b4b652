import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { forkBeforeExec, ForkExecError, SubprocessError } from '@forkexec/core';

describe('forkBeforeExec', () => {
  test('options may come second, and the result describes the run', async () => {
    const result = await forkBeforeExec('pwd', { cwd: '/' });
    expect(result).toMatchObject({
      stdout: '/',
      stderr: '',
      exitCode: 0,
      signal: null,
      failed: false,
      timedOut: false,
      isCanceled: false,
      file: 'pwd',
      args: [],
      command: 'pwd',
    });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(typeof result.backend).toBe('string');
    expect(result.pid).toBeGreaterThan(0);
  });

  test("the result's keys come in one order, the optional ones (all, signalDescription, shortMessage) in their place", async () => {
    const common = ['command', 'escapedCommand', 'cwd', 'pid', 'exitCode', 'signal', 'stdout', 'stderr'];
    const timing = ['durationMs', 'backend', 'timedOut', 'isCanceled', 'isTerminated', 'isMaxBuffer'];
    const tail = ['file', 'args', 'failed'];
    expect(Object.keys(await forkBeforeExec('true'))).toEqual([...common, ...timing, ...tail]);
    expect(Object.keys(await forkBeforeExec('sh', ['-c', 'echo out; echo err >&2'], { all: true }))).toEqual([
      ...common,
      'all',
      ...timing,
      ...tail,
    ]);
    const killed = await forkBeforeExec('sh', ['-c', 'kill -TERM $$'], { reject: false, all: true });
    expect(Object.keys(killed)).toEqual([...common, 'all', ...timing, 'signalDescription', ...tail, 'shortMessage']);
    expect(killed).toMatchObject({ signal: 'SIGTERM', signalDescription: 'Termination', failed: true, all: '' });
  });

  test('the command line is quoted for a shell, and is the one of the call: changing the args array afterwards changes nothing', async () => {
    const args = ['-c', "echo 'it''s'", 'two words'];
    const child = forkBeforeExec('sh', args);
    args.push('late');
    args[1] = 'changed';
    expect(child.command).toBe(`sh -c 'echo '\\''it'\\'''\\''s'\\''' 'two words'`);
    expect((await child).command).toBe(child.command);
    expect((await child).args).toEqual(['-c', "echo 'it''s'", 'two words']);
  });

  test('encoding buffer and stripFinalNewline', async () => {
    const raw = await forkBeforeExec('printf', ['a\\n\\n'], { stripFinalNewline: false });
    expect(raw.stdout).toBe('a\n\n');
    expect((await forkBeforeExec('printf', ['a\\n'])).stdout).toBe('a');
    const buf = await forkBeforeExec('printf', ['\\377'], { encoding: 'buffer' });
    expect(Buffer.isBuffer(buf.stdout) && buf.stdout[0]).toBe(0xff);
  });

  test('reject: false resolves failures with failed: true', async () => {
    const result = await forkBeforeExec('sh', ['-c', 'echo oops >&2; exit 4'], { reject: false });
    expect(result).toMatchObject({ exitCode: 4, failed: true, stderr: 'oops' });
  });

  test('a failed run rejects with SubprocessError carrying stderr in the message', async () => {
    const error = await forkBeforeExec('sh', ['-c', 'echo broken >&2; exit 2']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubprocessError);
    expect(error).toBeInstanceOf(ForkExecError);
    expect(error).toMatchObject({
      code: 'FORKEXEC_EXIT',
      exitCode: 2,
      stderr: 'broken',
      message: expect.stringContaining('broken'),
    });
  });

  test('a start failure is a rejection, never a synchronous throw, and pid is undefined', async () => {
    let child: ReturnType<typeof forkBeforeExec> | undefined;
    expect(() => (child = forkBeforeExec('', []))).not.toThrow();
    expect(child!.pid).toBeUndefined();
    await expect(child).rejects.toMatchObject({ code: 'FORKEXEC_INVALID_ARGUMENT' });
    await expect(forkBeforeExec('true', 'notanarray' as unknown as string[])).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
      message: expect.stringContaining('args'),
    });
    await expect(forkBeforeExec('true', [], { cwd: '/nonexistent/dir' })).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOENT',
    });
    await expect(forkBeforeExec('true', [], { stdin: 'bogus' as never })).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
    });
    await expect(forkBeforeExec('true', [], { input: 'x', stdin: 'ignore' })).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
    });
  });

  test('stderr lines can be iterated, and iteration throws when the child fails', async () => {
    const child = forkBeforeExec('sh', ['-c', 'echo a >&2; echo b >&2; exit 3']);
    const lines: string[] = [];
    await expect(
      (async () => {
        for await (const line of child.lines('stderr')) lines.push(line);
      })(),
    ).rejects.toMatchObject({ exitCode: 3 });
    expect(lines).toEqual(['a', 'b']);
  });

  test('buffer: false leaves the streams to the caller', async () => {
    const child = forkBeforeExec('sh', ['-c', 'echo streamed'], { buffer: false });
    const chunks: Buffer[] = [];
    child.stdout!.pipe(new Writable({ write: (chunk, _enc, done) => (chunks.push(chunk), done()) }));
    const result = await child;
    expect(result.stdout).toBe('');
    expect(Buffer.concat(chunks).toString()).toBe('streamed\n');
  });

  test('await using kills a child that still runs', async () => {
    let pid: number | undefined;
    {
      const child = forkBeforeExec('sleep', ['30']);
      pid = await child.started; // the default backend may start it off the event loop
      expect(child.pid).toBe(pid);
      await child[Symbol.asyncDispose]();
    }
    expect(() => process.kill(pid!, 0)).toThrow();
  });

  test('a timeout settles although a process the child started keeps its stdout open', async () => {
    const started = performance.now();
    const child = forkBeforeExec('sh', ['-c', 'sleep 5 & echo started; exec sleep 30'], { timeout: 300 });
    await expect(child).rejects.toMatchObject({ code: 'FORKEXEC_TIMEOUT', stdout: 'started' });
    expect(performance.now() - started).toBeLessThan(4000); // not held until the orphan's pipe closes
  });

  test('kill() after exit returns false', async () => {
    const child = forkBeforeExec('true');
    await child;
    expect(child.kill()).toBe(false);
  });
});

describe('hostile programs and input never reach a shell', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-hostile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = (name: string, content: string) => {
    const file = `${dir}/${name}`;
    writeFileSync(file, content, { mode: 0o755 });
    return file;
  };

  test('an executable text file without #! is ENOEXEC, not run by /bin/sh', async () => {
    const file = script('no-shebang', `touch ${dir}/pwned\n`);
    await expect(forkBeforeExec(file)).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ENOEXEC' });
    expect(existsSync(`${dir}/pwned`)).toBe(false);
  });

  test('a bare name whose first match in PATH has no #! is ENOEXEC, as execvp stops there too: no later match runs', async () => {
    const [early, late] = ['early', 'late'].map((name) => mkdtempSync(path.join(dir, name)));
    writeFileSync(path.join(early, 'fx-first-match'), `touch ${dir}/pwned-by-search\n`, { mode: 0o755 });
    writeFileSync(path.join(late, 'fx-first-match'), '#!/bin/sh\necho late\n', { mode: 0o755 });
    const env = { PATH: `${early}:${late}` };
    await expect(forkBeforeExec('fx-first-match', [], { env })).rejects.toMatchObject({
      errno: 'ENOEXEC',
      message: expect.stringContaining(`${early}/fx-first-match`),
    });
    expect(existsSync(`${dir}/pwned-by-search`)).toBe(false);
  });

  test('a script whose interpreter is missing names the interpreter', async () => {
    await expect(forkBeforeExec(script('missing-interp', '#!/nonexistent/interp -x\necho hi\n'))).rejects.toMatchObject(
      {
        errno: 'ENOENT',
        message: expect.stringContaining('/nonexistent/interp'),
      },
    );
  });

  test('a script with a working interpreter runs', async () => {
    expect((await forkBeforeExec(script('ok', '#!/bin/sh\necho "ran $1"\n'), ['x'])).stdout).toBe('ran x');
  });

  test('a program that ran once is checked again after it changed', async () => {
    const file = script('changing', '#!/bin/sh\necho "ran"\n');
    expect((await forkBeforeExec(file)).stdout).toBe('ran');
    chmodSync(file, 0o644);
    await expect(forkBeforeExec(file)).rejects.toMatchObject({
      errno: 'EACCES',
      message: expect.stringContaining('is not executable'),
    });
    chmodSync(file, 0o755);
    expect((await forkBeforeExec(file)).stdout).toBe('ran');
    writeFileSync(file, `touch ${dir}/pwned-after-change\n`);
    await expect(forkBeforeExec(file)).rejects.toMatchObject({ errno: 'ENOEXEC' });
    expect(existsSync(`${dir}/pwned-after-change`)).toBe(false);
    rmSync(file);
    await expect(forkBeforeExec(file)).rejects.toMatchObject({ errno: 'ENOENT' });
  });

  test('unpaired surrogates are refused, naming the argument', async () => {
    await expect(forkBeforeExec('echo', ['ok', 'bad\uD800'])).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
      message: expect.stringContaining('args[1]'),
    });
    await expect(forkBeforeExec('true', [], { env: { K: '\uDC00' } })).rejects.toMatchObject({
      code: 'FORKEXEC_INVALID_ARGUMENT',
      message: expect.stringContaining('env.K'),
    });
  });

  test('an argument beyond the kernel limit is E2BIG', async () => {
    await expect(forkBeforeExec('true', ['x'.repeat(300_000)])).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'E2BIG',
    });
  });

  test('an inherited variable beyond the kernel limit is E2BIG, naming it', async () => {
    process.env.FORKEXEC_HUGE = 'x'.repeat(300_000);
    try {
      await expect(forkBeforeExec('true')).rejects.toMatchObject({
        code: 'FORKEXEC_SPAWN',
        errno: 'E2BIG',
        message: expect.stringContaining('env.FORKEXEC_HUGE'),
      });
    } finally {
      delete process.env.FORKEXEC_HUGE;
    }
  });
});
