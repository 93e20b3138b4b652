import { readdirSync, readlinkSync } from 'node:fs';
import { forkBeforeExec, nodeBackend, probeBackend, type Backend, type Options } from '@forkexec/core';
import { backend as helperExe } from '@forkexec/helper-exe';
import { backend as ntdll } from '@forkexec/ntdll-backend';
import fc from 'fast-check';

const backends: Backend[] = [nodeBackend, ntdll, helperExe].filter(
  (b) => b.capabilities.platforms.includes(process.platform) && probeBackend(b).ok,
);
afterAll(() => Promise.all(backends.map((backend) => backend.dispose?.())));

/** forkBeforeExec(...call) rejects with FORKEXEC_INVALID_ARGUMENT and `message`. */
const refusedCall = async (call: unknown[], message: RegExp) => {
  const error = await (forkBeforeExec as (...a: unknown[]) => Promise<unknown>)(...call).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toMatchObject({ code: 'FORKEXEC_INVALID_ARGUMENT', message: expect.stringMatching(message) });
};
const refused = (options: unknown, message: RegExp) => refusedCall(['true', [], options], message);

describe('every option is checked at the call, naming the option and the value', () => {
  test.each([
    [{ killSignal: 'SIGFOO', timeout: 100 }, /^option `killSignal` must be a signal name .* got "SIGFOO"$/],
    [{ killSignal: 'sigterm' }, /got "sigterm" \(did you mean "SIGTERM"\?\)/],
    [{ killSignal: 'TERM' }, /did you mean "SIGTERM"\?/],
    [{ killSignal: 0 }, /option `killSignal` .* got number 0/],
    [{ killSignal: 1.5 }, /option `killSignal` .* got number 1.5/],
    [{ signal: 'nope' }, /^option `signal` must be an AbortSignal .* got "nope"$/],
    [{ signal: {} }, /^option `signal` must be an AbortSignal .* got object Object$/],
    [{ input: 123 }, /^option `input` must be a string or a Uint8Array, got number 123$/],
    [{ input: 'x', stdin: 'inherit' }, /^option `input` needs stdin 'pipe', got "inherit"$/],
    [{ timeout: -1 }, /^option `timeout` must be a whole number of milliseconds from 0 to 2147483647, got number -1$/],
    [{ timeout: NaN }, /option `timeout` .* got number NaN/],
    [{ timeout: Infinity }, /option `timeout` .* got number Infinity/],
    [{ timeout: '100' }, /option `timeout` .* got "100"/],
    [{ timeout: 2 ** 31 }, /option `timeout` .* got number 2147483648/],
    [{ timeout: 1.5 }, /option `timeout` .* got number 1.5/],
    [{ forceKillAfterDelay: -1 }, /option `forceKillAfterDelay` .* got number -1/],
    [{ forceKillAfterDelay: 'soon' }, /option `forceKillAfterDelay` .* got "soon"/],
    [{ maxBuffer: -5 }, /^option `maxBuffer` must be a whole number of bytes ≥ 0, got number -5$/],
    [{ maxBuffer: NaN }, /option `maxBuffer` .* got number NaN/],
    [{ maxBuffer: '10' }, /option `maxBuffer` .* got "10"/],
    [{ encoding: 'latin2' }, /^option `encoding` must be 'buffer' or an encoding Node knows .* got "latin2"$/],
    [{ encoding: 8 }, /option `encoding` .* got number 8/],
    [{ stdio: 'bogus' }, /^option `stdio` must be 'pipe', 'inherit', 'ignore' or an fd number, got "bogus"$/],
    [{ stdio: ['pipe', 'pipe'] }, /^option `stdio` must be one value or an array of three, got array \[2 items\]$/],
    [{ stdio: ['pipe', 'nope', 'pipe'] }, /^option `stdio`\[1\] must be .* got "nope"$/],
    [{ stdout: {} }, /^option `stdout` must be .* got object Object$/],
    [{ stderr: -1 }, /^option `stderr` must be .* got number -1$/],
    [{ reject: 'no' }, /^option `reject` must be a boolean, got "no"$/],
    [{ buffer: 0 }, /^option `buffer` must be a boolean, got number 0$/],
    [{ detached: 'yes' }, /^option `detached` must be a boolean/],
    [{ extendEnv: null }, /^option `extendEnv` must be a boolean, got null$/],
    [{ stripFinalNewline: 1 }, /^option `stripFinalNewline` must be a boolean/],
    [{ searchPath: 'no' }, /^option `searchPath` must be a boolean/],
    [{ startOffLoop: 'no' }, /^option `startOffLoop` must be a boolean/],
    [{ env: 'A=1' }, /^option `env` must be an object of strings, got "A=1"$/],
    [{ backend: 42 }, /^option `backend` must be a backend name, a package name or a Backend object, got number 42$/],
    [{ cwd: 42 }, /^option `cwd` must be a path or a file: URL, got number 42$/],
    [
      { cwd: new URL('http://example.com/') },
      /^option `cwd` must be a path or a file: URL, got "http:\/\/example.com\/"$/,
    ],
    [
      { actions: 'setsid' },
      /^option `actions` must be an array of actions, got "setsid" \(did you mean \[\{"op":"setsid"\}\]\?\)$/,
    ],
    ['fast', /^options must be an object, got "fast"$/],
  ])('%p', (options, message) => refused(options, message));

  test('forkBeforeExec(undefined) says what was expected', async () => {
    await refusedCall([undefined], /^file \(the program to run\) must be a string, got undefined$/);
    await refusedCall(['ls', '-l', {}], /^args must be an array of strings, got "-l"$/);
  });

  test('a bad killSignal no longer crashes the process from the timeout timer', async () => {
    await refusedCall(['sleep', ['2'], { killSignal: 'SIGFOO', timeout: 1 }], /killSignal/);
  });

  test('kill() refuses an unknown signal at the call', async () => {
    const child = forkBeforeExec('sleep', ['5']);
    expect(() => child.kill('SIGFOO' as NodeJS.Signals)).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_INVALID_ARGUMENT', message: expect.stringMatching(/kill\(\) signal/) }),
    );
    child.kill('SIGKILL');
    await expect(child).rejects.toMatchObject({ signal: 'SIGKILL' });
  });

  test('values in range are honoured: signals by number, every Node encoding, maxBuffer 0 and Infinity', async () => {
    expect((await forkBeforeExec('printf', ['hi\\n'], { encoding: 'hex' })).stdout).toBe('68690a');
    expect((await forkBeforeExec('printf', ['\\351'], { encoding: 'latin1' })).stdout).toBe('é');
    expect((await forkBeforeExec('printf', ['hi'], { encoding: 'base64' })).stdout).toBe('aGk=');
    expect((await forkBeforeExec('printf', ['h\\0i\\0'], { encoding: 'utf16le' })).stdout).toBe('hi');
    expect((await forkBeforeExec('true', [], { maxBuffer: 0 })).exitCode).toBe(0);
    await expect(forkBeforeExec('echo', ['x'], { maxBuffer: 0 })).rejects.toMatchObject({
      code: 'FORKEXEC_MAX_BUFFER',
    });
    expect((await forkBeforeExec('echo', ['x'], { maxBuffer: Infinity })).stdout).toBe('x');
    await expect(forkBeforeExec('sleep', ['5'], { timeout: 1, killSignal: 9 })).rejects.toMatchObject({
      code: 'FORKEXEC_TIMEOUT',
      signal: 'SIGKILL',
    });
    expect((await forkBeforeExec('true', [], { forceKillAfterDelay: true, timeout: 0 })).exitCode).toBe(0);
  });

  test('options inherited or read through a getter are checked as own ones', async () => {
    await refused(Object.create({ timeout: -1 }), /^option `timeout` .* got number -1$/);
    class Settings {
      get killSignal() {
        return 'SIGFOO';
      }
    }
    await refused(new Settings(), /^option `killSignal` must be a signal name .* got "SIGFOO"$/);
    await refused(Object.assign(Object.create(null), { timeout: '1' }), /option `timeout` .* got "1"/);
  });

  test('lines() decode with the encoding', async () => {
    const lines: string[] = [];
    for await (const line of forkBeforeExec('printf', ['\\351\\n\\374\\n'], { encoding: 'latin1' })) lines.push(line);
    expect(lines).toEqual(['é', 'ü']);
  });
});

/** Values of every type and the edges of each range. */
const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, true, false, 0, -1, 1.5, NaN, Infinity, -0, 2 ** 31, '', 'pipe', 'SIGTERM', 'utf8'),
  fc.constantFrom('inherit', 'ignore', 'buffer', 'hex', 'SIGFOO', 9, 15, [], ['pipe'], {}),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 3000 }),
  fc.double(),
);
const OPTION_NAMES = [
  'extendEnv',
  'detached',
  'searchPath',
  'stdio',
  'stdin',
  'stdout',
  'stderr',
  'input',
  'timeout',
  'signal',
  'killSignal',
  'forceKillAfterDelay',
  'maxBuffer',
  'buffer',
  'encoding',
  'stripFinalNewline',
  'reject',
  'actions',
  'startOffLoop',
  'argv0',
] as const;

const openFds = () => readdirSync('/proc/self/fd').length;
/** What each open fd is (a leak shows as an extra pipe or socket), for the failure message. */
const fdTargets = () =>
  readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return `${fd}:${readlinkSync(`/proc/self/fd/${fd}`)}`;
      } catch {
        return `${fd}:gone`; // readdir's own fd
      }
    })
    .filter((entry) => !entry.endsWith(':gone'));

describe.each(backends.map((b) => [b.name, b] as const))('random options on the %s backend', (_name, backend) => {
  test('each call runs or rejects with a typed error: no throw, no uncaught error, no leaked fd or child', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    const fdsBefore = openFds();
    const fdsAtStart = fdTargets();
    try {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...OPTION_NAMES), anyValue, { maxKeys: 4 }), async (random) => {
          // sleep 0.05: long enough for a timeout, a kill or maxBuffer to happen, short enough for 60 runs.
          const options = { ...random, backend } as Options;
          const child = forkBeforeExec('sh', ['-c', 'echo out; echo err >&2; sleep 0.05'], options);
          const outcome = await child.then(
            (result) => ({ ok: true, result }),
            (error: unknown) => ({ ok: false, error }),
          );
          if (!outcome.ok) expect(String((outcome.error as { code?: string }).code)).toMatch(/^FORKEXEC_/);
          if (child.pid !== undefined) expect(() => process.kill(child.pid!, 0)).toThrow(); // reaped: no stray child
        }),
        { numRuns: 60 },
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // let a late timer or stream event fire
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
    }
    expect(uncaught).toEqual([]);
    await backend.dispose?.(); // a backend's own fds (a helper pool) are not the calls' leaks
    // A socket's close lands on a later turn of the loop: on a loaded machine give the last ones a moment.
    for (let waited = 0; openFds() > fdsBefore && waited < 2000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const leaked = openFds() > fdsBefore ? fdTargets().filter((fd) => !fdsAtStart.includes(fd)) : [];
    expect(leaked).toEqual([]);
  });
});
