import type { Backend, SpawnOptions } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import type { Options, Result } from './options.js';
import { buildRequest, explainFailure } from './request.js';
import { backendsSupporting, resolveBackend } from './select-backend.js';
import { Subprocess, type StartedChild } from './subprocess.js';

/** Resolves the backend, validates everything, and starts the child. Throws synchronously. */
export function startChild(
  file: unknown,
  args: unknown,
  options: Options,
  spawnOptions: SpawnOptions = {},
): StartedChild & { backendObject: Backend } {
  if ((options as { shell?: unknown }).shell)
    throw new InvalidArgumentError(
      'forkBeforeExec runs no shell: run one explicitly, forkBeforeExec("/bin/sh", ["-c", command]) (cmd.exe with ["/d", "/s", "/c", command] on Windows), or use exec() from @forkexec/core/child_process',
    );
  if (options.cancelSignal && options.signal && options.cancelSignal !== options.signal)
    throw new InvalidArgumentError('cancelSignal and signal are the same option: give one of them');
  const backend = resolveBackend(options.backend);
  const request = buildRequest(file, args, options, backend, backendsSupporting);
  let child;
  try {
    child = backend.spawn(request, spawnOptions);
  } catch (error) {
    throw explainFailure(error, request);
  }
  // A failure the backend reports later is retold by the caller (explainFailure with the request).
  return { child, backend: backend.name, request, backendObject: backend };
}

/** The spawn options forkBeforeExec passes, made once (the backend only reads them). */
const OFF_LOOP: SpawnOptions = Object.freeze({ deferPid: true });
const ON_LOOP: SpawnOptions = Object.freeze({ deferPid: false });

type Output<O extends Options> = O extends { encoding: 'buffer' } ? Buffer : string;

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
): Subprocess<string | Buffer> {
  const optionsFirst = typeof argsOrOptions === 'object' && argsOrOptions !== null && !Array.isArray(argsOrOptions);
  const args: unknown = optionsFirst || argsOrOptions === undefined ? [] : argsOrOptions;
  const options = (optionsFirst ? (argsOrOptions as Options) : maybeOptions) ?? {};
  return new Subprocess(String(file), args, options, () =>
    startChild(file, args, options, options.startOffLoop === false ? ON_LOOP : OFF_LOOP),
  );
}

export type { Result };
