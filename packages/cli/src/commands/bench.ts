import type { Command } from 'commander';

// Placeholder: the bench command is being built (see the issues); it fails clearly until then.
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('(in progress) bench')
    .allowUnknownOption()
    .action(() => {
      process.stderr.write('forkexec bench: not available in this build yet\n');
      process.exitCode = 2;
    });
}
