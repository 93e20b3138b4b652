import type { Command } from 'commander';
import { registerBench } from './bench.js';
import { registerCodemod } from './codemod.js';
import { registerDoctor } from './doctor.js';
import { registerRun } from './run.js';
import { registerScan } from './scan.js';

/** Every subcommand of `forkexec`, in help order. */
export const COMMANDS: ((program: Command) => void)[] = [
  registerRun,
  registerDoctor,
  registerBench,
  registerScan,
  registerCodemod,
];
