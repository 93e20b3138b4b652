import {
  formatReport,
  mergeScanShards,
  parseShard,
  runScan,
  runScanShard,
  type ScanReport,
  type Shard,
} from '@forkexec/codemod';
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

function shardOption(value: string): Shard {
  try {
    return parseShard(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^forkexec scan: --shard /, ''));
  }
}

/** Runs one scan step; forkexec's typed errors (a missing path, a bad shard file) exit 2 with their message. */
async function guarded(step: () => Promise<string>, clear = () => {}): Promise<void> {
  try {
    const out = await step();
    clear();
    process.stdout.write(out);
  } catch (error) {
    clear();
    if (!(error instanceof ForkExecError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  }
}

const printed = (report: ScanReport, opts: { json?: boolean; top: number }) =>
  opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, { top: opts.top });

export function registerScan(program: Command): void {
  const scan = program
    .command('scan')
    .description(
      'fork census: find every fork/vfork/forkpty site in C and JS/TS sources and classify it (does exec follow fork?)',
    )
    .argument('[paths...]', 'files and directories to scan', ['.'])
    .option('--json', 'print every site (file:line, function, class, operations, reason) and the summaries as JSON')
    .option('-j, --jobs <n>', 'worker threads (default: one per core)', jobsOption)
    .option('--top <n>', 'rows in the ranked tables', jobsOption, 20)
    .option(
      '--shard <I/N>',
      'scan only the I-th of N equal shares of the files and print that shard as JSON, for `forkexec scan merge`',
      shardOption,
    )
    .action(async (paths: string[], opts: { json?: boolean; jobs?: number; top: number; shard?: Shard }) => {
      const progress = progressLine();
      await guarded(async () => {
        if (opts.shard) {
          const shard = await runScanShard(paths, opts.shard, { jobs: opts.jobs, onProgress: progress.update });
          return `${JSON.stringify(shard)}\n`;
        }
        return printed(await runScan(paths, { jobs: opts.jobs, onProgress: progress.update }), opts);
      }, progress.clear);
    });
  scan
    .command('merge')
    .description(
      'the census of all shards: the JSON files of `forkexec scan --shard I/N` for I = 1..N in, the report out',
    )
    .argument('<files...>', "the shards' JSON files, in any order")
    .option('--json', 'print the report as JSON, as `forkexec scan --json` does')
    .option('--top <n>', 'rows in the ranked tables', jobsOption, 20)
    .action(async (files: string[], opts: { json?: boolean; top: number }) => {
      await guarded(async () => printed(await mergeScanShards(files), opts));
    });
}
