import type { Command } from 'commander';

// Placeholder: the scan command is being built (see the issues); it fails clearly until then.
export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('(in progress) scan')
    .allowUnknownOption()
    .action(() => {
      process.stderr.write('forkexec scan: not available in this build yet\n');
      process.exitCode = 2;
    });
}
