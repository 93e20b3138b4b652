import {
  ChildProcess,
  spawn as cpSpawn,
  spawnSync as cpSpawnSync,
  type SpawnOptions,
  type StdioOptions,
} from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { devNull, constants as osConstants } from 'node:os';
import { openFlagsNumber, type ActionOp } from './actions.js';
import type { Backend, ExitStatus, SpawnRequest, SpawnedChild, SyncSpawnOptions, SyncSpawnResult } from './backend.js';
import { errnoName, InvalidArgumentError, SpawnError, spawnHint, UnsupportedActionError } from './errors.js';
import { windowsKillSignal } from './windows-signals.js';

type Slot = 'pipe' | 'ignore' | number;

// On Windows child_process has no signal dispositions, masks or credentials; setsid stays (a detached process group).
const ACTIONS: ActionOp[] =
  process.platform === 'win32'
    ? ['dup2', 'close', 'open', 'chdir', 'setsid']
    : ['dup2', 'close', 'open', 'chdir', 'setsid', 'sigdefault', 'sigmask', 'setuid', 'setgid'];

/**
 * Translates the action list into child_process options by replaying it on a table of the
 * child's fds. Throws for what child_process cannot express exactly.
 */
function translate(request: SpawnRequest, opened: number[]): SpawnOptions {
  const slots = new Map<number, Slot>(request.stdio.map((s, fd) => [fd, s === 'inherit' ? fd : s]));
  // child_process copies the environment itself: the parent's needs no copy from core first.
  const options: SpawnOptions = {
    env: request.inheritsEnv ? process.env : request.env,
    argv0: request.argv[0],
    windowsHide: true,
  };
  const unsupported = (index: number, why: string): never => {
    throw new UnsupportedActionError(index, why, {
      command: request.command,
      hint: 'Use the ntdll or helper-exe backend for this action.',
    });
  };
  const slotOf = (fd: number): Slot => (slots.has(fd) ? slots.get(fd)! : fd);

  request.actions.forEach((action, index) => {
    switch (action.op) {
      case 'dup2': {
        let source = slotOf(action.from);
        if (source === 'pipe')
          unsupported(
            index,
            `dup2(${action.from}, ${action.to}): the node backend cannot share a pipe between two fds`,
          );
        if (source === 'ignore' && action.from > 2)
          unsupported(index, `dup2(${action.from}, ${action.to}): fd ${action.from} is closed in the child`);
        if (source === 'ignore' && action.to > 2) {
          // An ignored standard fd is /dev/null, but child_process leaves an ignored fd above 2 closed.
          source = openSync(devNull, 'r+');
          opened.push(source);
        }
        // Also for dup2(fd, fd): it makes a parent fd inherited, as posix_spawn's adddup2 does.
        slots.set(action.to, source);
        break;
      }
      case 'open': {
        let fd: number;
        try {
          fd = openSync(action.path, openFlagsNumber(action.flags), action.mode ?? 0o666);
        } catch (error) {
          // Opened here, in the parent: the failure is the action's, as the child's would be on the other backends.
          const errno = (error as NodeJS.ErrnoException).code ?? 'EIO';
          throw new SpawnError(`actions[${index}] (open) failed: ${errno}`, {
            errno,
            actionIndex: index,
            command: request.command,
            cause: error,
          });
        }
        opened.push(fd);
        slots.set(action.fd, fd);
        break;
      }
      case 'close':
        if (action.fd <= 2)
          unsupported(
            index,
            `close(${action.fd}): child_process puts /dev/null on a standard fd instead of closing it`,
          );
        slots.delete(action.fd);
        break;
      case 'chdir':
        options.cwd = action.path;
        break;
      case 'setsid':
        options.detached = true;
        break;
      case 'setuid':
        options.uid = action.uid;
        break;
      case 'setgid':
        options.gid = action.gid;
        break;
      case 'sigdefault':
        break; // libuv resets every signal disposition in the child anyway
      case 'sigmask':
        if (action.signals.length)
          unsupported(index, 'sigmask: child_process always starts the child with an empty signal mask');
        break;
      default:
        unsupported(index, `the node backend cannot carry out ${action.op}`);
    }
  });
  const top = Math.max(2, ...slots.keys());
  const stdio: Slot[] = Array.from({ length: top + 1 }, (_, fd) => slots.get(fd) ?? 'ignore');
  options.stdio = stdio as StdioOptions;
  return options;
}

type StdioHandles = { stdio?: { type?: string; handle?: { close(): void } }[] };
const spawnMethod = ChildProcess.prototype as unknown as { spawn(this: ChildProcess, options: StdioHandles): unknown };
const { EMFILE, ENFILE } = osConstants.errno;

/**
 * child_process.spawn, minus a leak in Node (20 to 24 at least): when libuv fails with EMFILE or
 * ENFILE after it made the stdio pipes, ChildProcess returns early and never closes them, so
 * one fd per pipe is lost for good. Closes them; the patch lives only for this synchronous call.
 */
function spawnClosingLeakedPipes(file: string, args: string[], options: SpawnOptions): ChildProcess {
  const original = spawnMethod.spawn;
  spawnMethod.spawn = function (normalized) {
    const result = original.call(this, normalized);
    if (result === -EMFILE || result === -ENFILE)
      for (const slot of normalized.stdio ?? []) if (slot.type === 'pipe') slot.handle?.close();
    return result;
  };
  try {
    return cpSpawn(file, args, options);
  } finally {
    spawnMethod.spawn = original;
  }
}

/**
 * libuv's errno for an error it has no name for. Wine gives ERROR_INTERNAL_ERROR for a process that
 * died while it was starting (a CI run: 1 spawn in about 1,100), which arrives as this. A start that
 * failed left nothing behind, so it is made again, as the ntdll backend falls back to
 * RtlCreateUserProcess and fxhelper-win retries CreateProcessW.
 */
const UV_UNKNOWN = -4094;
const START_TRIES = 3;

function spawnRetryingUnknown(file: string, args: string[], options: SpawnOptions): ChildProcess {
  for (let tries = 1; ; tries++) {
    try {
      return spawnClosingLeakedPipes(file, args, options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).errno !== UV_UNKNOWN || tries === START_TRIES) throw error;
    }
  }
}

/** U+10FFFF: libuv on Windows aborts the whole process on it (its WTF-8 to UTF-16 conversion asserts `< 0x10FFFF`). */
const LIBUV_ABORTS_ON = '\u{10FFFF}';

/** Refuses, naming it, a string child_process on Windows would crash the process with. */
function refuseWhatLibuvAbortsOn(request: SpawnRequest): void {
  const check = (value: string, what: string) => {
    if (value.includes(LIBUV_ABORTS_ON))
      throw new InvalidArgumentError(
        `${what} contains U+10FFFF, which child_process on Windows cannot pass: libuv aborts the process on it`,
        {
          command: request.command,
          hint: 'The ntdll backend passes it.',
        },
      );
  };
  check(request.file, 'file');
  request.argv.forEach((arg, i) => check(arg, i === 0 ? 'argv0' : `args[${i - 1}]`));
  for (const [key, value] of Object.entries(request.inheritsEnv ? process.env : request.env)) {
    check(key, `env key ${JSON.stringify(key)}`);
    if (value !== undefined) check(value, `env.${key}`);
  }
  for (const action of request.actions) if ('path' in action) check(action.path, `${action.op} path`);
}

/** A start that child_process refused, synchronously (a thrown error) or asynchronously (an 'error' event). */
function startFailure(request: SpawnRequest, error: NodeJS.ErrnoException): SpawnError {
  const errno = typeof error.errno === 'number' ? errnoName(error.errno) : error.code;
  return new SpawnError(`could not start ${request.file}: ${error.message}`, {
    errno,
    command: request.command,
    hint: spawnHint(errno),
    cause: error,
  });
}

/**
 * Backend.spawnSync on child_process.spawnSync. Node counts stdout and stderr together against its
 * maxBuffer: for `maxBufferPerStream` it is given twice that (both streams together can only pass
 * it when one of them went over), and each stream is cut to the limit afterwards. So the child is
 * killed later than the other backends kill it; its result is cut and flagged the same. `all` is
 * stdout then stderr (spawnSync does not tell the order they came in).
 */
function spawnSync(request: SpawnRequest, options: SyncSpawnOptions): SyncSpawnResult {
  if (process.platform === 'win32') refuseWhatLibuvAbortsOn(request);
  const perStream = options.maxBufferPerStream ?? Infinity;
  const opened: number[] = [];
  let ran;
  try {
    ran = cpSpawnSync(request.file, request.argv.slice(1), {
      ...translate(request, opened),
      input: options.input,
      timeout: options.timeout,
      killSignal: options.killSignal,
      maxBuffer: Math.min(options.maxBuffer || Infinity, Math.max(2 * perStream, 1)),
    });
  } catch (error) {
    if (error instanceof UnsupportedActionError || error instanceof SpawnError) throw error;
    throw startFailure(request, error as NodeJS.ErrnoException);
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  const failed = ran.error as NodeJS.ErrnoException | undefined;
  if (failed && !ran.pid) throw startFailure(request, failed);
  let overflow: SyncSpawnResult['overflow'];
  const cut = (output: Buffer | null, name: 'stdout' | 'stderr') => {
    if (!output || output.length <= perStream) return output;
    overflow ??= name;
    return output.subarray(0, perStream);
  };
  const stdout = cut(ran.stdout as Buffer | null, 'stdout');
  const stderr = cut(ran.stderr as Buffer | null, 'stderr');
  const error = failed?.code ?? (overflow && 'ENOBUFS');
  return {
    pid: ran.pid,
    exitCode: ran.status,
    signal: ran.signal,
    stdout,
    stderr,
    ...(error && { error }),
    ...(overflow && { overflow }),
    ...(options.all && { all: Buffer.concat([stdout ?? Buffer.alloc(0), stderr ?? Buffer.alloc(0)]) }),
  };
}

/** The portable backend: Node's child_process (fork+exec under the hood on Linux, so its cost grows with the parent). */
export const nodeBackend: Backend = {
  name: 'node',
  capabilities: {
    platforms: ['linux', 'darwin', 'freebsd', 'openbsd', 'sunos', 'aix', 'win32'],
    actions: ACTIONS,
    pidBeforeExec: false,
    flatCost: process.platform === 'win32',
  },
  probe: () => ({ ok: true, detail: 'child_process' }),
  spawn(request: SpawnRequest): SpawnedChild {
    if (process.platform === 'win32') refuseWhatLibuvAbortsOn(request);
    const opened: number[] = [];
    let child;
    try {
      child = spawnRetryingUnknown(request.file, request.argv.slice(1), translate(request, opened));
    } catch (error) {
      if (error instanceof UnsupportedActionError || error instanceof SpawnError) throw error;
      throw startFailure(request, error as NodeJS.ErrnoException);
    } finally {
      for (const fd of opened) closeSync(fd);
    }
    const exited = new Promise<ExitStatus>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (child.pid === undefined) reject(startFailure(request, error));
      });
      child.once('exit', (exitCode, signal) => resolve({ exitCode, signal }));
    });
    return {
      pid: child.pid,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      kill: (signal = 'SIGTERM') => {
        if (process.platform === 'win32') windowsKillSignal(signal, request.command); // throws for what libuv cannot deliver
        return child.kill(signal);
      },
      ref: () => child.ref(),
      unref: () => child.unref(),
    };
  },
  spawnSync,
};
