import type { Command } from 'commander';

// Placeholder: the codemod command is being built (see the issues); it fails clearly until then.
export function registerCodemod(program: Command): void {
  program
    .command('codemod')
    .description('(in progress) codemod')
    .allowUnknownOption()
    .action(() => {
      process.stderr.write('forkexec codemod: not available in this build yet\n');
      process.exitCode = 2;
    });
}
