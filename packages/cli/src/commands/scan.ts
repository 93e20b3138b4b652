import { formatReport, runScan } from '@forkexec/codemod';
import { ForkExecError } from '@forkexec/core';
import { type Command, InvalidArgumentError } from 'commander';

function jobsOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError('expected a whole number of worker threads (0: none)');
  return n;
}

/** A one-line progress display, on stderr and only on a terminal. */
function progressLine(): { update: (done: number, total: number, sites: number) => void; clear: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, clear: () => {} };
  let last = 0;
  return {
    update(done, total, sites) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      process.stderr.write(`\r\x1b[2Kscanning ${done}/${total} files, ${sites} fork sites`);
    },
    clear: () => process.stderr.write('\r\x1b[2K'),
  };
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description(
      'fork census: find every fork/vfork/forkpty site in C and JS/TS sources and classify it (does exec follow fork?)',
    )
    .argument('[paths...]', 'files and directories to scan', ['.'])
    .option('--json', 'print every site (file:line, function, class, operations, reason) and the summaries as JSON')
    .option('-j, --jobs <n>', 'worker threads (default: one per core)', jobsOption)
    .option('--top <n>', 'rows in the ranked tables', jobsOption, 20)
    .action(async (paths: string[], opts: { json?: boolean; jobs?: number; top: number }) => {
      const progress = progressLine();
      try {
        const report = await runScan(paths, { jobs: opts.jobs, onProgress: progress.update });
        progress.clear();
        process.stdout.write(
          opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, { top: opts.top }),
        );
      } catch (error) {
        progress.clear();
        if (!(error instanceof ForkExecError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 2;
      }
    });
}
