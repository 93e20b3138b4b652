import { constants } from 'node:os';
import { forkBeforeExec, ForkExecError, resolveBackend, type Backend, type Subprocess } from '@forkexec/core';
import { InvalidArgumentError, type Command } from 'commander';

interface RunOptions {
  backend?: string;
  json?: boolean;
  cwd?: string;
  env: string[];
  timeout?: number;
}

/** timeout(1)'s status for a command it ended for taking too long. */
const TIMED_OUT_STATUS = 124;

/**
 * Signals a supervisor passes on to its child, as tini and timeout(1) do. On Windows a signal
 * to a child only ends it, so only the console's interrupts are passed on.
 */
const FORWARDED: NodeJS.Signals[] =
  process.platform === 'win32'
    ? ['SIGINT', 'SIGBREAK']
    : ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * Signals whose default action ends a process and which Node leaves at that default once no
 * listener is left: the supervisor dies of the same signal as its child (SIGUSR1 would start
 * Node's inspector instead, SIGPIPE is ignored by Node).
 */
const REPRODUCIBLE = new Set(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGKILL', 'SIGABRT', 'SIGALRM', 'SIGUSR2']);

function parseEnv(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw new ForkExecError('FORKEXEC_INVALID_ARGUMENT', `--env expects KEY=VALUE, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

function parseTimeout(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(ms <= 2 ** 31 - 1)) throw new InvalidArgumentError('expected a whole number of milliseconds, 0 to 2147483647.');
  return ms;
}

/** Passes the forwarded signals on to `child` until the returned function is called. */
function forwardSignals(child: Subprocess<string>): () => void {
  const handlers = FORWARDED.map((signal) => {
    const handler = () => {
      try {
        child.kill(signal);
      } catch {
        // the child is already gone: its exit ends the supervisor
      }
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

/** Ends this process as the child ended: by the same signal when Node lets it, else with 128 + its number. */
function dieLike(signal: NodeJS.Signals): void {
  process.exitCode = 128 + (constants.signals[signal] ?? 0);
  if (!REPRODUCIBLE.has(signal) || process.listenerCount(signal) > 0) return;
  process.kill(process.pid, signal); // a shell then sees the signal, as it would have without forkexec
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one program through a backend, as its supervisor: signals are passed on, its status returned')
    .argument('<program>', 'program to run (searched in PATH)')
    .argument('[args...]', 'its arguments (put -- before them)')
    .option('-b, --backend <name>', 'backend: auto, node, ntdll, helper-exe, or a package name')
    .option('--json', 'capture the output and print the result as JSON')
    .option('--cwd <dir>', 'working directory of the program')
    .option('-e, --env <KEY=VALUE>', 'set a variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--timeout <ms>', `end the program after this many milliseconds (status ${TIMED_OUT_STATUS})`, parseTimeout)
    .passThroughOptions()
    .action(async (file: string, args: string[], opts: RunOptions) => {
      let backend: Backend | undefined;
      let diedOf: NodeJS.Signals | undefined;
      try {
        backend = resolveBackend(opts.backend);
        const child = forkBeforeExec(file, args, {
          backend,
          cwd: opts.cwd,
          env: parseEnv(opts.env),
          timeout: opts.timeout,
          stdio: opts.json ? ['inherit', 'pipe', 'pipe'] : 'inherit',
          reject: false,
        });
        const stopForwarding = forwardSignals(child);
        // A failed start comes as its error, with the whole message (not as a failed result).
        const result = await child.started.then(() => child).finally(stopForwarding);
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        if (result.timedOut) {
          process.stderr.write(`forkexec: ${file} timed out after ${opts.timeout} ms and was ended\n`);
          process.exitCode = TIMED_OUT_STATUS;
        } else if (result.signal) diedOf = result.signal;
        else process.exitCode = result.exitCode ?? 1;
      } catch (error) {
        if (!(error instanceof ForkExecError)) throw error;
        process.stderr.write(`forkexec: ${error.message.split('\n')[0]}\n`);
        if (error.hint) process.stderr.write(`${error.hint}\n`);
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ error: { code: error.code, errno: error.errno, message: error.message } }, null, 2)}\n`,
          );
        process.exitCode = error.errno === 'ENOENT' ? 127 : error.code === 'FORKEXEC_SPAWN' ? 126 : 2;
      } finally {
        // A backend with helper processes would keep the CLI alive until they retire.
        await backend?.dispose?.();
      }
      if (diedOf) dieLike(diedOf);
    });
}
