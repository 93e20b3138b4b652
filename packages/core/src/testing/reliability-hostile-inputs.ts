/** The hostile inputs: each must get a typed error naming the culprit before anything runs. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Action } from '../actions.js';
import { MAX_FD } from '../actions.js';
import { forkBeforeExec } from '../fork-before-exec.js';
import type { Options } from '../options.js';
import type { Subprocess } from '../subprocess.js';
import type { ReliabilityContext } from './reliability-context.js';

export interface HostileCase {
  name: string;
  /** Runs forkBeforeExec with the bad input. */
  start: () => Subprocess<string | Buffer>;
  code: string;
  /** Text the message must contain: the argument, variable, path or action at fault. */
  culprit: string;
  /** The errno, or the errnos backends legitimately differ on (said why where listed). */
  errno?: string | string[];
  actionIndex?: number;
  /** Where the case means what it says: POSIX exec rules, or Windows process creation. Default: both. */
  only?: 'posix' | 'win32';
  /** Only exec itself can tell: a backend with a pid before exec (a pre-started helper) has one. */
  atExec?: boolean;
}

/** What the inputs are made with: the backend under test, the probe, scratch files. */
function makers(ctx: ReliabilityContext) {
  const backend = () => ctx.backend();
  const probe = (args: unknown[], opts: Options = {}) =>
    forkBeforeExec(ctx.probe(), args as string[], { backend: backend(), ...opts });
  const exit0 = (opts: Options) => probe(['exit', '0'], opts);
  const file = (name: string, content: string, mode: number) => {
    const p = path.join(ctx.tmp(), name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };
  const big = 'x'.repeat(200_000);
  const exe = (name: string, content: string) => file(`${name}.exe`, content, 0o755);
  /** A PATH that finds the probe by its bare name, and a cwd without it: no lookup may happen when it is disabled. */
  const findable = () => {
    const elsewhere = path.join(ctx.tmp(), 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    return { env: { PATH: path.dirname(ctx.probe()), PATHEXT: '.EXE' }, cwd: elsewhere };
  };
  return { ctx, backend, probe, exit0, file, big, exe, findable };
}

type Makers = ReturnType<typeof makers>;

/** Every hostile input, for every platform (a case's `only` says where it applies). */
export function hostileInputs(ctx: ReliabilityContext): HostileCase[] {
  const m = makers(ctx);
  return [
    ...argumentInputs(m),
    ...programInputs(m),
    ...stdioInputs(m),
    ...optionInputs(m),
    ...actionInputs(m),
    ...windowsInputs(m),
  ];
}

/** Bad file names, arguments, environment and cwd, and strings over the exec limits. */
function argumentInputs({ ctx, backend, probe, exit0, big }: Makers): HostileCase[] {
  return [
    {
      name: 'empty file name',
      start: () => forkBeforeExec('', [], { backend: backend() }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'file',
    },
    {
      name: 'NUL in the file name',
      start: () => forkBeforeExec('/bin/tr\0ue', [], { backend: backend() }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'file',
    },
    {
      name: 'NUL in an argument',
      start: () => probe(['echo', 'a\0b']),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'args[1]',
    },
    {
      name: 'lone high surrogate in an argument',
      start: () => probe(['echo', 'x\uD800']),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'args[1]',
    },
    {
      name: 'lone low surrogate in an argument',
      start: () => probe(['\uDC00']),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'args[0]',
    },
    {
      name: 'non-string argument',
      start: () => probe(['exit', 0]),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'args[1]',
    },
    {
      name: 'args not an array',
      start: () => forkBeforeExec(ctx.probe(), 'exit 0' as unknown as string[], { backend: backend() }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'args',
    },
    {
      name: 'NUL in argv0',
      start: () => exit0({ argv0: 'a\0b' }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'argv0',
    },
    {
      name: 'NUL in an env value',
      start: () => exit0({ env: { BAD_VALUE: 'x\0y' } }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'env.BAD_VALUE',
    },
    {
      name: 'lone surrogate in an env value',
      start: () => exit0({ env: { SURROGATE: '\uDBFF' } }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'env.SURROGATE',
    },
    {
      name: 'non-string env value',
      start: () => exit0({ env: { NUMBER: 42 as unknown as string } }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'env.NUMBER',
    },
    {
      name: "env key with '='",
      start: () => exit0({ env: { 'A=B': 'x' } }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: '"A=B"',
    },
    {
      name: 'empty env key',
      start: () => exit0({ env: { '': 'x' } }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'env key ""',
    },
    {
      name: 'NUL in an env key',
      start: () => exit0({ env: { 'K\0': 'x' } }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'env key "K\\u0000"',
    },
    {
      name: 'lone surrogate in an env key',
      start: () => exit0({ env: { 'K\uD800': 'x' } }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'env key "K\\ud800"',
    },
    {
      name: 'env not an object',
      start: () => exit0({ env: 'A=1' as unknown as Record<string, string> }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'option `env` must be an object',
    },
    { name: 'NUL in cwd', start: () => exit0({ cwd: '/tmp\0/x' }), code: 'FORKEXEC_INVALID_ARGUMENT', culprit: 'cwd' },
    {
      name: 'missing cwd',
      start: () => exit0({ cwd: path.join(ctx.tmp(), 'no-such-dir') }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'no-such-dir',
      errno: 'ENOENT',
    },
    {
      name: 'cwd is a file',
      start: () => exit0({ cwd: ctx.probe() }),
      code: 'FORKEXEC_SPAWN',
      culprit: ctx.probe(),
      errno: 'ENOTDIR',
    },
    {
      only: 'posix',
      name: 'argument over the per-string limit (E2BIG)',
      start: () => probe(['echo', big]),
      code: 'FORKEXEC_SPAWN',
      culprit: 'args[1]',
      errno: 'E2BIG',
    },
    {
      only: 'posix',
      name: 'env value over the per-string limit (E2BIG)',
      start: () => exit0({ env: { HUGE_VALUE: big } }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'HUGE_VALUE',
      errno: 'E2BIG',
    },
    {
      only: 'posix',
      name: 'arguments over ARG_MAX together (E2BIG)',
      start: () => probe(Array.from({ length: 80 }, () => big.slice(0, 100_000))),
      code: 'FORKEXEC_SPAWN',
      culprit: 'argument',
      errno: 'E2BIG',
      atExec: true,
    },
  ];
}

/** Programs POSIX exec refuses: missing, not found without PATH lookup, not executable, scripts it must not hand to a shell. */
function programInputs({ ctx, backend, file }: Makers): HostileCase[] {
  return [
    {
      name: 'a missing program',
      start: () => forkBeforeExec('forkexec-no-such-program', [], { backend: backend() }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'forkexec-no-such-program',
      errno: 'ENOENT',
    },
    {
      name: 'a relative name with PATH lookup disabled',
      start: () => forkBeforeExec('fxprobe-relative', [], { backend: backend(), searchPath: false, cwd: ctx.tmp() }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'fxprobe-relative',
      errno: 'ENOENT',
    },
    {
      only: 'posix',
      name: 'a directory as the program',
      start: () => forkBeforeExec(ctx.tmp(), [], { backend: backend() }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'is a directory',
      errno: 'EACCES',
    },
    {
      only: 'posix',
      name: 'a file without exec permission',
      start: () => forkBeforeExec(file('no-exec', '#!/bin/sh\n', 0o644), [], { backend: backend() }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'no-exec',
      errno: 'EACCES',
    },
    {
      only: 'posix',
      name: 'a script without #! (ENOEXEC: never handed to /bin/sh)',
      start: () => forkBeforeExec(file('no-shebang', 'touch SHELL-RAN\n', 0o755), [], { backend: backend() }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'no-shebang',
      errno: 'ENOEXEC',
    },
    {
      only: 'posix',
      name: 'a script whose interpreter is missing',
      start: () =>
        forkBeforeExec(file('lost-interpreter', '#!/no/such/interpreter -x\n', 0o755), [], { backend: backend() }),
      code: 'FORKEXEC_SPAWN',
      culprit: '/no/such/interpreter',
      errno: 'ENOENT',
    },
    {
      only: 'posix',
      name: 'a script with an empty #! line',
      start: () => forkBeforeExec(file('empty-shebang', '#!\n', 0o755), [], { backend: backend() }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'empty #!',
      errno: 'ENOEXEC',
    },
  ];
}

/** Bad stdio: unknown words, fds out of range or not open, input with nothing to read it. */
function stdioInputs({ exit0 }: Makers): HostileCase[] {
  return [
    {
      name: "stdout 'bogus'",
      start: () => exit0({ stdout: 'bogus' as 'pipe' }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'stdout',
    },
    { name: 'stdout fd -1', start: () => exit0({ stdout: -1 }), code: 'FORKEXEC_INVALID_ARGUMENT', culprit: 'stdout' },
    {
      name: 'stderr fd 1.5',
      start: () => exit0({ stderr: 1.5 }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'stderr',
    },
    {
      name: 'stdin fd not open in the parent',
      start: () => exit0({ stdin: 987_654 }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'stdin',
      errno: 'EBADF',
    },
    {
      name: 'stdout fd beyond the fd range',
      start: () => exit0({ stdout: MAX_FD + 1 }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'stdout',
    },
    {
      name: 'stdio with two entries',
      start: () => exit0({ stdio: ['pipe', 'pipe'] as unknown as ['pipe', 'pipe', 'pipe'] }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'stdio',
    },
    {
      name: "input with stdin 'ignore'",
      start: () => exit0({ input: 'x', stdin: 'ignore' }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'input',
    },
  ];
}

/** Options of the wrong type or range: refused at the call, naming the option. */
function optionInputs({ exit0 }: Makers): HostileCase[] {
  return (
    [
      ['killSignal', 'SIGFOO'],
      ['killSignal', 0],
      ['signal', 'nope'],
      ['input', 123],
      ['timeout', -1],
      ['timeout', NaN],
      ['timeout', '100'],
      ['forceKillAfterDelay', -5],
      ['maxBuffer', -5],
      ['encoding', 'latin2'],
      ['reject', 'no'],
      ['backend', 42],
    ] as const
  ).map(([option, value]) => ({
    name: `option ${option}: ${typeof value} ${String(value)}`,
    start: () => exit0({ [option]: value } as unknown as Options),
    code: 'FORKEXEC_INVALID_ARGUMENT',
    culprit: `option \`${option}\``,
  }));
}

/** Bad actions, each refused with its index. */
function actionInputs({ exit0 }: Makers): HostileCase[] {
  return [
    {
      name: 'actions not an array',
      start: () => exit0({ actions: { op: 'close', fd: 3 } as unknown as Action[] }),
      code: 'FORKEXEC_INVALID_ARGUMENT',
      culprit: 'option `actions` must be an array',
    },
    {
      name: 'an unknown op',
      start: () => exit0({ actions: [{ op: 'fork' } as unknown as Action] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: '"fork"',
      actionIndex: 0,
    },
    {
      name: 'dup2 from -1',
      start: () =>
        exit0({
          actions: [
            { op: 'chdir', path: '/' },
            { op: 'dup2', from: -1, to: 1 },
          ],
        }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'from',
      actionIndex: 1,
    },
    {
      name: 'dup2 to beyond the fd range',
      start: () => exit0({ actions: [{ op: 'dup2', from: 1, to: MAX_FD + 1 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'to',
      actionIndex: 0,
    },
    {
      name: 'dup2 from a fractional fd',
      start: () => exit0({ actions: [{ op: 'dup2', from: 1.5, to: 3 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'from',
      actionIndex: 0,
    },
    {
      name: 'dup2 from a string',
      start: () => exit0({ actions: [{ op: 'dup2', from: '1' as unknown as number, to: 3 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'from',
      actionIndex: 0,
    },
    {
      name: 'dup2 from an fd not open in the parent',
      start: () => exit0({ actions: [{ op: 'dup2', from: 987_654, to: 5 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: '987654',
      errno: 'EBADF',
      actionIndex: 0,
    },
    {
      name: 'dup2 from an fd an earlier action closed',
      start: () =>
        exit0({
          actions: [
            { op: 'dup2', from: 0, to: 7 },
            { op: 'close', fd: 7 },
            { op: 'dup2', from: 7, to: 8 },
          ],
        }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'actions[1]',
      errno: 'EBADF',
      actionIndex: 2,
    },
    {
      name: 'close fd -1',
      start: () => exit0({ actions: [{ op: 'close', fd: -1 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'fd',
      actionIndex: 0,
    },
    {
      name: 'open with a relative path',
      start: () => exit0({ actions: [{ op: 'open', fd: 3, path: 'relative.txt' }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'relative.txt',
      actionIndex: 0,
    },
    {
      name: 'open with a NUL in the path',
      start: () => exit0({ actions: [{ op: 'open', fd: 3, path: '/tmp/a\0b' }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'NUL',
      actionIndex: 0,
    },
    {
      name: 'open with unknown flags',
      start: () => exit0({ actions: [{ op: 'open', fd: 3, path: '/dev/null', flags: 'rw+' }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'flags',
      actionIndex: 0,
    },
    {
      name: 'open with a mode beyond 0o7777',
      start: () => exit0({ actions: [{ op: 'open', fd: 3, path: '/dev/null', mode: 0o10000 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'mode',
      actionIndex: 0,
    },
    {
      name: 'chdir to a relative path',
      start: () => exit0({ actions: [{ op: 'chdir', path: '..' }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: '".."',
      actionIndex: 0,
    },
    {
      name: 'sigmask with an unknown signal name',
      start: () => exit0({ actions: [{ op: 'sigmask', signals: ['SIGNOPE' as NodeJS.Signals] }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'SIGNOPE',
      actionIndex: 0,
    },
    {
      name: 'sigdefault with signal number 999',
      start: () => exit0({ actions: [{ op: 'sigdefault', signals: [999] }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: '999',
      actionIndex: 0,
    },
    {
      name: 'setrlimit soft above hard',
      start: () => exit0({ actions: [{ op: 'setrlimit', resource: 'nofile', soft: 10, hard: 5 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'soft limit 10',
      actionIndex: 0,
    },
    {
      name: 'setuid -1',
      start: () => exit0({ actions: [{ op: 'setuid', uid: -1 }] }),
      code: 'FORKEXEC_INVALID_ACTION',
      culprit: 'uid',
      actionIndex: 0,
    },
  ];
}

/** What Windows process creation refuses: over-long command lines, programs cmd.exe would run. */
function windowsInputs({ ctx, backend, probe, file, exe, findable }: Makers): HostileCase[] {
  return [
    {
      only: 'win32',
      name: 'a command line over 32767 UTF-16 units (E2BIG)',
      start: () => probe(['echo', 'x'.repeat(40_000)]),
      code: 'FORKEXEC_SPAWN',
      culprit: 'args[1]',
      errno: 'E2BIG',
    },
    {
      only: 'win32',
      name: 'arguments over 32767 UTF-16 units together (E2BIG)',
      start: () => probe(Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(2_000, 'y'))),
      code: 'FORKEXEC_SPAWN',
      culprit: 'args[0]',
      errno: 'E2BIG',
    },
    {
      only: 'win32',
      name: 'a program PATH would find, with PATH lookup disabled',
      start: () =>
        forkBeforeExec(path.basename(ctx.probe(), '.exe'), [], {
          backend: backend(),
          searchPath: false,
          ...findable(),
        }),
      code: 'FORKEXEC_SPAWN',
      culprit: path.basename(ctx.probe(), '.exe'),
      errno: 'ENOENT',
    },
    // child_process (libuv) reports a directory as ENOENT and a file that is no image as EFTYPE; Node refuses .bat/.cmd files with EINVAL.
    {
      only: 'win32',
      name: 'a directory as the program',
      start: () => forkBeforeExec(ctx.tmp(), [], { backend: backend() }),
      code: 'FORKEXEC_SPAWN',
      culprit: ctx.tmp(),
      errno: ['EACCES', 'ENOENT'],
    },
    {
      only: 'win32',
      name: 'a .cmd script (never handed to cmd.exe)',
      start: () =>
        forkBeforeExec(file('script.cmd', 'echo SHELL-RAN> SHELL-RAN\r\n', 0o755), [], {
          backend: backend(),
          cwd: ctx.tmp(),
        }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'script.cmd',
      errno: ['ENOEXEC', 'EINVAL'],
    },
    {
      only: 'win32',
      name: 'a .bat script (never handed to cmd.exe)',
      start: () =>
        forkBeforeExec(file('script.bat', 'echo SHELL-RAN> SHELL-RAN\r\n', 0o755), ['&', 'echo'], {
          backend: backend(),
          cwd: ctx.tmp(),
        }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'script.bat',
      errno: ['ENOEXEC', 'EINVAL'],
    },
    {
      only: 'win32',
      name: 'an .exe that is not a Windows image',
      start: () =>
        forkBeforeExec(exe('not-an-image', 'echo SHELL-RAN> SHELL-RAN\r\n'), [], {
          backend: backend(),
          cwd: ctx.tmp(),
        }),
      code: 'FORKEXEC_SPAWN',
      culprit: 'not-an-image',
      errno: ['ENOEXEC', 'EFTYPE'],
    },
  ];
}
