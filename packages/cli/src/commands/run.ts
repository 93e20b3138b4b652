import { forkBeforeExec, ForkExecError, signalNumber, SubprocessError, type Result } from '@forkexec/core';
import type { Command } from 'commander';

interface RunOptions {
  backend?: string;
  json?: boolean;
  cwd?: string;
  env: string[];
  timeout?: string;
}

/** Shell-style exit code for a result: the code, or 128 + the signal number. */
export function exitCodeOf(result: Pick<Result, 'exitCode' | 'signal'>): number {
  return result.signal ? 128 + signalNumber(result.signal) : (result.exitCode ?? 1);
}

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

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one program through a backend and exit with its exit code')
    .argument('<program>', 'program to run (searched in PATH)')
    .argument('[args...]', 'its arguments (put -- before them)')
    .option('-b, --backend <name>', 'backend: auto, node, ntdll, helper-exe, or a package name')
    .option('--json', 'capture the output and print the result as JSON')
    .option('--cwd <dir>', 'working directory of the program')
    .option('-e, --env <KEY=VALUE>', 'set a variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
    .option('--timeout <ms>', 'kill the program after this many milliseconds')
    .passThroughOptions()
    .action(async (file: string, args: string[], opts: RunOptions) => {
      try {
        const stdio = opts.json ? (['inherit', 'pipe', 'pipe'] as const) : ('inherit' as const);
        const child = forkBeforeExec(file, args, {
          backend: opts.backend,
          cwd: opts.cwd,
          env: parseEnv(opts.env),
          timeout: opts.timeout === undefined ? undefined : Number(opts.timeout),
          stdio: stdio === 'inherit' ? 'inherit' : [...stdio],
          reject: false,
        });
        await child.started; // a failed start comes as its error, with the whole message (not as a failed result)
        const result = await child;
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        process.exitCode = exitCodeOf(result);
      } catch (error) {
        if (!(error instanceof ForkExecError) || error instanceof SubprocessError) throw error;
        process.stderr.write(`forkexec: ${error.message}\n`);
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ error: { code: error.code, errno: error.errno, message: error.message } }, null, 2)}\n`,
          );
        process.exitCode = error.errno === 'ENOENT' ? 127 : error.code === 'FORKEXEC_SPAWN' ? 126 : 2;
      }
    });
}
