import { InvalidArgumentError } from './errors.js';

/**
 * The signals that end a Windows process, as libuv treats them (through TerminateProcess), with
 * the numbers libuv gives them there. Signal 0 only checks that the process is alive.
 */
export const WINDOWS_TERMINATING_SIGNALS = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2, SIGQUIT: 3 } as const;

export type WindowsTerminatingSignal = keyof typeof WINDOWS_TERMINATING_SIGNALS;

const BY_NUMBER = new Map<number, WindowsTerminatingSignal>(
  Object.entries(WINDOWS_TERMINATING_SIGNALS).map(([name, number]) => [number, name as WindowsTerminatingSignal]),
);

/**
 * What a kill() of a Windows child with `signal` stands for: 0 (a check) or the terminating
 * signal it names. Throws an InvalidArgumentError for the others, which Windows cannot deliver.
 */
export function windowsKillSignal(signal: NodeJS.Signals | number, command: string): WindowsTerminatingSignal | 0 {
  if (signal === 0) return 0;
  const name = typeof signal === 'number' ? BY_NUMBER.get(signal) : signal;
  if (name !== undefined && Object.hasOwn(WINDOWS_TERMINATING_SIGNALS, name)) return name as WindowsTerminatingSignal;
  throw new InvalidArgumentError(
    `signal ${String(signal)} has no meaning on Windows: SIGTERM, SIGKILL, SIGINT and SIGQUIT end the process, 0 checks it`,
    { command },
  );
}
