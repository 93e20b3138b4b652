import { constants } from 'node:os';
import type { ExitStatus } from '@forkexec/core';

/** Signal names by number; the first name wins (SIGABRT over SIGIOT, SIGIO over SIGPOLL), as Node reports them. */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>();
for (const [name, number] of Object.entries(constants.signals) as [NodeJS.Signals, number][])
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name);

/** Decodes a waitpid(2) status word of a child that ended (WIFEXITED / WIFSIGNALED). */
export function decodeWaitStatus(status: number): ExitStatus {
  const signal = status & 0x7f;
  if (signal === 0) return { exitCode: (status >> 8) & 0xff, signal: null };
  const name = SIGNAL_NAMES.get(signal);
  if (!name) throw new Error(`waitpid status 0x${status.toString(16)}: signal ${signal} has no name on this platform`);
  return { exitCode: null, signal: name };
}
