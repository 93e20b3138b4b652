import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ForkExecError } from '@forkexec/core';
import type { Command } from 'commander';
import { loadChartLibraries, renderChartSvg } from '../bench/chart.js';
import { COLUMN_NOTES } from '../bench/legend.js';
import { describeMachineLine } from '../bench/machine.js';
import { renderMarkdown } from '../bench/markdown.js';
import { terminalProgress } from '../bench/progress.js';
import { REPORT_FORMAT, REPORT_SCHEMA, type BenchReport } from '../bench/report.js';
import { runNodeDriver } from '../bench/node-driver.js';
import { runBench } from '../bench/run-bench.js';
import { parseList, parsePositiveInt, parseSize } from '../bench/sizes.js';
import { renderText } from '../bench/table.js';
import { checkTargets } from '../bench/targets.js';

/** Options of `forkexec bench`, as strings from the command line. */
interface BenchOptions {
  backends?: string;
  rss: string;
  runs: string;
  warmup: string;
  inFlight: string;
  duration: string;
  json?: string;
  chart?: string;
  markdown?: string;
}

// 20 warm-up spawns: V8 gives a function its feedback (inline caches) only after 8 calls, so with
// fewer the first size measured the process's first spawns (its rows were slower for every Node
// method, not for its RSS); 100 runs keep the medians steady on a shared machine.
const BENCH_DEFAULTS = {
  rss: '50M,1G,4G',
  runs: '100',
  warmup: '20',
  inFlight: '64',
  duration: '1000',
} as const;

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

/**
 * Runs the benchmark, prints the tables on `out`, writes the requested files and returns the
 * report. Bad options throw an InvalidArgumentError before anything runs.
 */
export async function bench(
  options: BenchOptions,
  command = 'forkexec bench',
  out: NodeJS.WritableStream = process.stdout,
): Promise<BenchReport> {
  const settings = {
    rss: parseList(options.rss).map((s) => parseSize(s)),
    runs: parsePositiveInt(options.runs, '--runs'),
    warmup: parsePositiveInt(options.warmup, '--warmup', 0),
    inFlight: parsePositiveInt(options.inFlight, '--in-flight'),
    throughputMs: parsePositiveInt(options.duration, '--duration', 0),
    methods: options.backends === undefined ? undefined : parseList(options.backends),
    command,
  };
  if (!settings.rss.length)
    throw new ForkExecError('FORKEXEC_INVALID_ARGUMENT', '--rss expects at least one size, such as 50M');
  if (options.chart && !options.chart.endsWith('.svg'))
    throw new ForkExecError(
      'FORKEXEC_INVALID_ARGUMENT',
      `--chart writes SVG: give a file ending in .svg, got ${JSON.stringify(options.chart)}`,
    );

  // Before the runs: a missing charting library is said at once, not after minutes of measuring.
  const chartLibraries = options.chart ? await loadChartLibraries() : undefined;

  const progress = terminalProgress();
  let report: BenchReport;
  try {
    report = await runBench(settings, progress.update);
  } finally {
    progress.done();
  }
  out.write(
    `forkexec bench — ${describeMachineLine(report.machine)}; ` +
      `load average ${report.loadAverage.start.toFixed(1)} → ${report.loadAverage.end.toFixed(1)}\n\n` +
      `${renderText(report)}\n${COLUMN_NOTES.map((n) => `  ${n}`).join('\n')}\n`,
  );
  const targets = checkTargets(report);
  if (targets.length)
    out.write(
      `\ntargets:\n${targets.map((t) => `  ${t.met ? 'met    ' : 'not met'}  ${t.goal}: ${t.measured}`).join('\n')}\n`,
    );
  if (options.json) write(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.chart) write(options.chart, await renderChartSvg(report, chartLibraries));
  if (options.markdown)
    write(
      options.markdown,
      renderMarkdown(report, { file: options.markdown, chart: options.chart, json: options.json }),
    );
  return report;
}

/** The command as given, options in a fixed order, for the report (`forkexec bench --rss 50M,1G ...`). */
function commandLine(cmd: Command): string {
  const given = cmd.options
    .filter((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli')
    .map((o) => `${o.long} ${cmd.getOptionValue(o.attributeName())}`);
  return ['forkexec bench', ...given].join(' ');
}

export function registerBench(program: Command): void {
  // The registered rows' own Node process (bench/node-driver.ts), started by the bench itself.
  program
    .command('bench-driver <ballast> <target>', { hidden: true })
    .action(async (ballast: string, target: string) => {
      try {
        await runNodeDriver(Number(ballast), target);
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        process.exitCode = 1;
        process.stdin.destroy(); // the bench still holds the other end: the driver ends here, which it sees
      }
    });
  program
    .command('bench')
    .description(
      'measure spawn latency, event-loop block and throughput of each backend and its peers at several parent RSS sizes',
    )
    .option('--backends <names>', 'comma-separated methods to compare (default: all that work here)')
    .option('--rss <sizes>', 'parent RSS sizes to measure at', BENCH_DEFAULTS.rss)
    .option('--runs <n>', 'measured spawns per method and size', BENCH_DEFAULTS.runs)
    .option('--warmup <n>', 'unmeasured spawns per method and size first', BENCH_DEFAULTS.warmup)
    .option('--in-flight <n>', 'children running at once in the throughput phase', BENCH_DEFAULTS.inFlight)
    .option('--duration <ms>', 'length of the throughput phase per method and size', BENCH_DEFAULTS.duration)
    .option('--json <file>', `write the report as JSON (layout ${REPORT_FORMAT}, see --schema)`)
    .option('--chart <file.svg>', 'write a chart of latency against parent RSS as SVG')
    .option('--markdown <file>', 'write the report as a Markdown page (docs/performance.md)')
    .option('--schema', 'print the JSON Schema of the --json report and exit')
    .addHelpText(
      'after',
      `\nMethods: c-posix-spawn (C floor), child_process, the forkexec backends (node, ntdll, helper-exe), execa, tinyexec, nano-spawn, execFileSync, the same five under the register hook (child_process+register, execFileSync+register, execa+register, tinyexec+register, nano-spawn+register: one Node process of their own started with --import @forkexec/core/register, measured between the methods that do not fork and those that do), bun (Bun.spawn, when bun is on PATH or @oven/bun-linux-x64 is installed) and python (subprocess, with python3 on PATH), the last two in processes of their own.\nExample: forkexec bench --rss 50M,1G,4G --json bench.json --chart docs/performance.svg --markdown docs/performance.md`,
    )
    .action(async (opts: BenchOptions & { schema?: boolean }, cmd: Command) => {
      if (opts.schema) {
        process.stdout.write(`${JSON.stringify(REPORT_SCHEMA, null, 2)}\n`);
        return;
      }
      try {
        const report = await bench(opts, commandLine(cmd));
        if (report.methods.some((m) => m.status === 'failed')) process.exitCode = 1;
      } catch (error) {
        if (!(error instanceof ForkExecError)) throw error;
        process.stderr.write(`forkexec bench: ${error.message}\n`);
        process.exitCode = 2;
      }
    });
}
