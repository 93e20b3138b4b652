/**
 * How a Windows child ends, shared by the ntdll backend and helper-exe's Windows helpers: Windows
 * has no signals, so kill() terminates the process (as libuv does) and its exit is reported with
 * the signal that ended it; otherwise with its exit code.
 */
import type { ExitStatus } from '@forkexec/core';
import { windowsKillSignal } from '@forkexec/core/backend-kit';
import type { Win32Api } from './ntdll-api.js';
import type { ProcessBasicInformation } from './ntdll-structs.js';

/** Exit status a terminated child gets, as with child_process on Windows. */
export const TERMINATED_EXIT_STATUS = 1;
const ProcessBasicInformationClass = 0;

/** The exit code of an ended process (-1 when it cannot be read). */
export function exitCodeOf(api: Win32Api, process: bigint): number {
  const info: Partial<ProcessBasicInformation> = {};
  const status = api.NtQueryInformationProcess(process, ProcessBasicInformationClass, info, 48, null);
  return status < 0 ? -1 : info.ExitStatus! >>> 0;
}

/** A child's end as its kill() and its exit watch see it. */
export class Termination {
  #ended = false;
  #killedBy: NodeJS.Signals | undefined;
  readonly #terminate: () => boolean;
  readonly #command: string;

  /** `terminate` ends the child, false when it could not (it is gone); `command` is for errors. */
  constructor(terminate: () => boolean, command: string) {
    this.#terminate = terminate;
    this.#command = command;
  }

  /** The signal a kill() ended the child with, if one did. */
  get killedBy(): NodeJS.Signals | undefined {
    return this.#killedBy;
  }

  /** The child is gone, or will never be watched: kill() says so from now on. */
  ended(): void {
    this.#ended = true;
  }

  /** The exit status of a child that ended with `exitCode`. */
  status(exitCode: number): ExitStatus {
    return this.#killedBy ? { exitCode: null, signal: this.#killedBy } : { exitCode, signal: null };
  }

  /** SpawnedChild.kill: 0 checks the child; a terminating signal ends it; others throw (see windowsKillSignal). */
  readonly kill = (signal: NodeJS.Signals | number = 'SIGTERM'): boolean => {
    if (this.#ended) return false;
    const name = windowsKillSignal(signal, this.#command);
    if (name === 0) return true;
    if (!this.#terminate()) return false;
    this.#killedBy ??= name;
    return true;
  };
}
