import type { ChildProcess, ExecFileException } from 'node:child_process';
import { getSystemErrorName, promisify } from 'node:util';
import { nodeChildProcess } from './node-child-process.js';
import { maxBufferError, signalNumberOf } from './node-errors.js';
import { countNode, type DropInFunction } from './report.js';
import { isObject, spawnVia } from './spawn.js';

type Callback = (error: ExecFileException | null, stdout: string | Buffer, stderr: string | Buffer) => void;

interface ExecFileCall {
  file: string;
  args: string[];
  options: Record<string, unknown>;
  callback: Callback | undefined;
}

/**
 * execFile's arguments sorted out as Node does (args and options may be left out), or undefined
 * when Node would refuse them: Node's own execFile then throws its error.
 */
export function sortExecFileArgs(
  file: unknown,
  args: unknown,
  options: unknown,
  callback: unknown,
): ExecFileCall | undefined {
  if (!Array.isArray(args)) {
    if (typeof args === 'object' && args !== null) [callback, options, args] = [options, args, []];
    else if (typeof args === 'function') [callback, options, args] = [args, undefined, []];
    else if (args == null) args = [];
    else return undefined;
  }
  if (typeof options === 'function') [callback, options] = [options, undefined];
  options ??= {};
  if (!isObject(options) || (callback != null && typeof callback !== 'function')) return undefined;
  const { timeout, maxBuffer, killSignal, argv0 } = options;
  if (timeout != null && !(Number.isInteger(timeout) && (timeout as number) >= 0)) return undefined;
  if (maxBuffer != null && !(typeof maxBuffer === 'number' && maxBuffer >= 0)) return undefined;
  if (argv0 != null && (typeof argv0 !== 'string' || argv0.includes('\0'))) return undefined;
  if (killSignal != null) {
    try {
      signalNumberOf(killSignal);
    } catch {
      return undefined;
    }
  }
  return {
    file: file as string,
    args: [...(args as string[])],
    options,
    callback: (callback ?? undefined) as Callback | undefined,
  };
}

/**
 * Node's execFile on top of this module's spawn: output collected up to maxBuffer (1 MiB by
 * default, per stream), a timeout that kills with killSignal, and the callback's error shaped as
 * Node's ("Command failed: ...", code, killed, signal, cmd).
 */
function execFileVia(fn: DropInFunction, ...params: unknown[]): ChildProcess {
  const call = sortExecFileArgs(params[0], params[1], params[2], params[3]);
  if (!call) {
    countNode(fn, 'arguments Node validates');
    return (nodeChildProcess.execFile as (...a: unknown[]) => ChildProcess)(...params);
  }
  const { file, args, options, callback } = call;
  // Node spreads the options over its defaults: an own `undefined` replaces the default.
  const given = (key: string, fallback: unknown) => (Object.hasOwn(options, key) ? options[key] : fallback);
  const requested = given('encoding', 'utf8');
  const encoding =
    requested !== 'buffer' && Buffer.isEncoding(requested as string) ? (requested as BufferEncoding) : null;
  const maxBuffer = given('maxBuffer', 1024 * 1024) as number | undefined; // undefined: no limit
  const killSignal = (options.killSignal as NodeJS.Signals | number | undefined) ?? 'SIGTERM';
  const child = spawnVia(fn, file, args, {
    cwd: options.cwd ?? null,
    env: options.env ?? null,
    gid: options.gid,
    shell: options.shell ?? false,
    signal: options.signal,
    uid: options.uid,
    windowsHide: !!options.windowsHide,
    windowsVerbatimArguments: !!options.windowsVerbatimArguments,
  });

  const chunks: { stdout: (string | Buffer)[]; stderr: (string | Buffer)[] } = { stdout: [], stderr: [] };
  let error: Error | null = null;
  let killedByUs = false;
  let done = false;
  let timer: NodeJS.Timeout | undefined;

  const output = (name: 'stdout' | 'stderr') =>
    encoding || child[name]?.readableEncoding ? chunks[name].join('') : Buffer.concat(chunks[name] as Buffer[]);
  const finish = (code?: number | null, signal?: NodeJS.Signals | null) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (!callback) return;
    const stdout = output('stdout');
    const stderr = output('stderr');
    if (!error && code === 0 && signal === null) return callback(null, stdout, stderr);
    const cmd = args.length ? `${file} ${args.join(' ')}` : file;
    if (!error) {
      error = Object.assign(new Error(`Command failed: ${cmd}\n${String(stderr)}`), {
        code: code! < 0 ? getSystemErrorName(code!) : code,
        killed: child.killed || killedByUs,
        signal,
      });
    }
    callback(Object.assign(error, { cmd }) as ExecFileException, stdout, stderr);
  };
  const kill = () => {
    child.stdout?.destroy();
    child.stderr?.destroy();
    killedByUs = true;
    try {
      child.kill(killSignal);
    } catch (thrown) {
      error = thrown as Error;
      finish();
    }
  };
  const timeout = (options.timeout as number | undefined) ?? 0;
  if (timeout > 0) timer = setTimeout(kill, timeout);

  for (const name of ['stdout', 'stderr'] as const) {
    const stream = child[name];
    if (!stream) continue;
    if (encoding) stream.setEncoding(encoding);
    let length = 0;
    stream.on('data', (chunk: string | Buffer) => {
      if (maxBuffer === Infinity) return void chunks[name].push(chunk);
      const size = typeof chunk === 'string' ? Buffer.byteLength(chunk, stream.readableEncoding!) : chunk.length;
      length += size;
      if (maxBuffer === undefined || length <= maxBuffer) return void chunks[name].push(chunk);
      chunks[name].push(chunk.slice(0, maxBuffer - (length - size)));
      error = maxBufferError(name);
      kill();
    });
  }
  child.on('close', finish);
  child.on('error', (thrown: Error) => {
    error = thrown;
    child.stdout?.destroy();
    child.stderr?.destroy();
    finish();
  });
  return child;
}

/** util.promisify(execFile / exec): a promise of { stdout, stderr } with `child`; the error carries both outputs. */
function promisified(run: (...args: unknown[]) => ChildProcess) {
  return (...args: unknown[]) => {
    let child: ChildProcess;
    const promise = new Promise((resolve, reject) => {
      child = run(
        ...args,
        (error: (Error & { stdout?: unknown; stderr?: unknown }) | null, stdout: unknown, stderr: unknown) => {
          if (error === null) return resolve({ stdout, stderr });
          reject(Object.assign(error, { stdout, stderr }));
        },
      );
    }) as Promise<unknown> & { child: ChildProcess };
    promise.child = child!;
    return promise;
  };
}

/** exec(command, options?, callback?): `command` run by the platform shell (or `options.shell`). */
function execVia(command: unknown, options?: unknown, callback?: unknown): ChildProcess {
  if (typeof command !== 'string' || command.includes('\0')) {
    countNode('exec', 'arguments Node validates');
    return (nodeChildProcess.exec as (...a: unknown[]) => ChildProcess)(command, options, callback);
  }
  if (typeof options === 'function') [callback, options] = [options, undefined];
  const withShell = {
    ...(options as object),
    shell: typeof (options as { shell?: unknown })?.shell === 'string' ? (options as { shell: string }).shell : true,
  };
  return execFileVia('exec', command, withShell, callback);
}

export const execFile = ((...args: unknown[]) =>
  execFileVia('execFile', ...args)) as unknown as typeof import('node:child_process').execFile;
export const exec = execVia as unknown as typeof import('node:child_process').exec;
Object.defineProperty(execFile, promisify.custom, { value: promisified(execFile as never), enumerable: false });
Object.defineProperty(exec, promisify.custom, { value: promisified(exec as never), enumerable: false });
