/**
 * forkBeforeExecSync against forkBeforeExec: the same calls, on the node and ntdll backends, with
 * real programs. Each case gives what the result (or the error) must hold, and the sync and async
 * outcomes must be equal field by field (the time taken and the pid aside).
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, forkBeforeExecSync, nodeBackend, type Backend, type Options } from '@forkexec/core';

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-sync-api-')));
  writeFileSync(path.join(dir, 'in.txt'), 'from a file\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A result or an error as the caller sees it: every own field, the time and pid made comparable. */
function view(value: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { class: (value as object)?.constructor?.name };
  if (value instanceof Error) Object.assign(fields, { message: value.message, cause: value.cause });
  for (const [key, v] of Object.entries(value as object)) {
    if (key === 'durationMs') fields[key] = typeof v;
    else if (key === 'pid') fields[key] = typeof v;
    else fields[key] = Buffer.isBuffer(v) ? { buffer: v.toString('latin1') } : v;
  }
  return fields;
}

async function outcomeAsync(file: unknown, args: unknown, options: unknown) {
  try {
    return { returned: view(await forkBeforeExec(file as string, args as string[], options as Options)) };
  } catch (error) {
    return { threw: view(error) };
  }
}

function outcomeSync(file: unknown, args: unknown, options: unknown) {
  try {
    return { returned: view(forkBeforeExecSync(file as string, args as string[], options as Options)) };
  } catch (error) {
    return { threw: view(error) };
  }
}

/** Fields a kill over maxBuffer leaves to chance: the child may exit, or die of SIGPIPE, before the signal arrives. */
const RACY_AFTER_OVERFLOW = ['exitCode', 'signal', 'isTerminated', 'signalDescription'];

type Case = [name: string, file: string, args: string[], options: Options, expected: Record<string, unknown>];

const CASES = (): Case[] => [
  [
    'output of both streams, the final newline dropped',
    'sh',
    ['-c', 'echo out; echo err >&2'],
    {},
    { returned: expect.objectContaining({ stdout: 'out', stderr: 'err', exitCode: 0, failed: false }) },
  ],
  [
    'a non-zero exit is a SubprocessError carrying the output',
    'sh',
    ['-c', 'echo oops >&2; exit 3'],
    {},
    {
      threw: expect.objectContaining({
        class: 'SubprocessError',
        code: 'FORKEXEC_EXIT',
        exitCode: 3,
        stderr: 'oops',
        message: expect.stringContaining('oops'),
      }),
    },
  ],
  [
    'reject: false gives the failed result',
    'sh',
    ['-c', 'exit 3'],
    { reject: false },
    {
      returned: expect.objectContaining({
        failed: true,
        exitCode: 3,
        shortMessage: "sh -c 'exit 3': exited with code 3",
      }),
    },
  ],
  [
    'a signal ends the child',
    'sh',
    ['-c', 'kill -TERM $$'],
    { reject: false },
    {
      returned: expect.objectContaining({
        signal: 'SIGTERM',
        exitCode: null,
        isTerminated: true,
        signalDescription: 'Termination',
      }),
    },
  ],
  ['input as a string', 'cat', [], { input: 'héllo\n' }, { returned: expect.objectContaining({ stdout: 'héllo' }) }],
  [
    'input as bytes, stripFinalNewline: false',
    'cat',
    [],
    { input: new Uint8Array([0x61, 0x0a]), stripFinalNewline: false },
    { returned: expect.objectContaining({ stdout: 'a\n' }) },
  ],
  [
    "encoding: 'buffer'",
    'printf',
    ['\\377\\n'],
    { encoding: 'buffer' },
    { returned: expect.objectContaining({ stdout: { buffer: '\xff\n' }, stderr: { buffer: '' } }) },
  ],
  ["encoding: 'hex'", 'printf', ['hi'], { encoding: 'hex' }, { returned: expect.objectContaining({ stdout: '6869' }) }],
  [
    'lines',
    'printf',
    ['a\\r\\nb\\nc'],
    { lines: true },
    { returned: expect.objectContaining({ stdout: ['a', 'b', 'c'], stderr: [] }) },
  ],
  [
    'all: both streams in the order they came',
    'sh',
    ['-c', 'echo first; sleep 0.3; echo second >&2'],
    { all: true },
    { returned: expect.objectContaining({ all: 'first\nsecond' }) },
  ],
  [
    'all with lines',
    'sh',
    ['-c', 'echo first; sleep 0.3; echo second >&2'],
    { all: true, lines: true },
    { returned: expect.objectContaining({ all: ['first', 'second'] }) },
  ],
  [
    'maxBuffer on stdout',
    'sh',
    ['-c', 'yes 2>/dev/null'],
    { maxBuffer: 1000 },
    {
      threw: expect.objectContaining({
        code: 'FORKEXEC_MAX_BUFFER',
        isMaxBuffer: true,
        shortMessage: `sh -c 'yes 2>/dev/null': stdout exceeded maxBuffer (1000 bytes); the child was killed`,
        stdout: 'y\n'.repeat(500).slice(0, -1),
      }),
    },
  ],
  [
    'maxBuffer on stderr, reject: false',
    'sh',
    ['-c', 'yes >&2'],
    { maxBuffer: 10, reject: false },
    { returned: expect.objectContaining({ failed: true, isMaxBuffer: true, stderr: 'y\ny\ny\ny\ny' }) },
  ],
  [
    'maxBuffer: 0 takes no output at all',
    'echo',
    ['x'],
    { maxBuffer: 0, reject: false },
    { returned: expect.objectContaining({ isMaxBuffer: true, stdout: '' }) },
  ],
  [
    'each stream may bring maxBuffer bytes',
    'sh',
    ['-c', 'printf 12345; printf 12345 >&2'],
    { maxBuffer: 5 },
    { returned: expect.objectContaining({ stdout: '12345', stderr: '12345', isMaxBuffer: false }) },
  ],
  [
    'timeout kills with killSignal',
    'sleep',
    ['10'],
    { timeout: 100 },
    {
      threw: expect.objectContaining({
        code: 'FORKEXEC_TIMEOUT',
        timedOut: true,
        signal: 'SIGTERM',
        shortMessage: 'sleep 10: timed out after 100 ms and was killed with SIGTERM',
      }),
    },
  ],
  [
    'timeout with killSignal SIGINT, reject: false',
    'sleep',
    ['10'],
    { timeout: 100, killSignal: 'SIGINT', reject: false },
    { returned: expect.objectContaining({ failed: true, timedOut: true, signal: 'SIGINT' }) },
  ],
  [
    'cwd, env and extendEnv',
    'sh',
    ['-c', 'echo "$PWD $FOO ${HOME:-no-home}"'],
    { cwd: '/tmp', env: { FOO: 'bar' }, extendEnv: false },
    { returned: expect.objectContaining({ stdout: '/tmp bar no-home', cwd: '/tmp' }) },
  ],
  [
    'the command line quoted for a shell',
    'echo',
    ['a b', "it's"],
    {},
    { returned: expect.objectContaining({ command: `echo 'a b' 'it'\\''s'`, args: ['a b', "it's"] }) },
  ],
  [
    'an open action in the child, then stdout ignored',
    'cat',
    [],
    { actions: [{ op: 'open', fd: 0, path: '/dev/null' }], stdout: 'ignore' },
    { returned: expect.objectContaining({ stdout: '', exitCode: 0 }) },
  ],
  [
    'a program that does not exist',
    'forkexec-no-such-program',
    ['x'],
    {},
    { threw: expect.objectContaining({ class: 'SpawnError', code: 'FORKEXEC_SPAWN', errno: 'ENOENT' }) },
  ],
  [
    'a program that does not exist, reject: false',
    'forkexec-no-such-program',
    ['x'],
    { reject: false },
    {
      returned: expect.objectContaining({
        failed: true,
        code: 'ENOENT',
        exitCode: null,
        backend: '',
        command: 'forkexec-no-such-program x',
      }),
    },
  ],
  [
    'a cwd that does not exist, reject: false',
    'true',
    [],
    { cwd: '/forkexec-no-such-dir', reject: false },
    { returned: expect.objectContaining({ failed: true, code: 'ENOENT' }) },
  ],
];

const BACKENDS = process.platform === 'linux' ? ['node', 'ntdll'] : ['node'];

describe.each(BACKENDS)('on %s: forkBeforeExecSync gives what forkBeforeExec gives', (backend) => {
  test.each(CASES().map(([name, ...rest]) => [name, ...rest] as const))(
    '%s',
    async (name, file, args, options, expected) => {
      const withBackend = { ...options, backend };
      const sync = outcomeSync(file, args, withBackend);
      const async = await outcomeAsync(file, args, withBackend);
      expect(sync).toEqual(expected);
      if (name.startsWith('maxBuffer'))
        for (const view of [sync, async])
          for (const field of RACY_AFTER_OVERFLOW) delete (view.returned ?? view.threw)?.[field];
      expect(sync).toEqual(async);
      const ran = sync.returned ?? sync.threw;
      if (ran && 'exitCode' in ran && !('errno' in ran) && ran.code !== 'ENOENT') expect(ran.backend).toBe(backend);
    },
  );

  test('stdin and stdout: { file }', async () => {
    const out = path.join(dir, `out-${backend}.txt`);
    const options: Options = { backend, stdin: { file: path.join(dir, 'in.txt') }, stdout: { file: out } };
    const sync = forkBeforeExecSync('cat', options);
    expect(readFileSync(out, 'utf8')).toBe('from a file\n');
    rmSync(out);
    const async = await forkBeforeExec('cat', options);
    expect(readFileSync(out, 'utf8')).toBe('from a file\n');
    expect(view(sync)).toEqual(view(async));
    expect(sync.stdout).toBe('');
  });
});

describe('forkBeforeExecSync: wrong input is a typed error at the call, as forkBeforeExec rejects with', () => {
  const BAD: [string, unknown, unknown, unknown][] = [
    ['file not a string', 123, [], {}],
    ['file empty', '', [], {}],
    ['args not an array', 'true', 'x', undefined],
    ['an argument with a NUL byte', 'echo', ['a\0b'], {}],
    ['options not an object', 'true', [], 'x'],
    ['a negative timeout', 'true', [], { timeout: -1 }],
    ['maxBuffer not a number', 'true', [], { maxBuffer: 'x' }],
    ['an unknown encoding', 'true', [], { encoding: 'nope' }],
    ["lines with encoding 'buffer'", 'true', [], { lines: true, encoding: 'buffer' }],
    ['shell', 'true', [], { shell: true }],
    ['an env key with =', 'true', [], { env: { 'A=B': 'x' } }],
    ["input with stdin 'inherit'", 'cat', [], { input: 'x', stdin: 'inherit' }],
    ['an unknown killSignal', 'true', [], { killSignal: 'SIGNOPE' }],
    ['an action the backend lacks', 'true', [], { backend: 'node', actions: [{ op: 'setrlimit' }] }],
    ['an unknown backend', 'true', [], { backend: 'forkexec-no-such-backend' }],
  ];
  test.each(BAD)('%s', async (_, file, args, options) => {
    const sync = outcomeSync(file, args, options);
    expect(sync.threw).toEqual(expect.objectContaining({ code: expect.stringMatching(/^FORKEXEC_/) }));
    expect(sync).toEqual(await outcomeAsync(file, args, options));
  });

  test.each([
    ['cancelSignal', { cancelSignal: new AbortController().signal }],
    ['signal', { signal: new AbortController().signal }],
    ['buffer: false', { buffer: false }],
    ['forceKillAfterDelay', { forceKillAfterDelay: 1000 }],
  ] as [string, Options][])('%s needs the event loop: refused by name', (name, options) => {
    expect(() => forkBeforeExecSync('true', options)).toThrow(
      expect.objectContaining({
        code: 'FORKEXEC_INVALID_ARGUMENT',
        message: expect.stringContaining(`${name} cannot be used with forkBeforeExecSync`),
      }),
    );
  });

  test('forceKillAfterDelay: false is what the sync call does anyway, and is taken', () => {
    expect(forkBeforeExecSync('true', { forceKillAfterDelay: false }).exitCode).toBe(0);
  });
});

test('a backend without spawnSync: the node backend runs the call, and the result says so', () => {
  const plain: Backend = { ...nodeBackend, name: 'plain', spawnSync: undefined };
  const result = forkBeforeExecSync('sh', ['-c', 'echo ok'], { backend: plain });
  expect(result).toMatchObject({ stdout: 'ok', backend: 'node', exitCode: 0 });
});
