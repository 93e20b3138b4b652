import { createRequire } from 'node:module';
import { registerBackend } from '@forkexec/core';
import { backend as helperExe } from '@forkexec/helper-exe';
import { backend as ntdll } from '@forkexec/ntdll-backend';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';

// The CLI ships with every backend; neither loads native code until it is used.
registerBackend('ntdll', () => ntdll);
registerBackend('helper-exe', () => helperExe);

/** This package's version, from its package.json (one folder above src/ and dist/ alike). */
const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export function buildProgram(): Command {
  const program = new Command('forkexec')
    .description('fork, then exec — without copying the parent')
    .version(VERSION)
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}
