import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, SpawnOptions, SpawnRequest } from './backend.js';
import { InvalidArgumentError, SpawnError } from './errors.js';
import type { FileTarget, Options, Result } from './options.js';
import { setPipeStarter } from './pipe.js';
import { buildRequest, explainFailure } from './request.js';
import { backendsSupporting, resolveBackend } from './select-backend.js';
import { Subprocess, type StartedChild } from './subprocess.js';
import { describe, validateOptions } from './validate-options.js';

/**
 * Resolves the backend (`choose` may put another in its place) and builds the request from options
 * already validated (validateOptions), then hands both to `run`, whose typed failure is retold with
 * the request (explainFailure). Throws synchronously.
 */
export function withRequest<T>(
  file: unknown,
  args: unknown,
  validated: Options,
  run: (backend: Backend, request: SpawnRequest) => T,
  choose?: (backend: Backend) => Backend,
): T {
  let options = validated;
  if (options.preferLocal) options = withLocalPath(options);
  const opened: number[] = [];
  try {
    // `{ file }` targets are objects: the usual call, with none, makes no call for them.
    if (typeof options.stdin === 'object' || typeof options.stdout === 'object' || typeof options.stderr === 'object')
      options = withFileTargets(options, opened);
    const resolved = resolveBackend(options.backend);
    const backend = choose ? choose(resolved) : resolved;
    const request = buildRequest(file, args, options, backend, backendsSupporting);
    try {
      return run(backend, request);
    } catch (error) {
      throw explainFailure(error, request);
    }
  } finally {
    for (let i = 0; i < opened.length; i++) closeSync(opened[i]); // no iterator per call
  }
}

/** Resolves the backend, validates everything, and starts the child. Throws synchronously. */
export function startChild(
  file: unknown,
  args: unknown,
  given: Options,
  spawnOptions: SpawnOptions = {},
): StartedChild & { backendObject: Backend } {
  // A failure the backend reports later is retold by the caller (explainFailure with the request).
  return withRequest(file, args, validateOptions(given), (backend, request) => ({
    child: backend.spawn(request, spawnOptions),
    backend: backend.name,
    request,
    backendObject: backend,
  }));
}

/**
 * `preferLocal`: the child's environment with `node_modules/.bin` of cwd and each parent, then the
 * running Node's directory, first in its PATH (as execa's npm-run-path, which Jest cannot load).
 */
function withLocalPath(options: Options): Options {
  const env = { ...(options.extendEnv === false ? {} : process.env), ...options.env };
  const { cwd } = options;
  const dirs: string[] = [];
  for (let dir = path.resolve(cwd instanceof URL ? fileURLToPath(cwd) : (cwd ?? '.')); ; dir = path.dirname(dir)) {
    dirs.push(path.join(dir, 'node_modules', '.bin'));
    if (dir === path.dirname(dir)) break;
  }
  dirs.push(path.dirname(process.execPath));
  // Windows spells it Path: the key the environment has, whatever its case.
  const key = Object.keys(env).find((name) => name.toUpperCase() === 'PATH') ?? 'PATH';
  const rest = env[key];
  return {
    ...options,
    env: { ...env, [key]: [...dirs, ...(rest ? [rest] : [])].join(path.delimiter) },
    extendEnv: false,
  };
}

const STANDARD_STREAMS = ['stdin', 'stdout', 'stderr'] as const;

function isFileTarget(value: unknown): value is FileTarget {
  return typeof value === 'object' && value !== null && 'file' in value;
}

/**
 * `stdin`/`stdout`/`stderr: { file }`: the file opened here (against the caller's cwd, as execa
 * does), its fd given as that stream. The fds are pushed on `opened`: backends copy the fds they
 * are given, so the caller closes them once `spawn` returned.
 */
function withFileTargets(options: Options, opened: number[]): Options {
  if (!isFileTarget(options.stdin) && !isFileTarget(options.stdout) && !isFileTarget(options.stderr)) return options;
  const changed: Options = { ...options };
  STANDARD_STREAMS.forEach((name, slot) => {
    const target = options[name];
    if (!isFileTarget(target)) return;
    const { file, append } = target;
    if (typeof file !== 'string' && !(file instanceof URL))
      throw new InvalidArgumentError(`${name}.file must be a path (a string or a file: URL), got ${typeof file}`);
    if (slot === 0 && options.input !== undefined)
      throw new InvalidArgumentError('input and stdin: { file } both give the child its stdin: pass one of them');
    const where = path.resolve(file instanceof URL ? fileURLToPath(file) : file);
    try {
      opened.push(openSync(where, slot === 0 ? 'r' : append ? 'a' : 'w'));
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      throw new SpawnError(`${name} file ${where} could not be opened (${errno})`, { errno, cause: error });
    }
    changed[name] = opened[opened.length - 1];
  });
  return changed;
}

/** The spawn options forkBeforeExec passes, made once (the backend only reads them). */
const OFF_LOOP: SpawnOptions = Object.freeze({ deferPid: true });
const ON_LOOP: SpawnOptions = Object.freeze({ deferPid: false });

/** What a result's stdout, stderr and all hold for options `O`. */
export type Output<O extends Options> = O extends { lines: true }
  ? string[]
  : O extends { encoding: 'buffer' }
    ? Buffer
    : string;

/**
 * Runs `file` with `args` as one fork-before-exec: the actions run in the child, in order,
 * between its creation and exec, on the fastest backend available (see README).
 *
 * ```ts
 * const { stdout } = await forkBeforeExec('git', ['status', '--short'], { cwd: repo });
 * ```
 */
export function forkBeforeExec<O extends Options = Options>(
  file: string,
  args?: readonly string[],
  options?: O,
): Subprocess<Output<O>>;
export function forkBeforeExec<O extends Options = Options>(file: string, options?: O): Subprocess<Output<O>>;
export function forkBeforeExec(
  file: string,
  argsOrOptions?: readonly string[] | Options,
  maybeOptions?: Options,
): Subprocess<string | Buffer | string[]> {
  const { args, options } = sortArguments(argsOrOptions, maybeOptions);
  return new Subprocess(typeof file === 'string' ? file : describe(file), args, options, () =>
    startChild(file, args, options, options.startOffLoop === false ? ON_LOOP : OFF_LOOP),
  );
}

/** `(file, args?, options?)` or `(file, options?)`, as execa takes them. */
export function sortArguments(
  argsOrOptions: readonly string[] | Options | undefined,
  maybeOptions: Options | undefined,
): { args: unknown; options: Options } {
  const optionsFirst = typeof argsOrOptions === 'object' && argsOrOptions !== null && !Array.isArray(argsOrOptions);
  return {
    args: optionsFirst || argsOrOptions === undefined ? [] : argsOrOptions,
    options: (optionsFirst ? (argsOrOptions as Options) : maybeOptions) ?? {},
  };
}

setPipeStarter(forkBeforeExec);

export type { Result };
