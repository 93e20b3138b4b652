import { performance } from 'node:perf_hooks';
import { signalNumber } from './actions.js';
import type { SyncSpawnOptions } from './backend.js';
import { InvalidArgumentError } from './errors.js';
import { sortArguments, type Output } from './fork-before-exec.js';
import type { Options, Result } from './options.js';
import { formatCommand } from './request.js';
import { DEFAULT_MAX_BUFFER, endedResult, notStartedResult, shownArgs } from './result.js';
import { runChildSync } from './run-sync.js';
import { describe, validateOptions } from './validate-options.js';

/** Options that need the event loop to go on while the child runs: refused by name, never ignored. */
function refuseAsyncOnly(o: Options): void {
  const refused = (what: string, instead: string) =>
    new InvalidArgumentError(`${what} cannot be used with forkBeforeExecSync: ${instead}`);
  if (o.cancelSignal || o.signal)
    throw refused(o.cancelSignal ? 'cancelSignal' : 'signal', 'nothing can abort while it blocks (use timeout)');
  if (o.buffer === false)
    throw refused('buffer: false', "there are no streams to read (use stdout/stderr 'ignore' or 'inherit')");
  if (o.forceKillAfterDelay !== undefined && o.forceKillAfterDelay !== false)
    throw refused(
      'forceKillAfterDelay',
      'it sends killSignal once and waits, as spawnSync (use killSignal: "SIGKILL")',
    );
}

/**
 * forkBeforeExec, blocking until the child is reaped: the same options (but those that need the
 * event loop: cancelSignal, buffer: false, forceKillAfterDelay), and the same Result and errors.
 * The child is created by the backend's spawnSync (the node backend's when it has none) and its
 * output collected with a blocking poll.
 *
 * ```ts
 * const { stdout } = forkBeforeExecSync('git', ['rev-parse', 'HEAD'], { cwd: repo });
 * ```
 */
export function forkBeforeExecSync<O extends Options = Options>(
  file: string,
  args?: readonly string[],
  options?: O,
): Result<Output<O>>;
export function forkBeforeExecSync<O extends Options = Options>(file: string, options?: O): Result<Output<O>>;
export function forkBeforeExecSync(
  file: string,
  argsOrOptions?: readonly string[] | Options,
  maybeOptions?: Options,
): Result<string | Buffer | string[]> {
  const started = performance.now();
  const { args, options: given } = sortArguments(argsOrOptions, maybeOptions);
  const options = validateOptions(given);
  refuseAsyncOnly(options);
  const shownFile = typeof file === 'string' ? file : describe(file);
  const { input } = options;
  const sync: SyncSpawnOptions = {
    input: typeof input === 'string' ? Buffer.from(input) : input,
    timeout: options.timeout,
    killSignal: signalNumber(options.killSignal ?? 'SIGTERM'),
    maxBufferPerStream: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
    all: options.all,
  };
  let ran;
  try {
    ran = runChildSync(file, args, options, sync);
  } catch (error) {
    const shown = shownArgs(args);
    const command = formatCommand(shownFile, shown);
    const facts = { command, file: shownFile, args: shown.map(String), options, pid: undefined, started };
    return notStartedResult(error, { ...facts, backend: undefined });
  }
  const { request } = ran;
  const facts = { command: request.command, file: shownFile, args: request.argv.slice(1), options, started };
  return endedResult(
    { ...facts, pid: ran.pid, backend: ran.backend },
    {
      exitCode: ran.exitCode,
      signal: ran.signal,
      stdout: ran.stdout && [ran.stdout],
      stderr: ran.stderr && [ran.stderr],
      all: ran.all && [ran.all],
      // EPIPE (the child read not all of input) is no failure, as forkBeforeExec's: its exit status tells the story.
      timedOut: ran.error === 'ETIMEDOUT',
      isCanceled: false,
      overflow: ran.overflow,
    },
  );
}
