import { constants as osConstants } from 'node:os';
import {
  InvalidArgumentError,
  SpawnError,
  type Action,
  type ExitStatus,
  type SpawnRequest,
  type SpawnedChild,
} from '@forkexec/core';
import { buildCommandLine } from './command-line.js';
import { createProcess, type ProcessCreator } from './create-process.js';
import { environmentBlock } from './environment-block.js';
import { watchProcessHandle } from './watch-process-handle.js';
import { findProgram, type FileKind } from './find-program.js';
import type { Win32Api } from './ntdll-api.js';
import type { ProcessBasicInformation } from './ntdll-structs.js';
import { prepareStdio } from './stdio-handles.js';

/** Signals that end a Windows process (through NtTerminateProcess), as libuv treats them. */
const TERMINATING = new Set<string>(['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGQUIT']);
/** Exit status a terminated child gets, as with child_process on Windows. */
export const TERMINATED_EXIT_STATUS = 1;
const ProcessBasicInformationClass = 0;

function signalName(signal: NodeJS.Signals | number): string | undefined {
  if (typeof signal === 'string') return signal;
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signal);
  return entry?.[0] ?? (signal === 9 ? 'SIGKILL' : signal === 15 ? 'SIGTERM' : undefined);
}

/** The signal a kill() of a Windows child stands for; throws for those Windows cannot carry out (0 is the caller's to handle). */
export function terminatingSignal(signal: NodeJS.Signals | number, command: string): NodeJS.Signals {
  const name = signalName(signal);
  if (!name || !TERMINATING.has(name))
    throw new InvalidArgumentError(
      `signal ${String(signal)} has no meaning on Windows: SIGTERM, SIGKILL, SIGINT and SIGQUIT end the process, 0 checks it`,
      { command },
    );
  return name as NodeJS.Signals;
}

const INVALID_FILE_ATTRIBUTES = 0xffffffff;
const FILE_ATTRIBUTE_DIRECTORY = 0x10;

export function fileKind(api: Win32Api): FileKind {
  return (candidate) => {
    const attributes = api.GetFileAttributesW(candidate);
    if (attributes === INVALID_FILE_ATTRIBUTES) return undefined;
    return attributes & FILE_ATTRIBUTE_DIRECTORY ? 'directory' : 'file';
  };
}

export function exitCodeOf(api: Win32Api, process: bigint): number {
  const info: Partial<ProcessBasicInformation> = {};
  const status = api.NtQueryInformationProcess(process, ProcessBasicInformationClass, info, 48, null);
  return status < 0 ? -1 : info.ExitStatus! >>> 0;
}

/** Starts `request` on Windows: everything is checked and prepared before the process exists. */
export function spawnWin32(
  api: Win32Api,
  request: SpawnRequest,
  creator: ProcessCreator,
): SpawnedChild & { creator: ProcessCreator } {
  const cwd =
    request.actions.findLast((a): a is Extract<Action, { op: 'chdir' }> => a.op === 'chdir')?.path ?? process.cwd();
  const image = findProgram(fileKind(api), request.file, request.env, cwd, request.command);
  const commandLine = buildCommandLine(request.argv, request.command);
  const environment = environmentBlock(request.env);
  const stdio = prepareStdio(api, request);
  let created;
  try {
    created = createProcess(api, {
      image,
      commandLine,
      cwd,
      environment,
      stdHandles: stdio.handles,
      creator,
      command: request.command,
    });
  } catch (error) {
    stdio.abort(api);
    throw error;
  }
  stdio.release();
  const { process: handle, pid } = created;
  const streams = stdio.streams(api);

  let ended = false;
  let killedBy: NodeJS.Signals | undefined;
  const exited = new Promise<ExitStatus>((resolve, reject) => {
    try {
      watchProcessHandle(api, handle, () => {
        ended = true;
        const exitCode = exitCodeOf(api, handle);
        api.NtClose(handle);
        resolve(killedBy ? { exitCode: null, signal: killedBy } : { exitCode, signal: null });
      });
    } catch (error) {
      // Without a wait the child could never be reaped: end it rather than leave it unobserved.
      ended = true;
      api.NtTerminateProcess(handle, TERMINATED_EXIT_STATUS);
      api.NtClose(handle);
      reject(
        new SpawnError(`could not watch ${request.file} (pid ${pid}) for its exit: ${(error as Error).message}`, {
          command: request.command,
          cause: error,
        }),
      );
    }
  });

  return {
    pid,
    ...streams,
    exited,
    creator: created.creator,
    kill(signal: NodeJS.Signals | number = 'SIGTERM') {
      if (ended) return false;
      if (signal === 0) return true;
      const name = terminatingSignal(signal, request.command);
      if (api.NtTerminateProcess(handle, TERMINATED_EXIT_STATUS) < 0) return false;
      killedBy ??= name;
      return true;
    },
  };
}
