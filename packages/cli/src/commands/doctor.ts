import { findConfig, listBackends, resolveBackend } from '@forkexec/core';
import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('list the backends, whether each works here, and which one is chosen')
    .option('--json', 'print the report as JSON')
    .action((opts: { json?: boolean }) => {
      const statuses = listBackends();
      let chosen: string;
      try {
        chosen = resolveBackend().name;
      } catch (error) {
        chosen = `error: ${(error as Error).message.split('\n')[0]}`;
      }
      const config = findConfig();
      const source = process.env.FORKEXEC_BACKEND
        ? 'FORKEXEC_BACKEND'
        : config?.config.backend
          ? config.filepath
          : 'auto';
      if (opts.json) {
        const backends = statuses.map(({ backend, ...s }) => ({ ...s, capabilities: backend?.capabilities }));
        process.stdout.write(
          `${JSON.stringify({ platform: process.platform, node: process.version, chosen, source, backends }, null, 2)}\n`,
        );
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
      process.stdout.write(`\nchosen: ${chosen} (from ${source})\n`);
    });
}
