import { findConfig, listBackends, resolveBackend } from '@forkexec/core';
import { summarizeReportFile, type DropInSummary } from '@forkexec/core/child_process';
import type { Command } from 'commander';

/** The first line of an error's message, and its code when it has one. */
function problem(error: unknown): { code?: string; message: string } {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { ...(typeof code === 'string' ? { code } : {}), message: String(message ?? error).split('\n')[0] };
}

/** Where the backend choice comes from (a broken config file is named too, and reported as the error). */
function choiceSource(): string {
  if (process.env.FORKEXEC_BACKEND) return 'FORKEXEC_BACKEND';
  try {
    const config = findConfig();
    return config?.config.backend ? config.filepath : 'auto';
  } catch {
    return 'config file';
  }
}

/** The register hook's report (FORKEXEC_REGISTER_REPORT) added up, or why it cannot be read. */
function registerReport(file: string | undefined): DropInSummary | { file: string; error: string } | undefined {
  if (!file) return undefined;
  try {
    return summarizeReportFile(file);
  } catch (error) {
    return { file, error: (error as Error).message };
  }
}

function printRegisterReport(file: string, report: DropInSummary | { error: string }): void {
  process.stdout.write(`\nregister hook report (${file}):\n`);
  if ('error' in report) return void process.stdout.write(`  could not read it: ${report.error}\n`);
  const backends = report.backends.join(', ') || 'none';
  process.stdout.write(`  ${report.processes} processes; fast path on ${backends}:\n`);
  for (const [fn, count] of Object.entries(report.fast)) process.stdout.write(`    ${fn.padEnd(13)} ${count}\n`);
  process.stdout.write(`  to Node's own child_process:\n`);
  printReasons(report.node);
  if (!report.refused) return;
  process.stdout.write(`  refused on the fast path with a typed error:\n`);
  printReasons(report.refused);
}

function printReasons(byFunction: DropInSummary['node']): void {
  for (const [fn, reasons] of Object.entries(byFunction))
    for (const [reason, count] of Object.entries(reasons))
      process.stdout.write(`    ${fn.padEnd(13)} ${String(count).padStart(5)}  ${reason}\n`);
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('list the backends, whether each works here, and which one is chosen')
    .option('--json', 'print the report as JSON')
    .option(
      '--register-report <file>',
      'add up the report the register hook wrote (default: $FORKEXEC_REGISTER_REPORT)',
      process.env.FORKEXEC_REGISTER_REPORT,
    )
    .action((opts: { json?: boolean; registerReport?: string }) => {
      const register = registerReport(opts.registerReport);
      const statuses = listBackends();
      const source = choiceSource();
      let chosen: string | null = null;
      let error: { code?: string; message: string } | undefined;
      try {
        chosen = resolveBackend().name;
      } catch (e) {
        error = problem(e);
      }
      // The chosen backend cannot be used: a script checking the machine learns it from the status.
      if (error) process.exitCode = 1;
      if (opts.json) {
        const backends = statuses.map(({ backend, ...s }) => ({ ...s, capabilities: backend?.capabilities }));
        const report = { platform: process.platform, node: process.version, chosen, source, error, backends, register };
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      process.stdout.write(`forkexec doctor — ${process.platform}, Node ${process.version}\n\n`);
      for (const s of statuses) {
        const mark = s.ok ? 'ok  ' : 'no  ';
        const actions = s.backend ? ` [${s.backend.capabilities.actions.join(' ')}]` : '';
        process.stdout.write(
          `  ${mark}${s.name.padEnd(11)} ${s.ok ? (s.reason ?? '') : s.reason}${s.ok ? actions : ''}\n`,
        );
      }
      if (error) process.stdout.write(`\nchosen: none — ${error.message}\n`);
      else process.stdout.write(`\nchosen: ${chosen} (from ${source})\n`);
      if (register) printRegisterReport(opts.registerReport!, register);
    });
}
