import { findConfig, listBackends, resolveBackend } from '@forkexec/core';
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

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('list the backends, whether each works here, and which one is chosen')
    .option('--json', 'print the report as JSON')
    .action((opts: { json?: boolean }) => {
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
        const report = { platform: process.platform, node: process.version, chosen, source, error, backends };
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
    });
}
