import type { Command } from 'commander';
import { registerDoctor } from './doctor.js';
import { registerRun } from './run.js';

/** Every subcommand of `forkexec`, in help order. */
export const COMMANDS: ((program: Command) => void)[] = [registerRun, registerDoctor];
