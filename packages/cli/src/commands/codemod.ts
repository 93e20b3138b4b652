import { runCodemod } from '@forkexec/codemod';
import { InvalidArgumentError } from '@forkexec/core';
import type { Command } from 'commander';

interface CodemodOptions {
  dry?: boolean;
  json?: boolean;
  failOnUnconverted?: boolean;
  module: string[];
  concurrency?: string;
}

export function registerCodemod(program: Command): void {
  program
    .command('codemod')
    .description('rewrite fork()+exec*() pairs into fork_before_exec (JS/TS, C), in place')
    .argument('[paths...]', 'files, folders or globs; folders respect .gitignore (default: .)')
    .option('--dry', 'write nothing; print a unified diff')
    .option('--json', 'print a machine-readable report instead of the summary')
    .option('--fail-on-unconverted', 'exit 1 when a fork site is left unconverted')
    .option(
      '-m, --module <name>',
      'another module whose fork/exec* count, besides @forkexec/core/posix (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [],
    )
    .option('--concurrency <n>', 'files processed at once (default: the number of CPUs)')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 a site left unconverted with --fail-on-unconverted, 2 usage or parse errors.',
    )
    .action(async (paths: string[], opts: CodemodOptions) => {
      const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
      if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
        const error = new InvalidArgumentError(
          `--concurrency expects a positive integer, got ${JSON.stringify(opts.concurrency)}`,
        );
        process.stderr.write(`forkexec codemod: ${error.message}\n`);
        process.exitCode = 2;
        return;
      }
      const report = await runCodemod({
        paths,
        dry: opts.dry,
        json: opts.json,
        failOnUnconverted: opts.failOnUnconverted,
        modules: opts.module.length ? opts.module : undefined,
        concurrency,
      });
      process.exitCode = report.exitCode;
    });
}
