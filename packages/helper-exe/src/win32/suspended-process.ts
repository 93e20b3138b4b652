/**
 * Creating one Windows helper: suspended, through the ntdll backend's NtCreateUserProcess, with the
 * helper's end of a duplex control pipe as its only handle (its stdin), alone in a kill-on-close
 * job (job-objects.ts). Shared by the pool's helpers (suspended-helper.ts: the parent's end is
 * overlapped, for libuv) and the probe (probe-win32-helper.ts: synchronous, for blocking reads).
 */
import path from 'node:path';
import { SpawnError } from '@forkexec/core';
import {
  createProcess,
  CURRENT_PROCESS,
  environmentBlock,
  isValidHandle,
  TERMINATED_EXIT_STATUS,
  type Win32Api,
} from '@forkexec/ntdll-backend/internal';
import { killOnCloseJob } from './job-objects.js';

const PIPE_ACCESS_DUPLEX = 0x3;
const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x80000;
const FILE_FLAG_OVERLAPPED = 0x40000000;
const PIPE_REJECT_REMOTE_CLIENTS = 0x8;
const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const OPEN_EXISTING = 3;
const DUPLICATE_SAME_ACCESS = 2;
const INHERITABLE = { nLength: 24, lpSecurityDescriptor: null, bInheritHandle: 1 };
/** What the control pipe buffers each way: a write up to this size never waits for the helper. */
export const CONTROL_PIPE_BUFFER = 65536;
let pipeCounter = 0;

/** A parent's end (overlapped when asked) and an inheritable synchronous end for the helper. */
function controlPipe(api: Win32Api, overlapped: boolean): { parent: bigint; helper: bigint } {
  const name = `\\\\.\\pipe\\forkexec-helper-${process.pid}-${++pipeCounter}-${Math.random().toString(36).slice(2)}`;
  const mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE | (overlapped ? FILE_FLAG_OVERLAPPED : 0);
  const parent = api.CreateNamedPipeW(
    name,
    mode,
    PIPE_REJECT_REMOTE_CLIENTS,
    1,
    CONTROL_PIPE_BUFFER,
    CONTROL_PIPE_BUFFER,
    0,
    null,
  );
  if (!isValidHandle(parent))
    throw new SpawnError(`CreateNamedPipeW failed for a helper's control pipe (error ${api.GetLastError()})`);
  const helper = api.CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, INHERITABLE, OPEN_EXISTING, 0, null);
  if (!isValidHandle(helper)) {
    const error = api.GetLastError();
    api.NtClose(parent);
    throw new SpawnError(`opening the helper's end of its control pipe failed (error ${error})`);
  }
  return { parent, helper };
}

let environment: Buffer | undefined;

/** The helper reads nothing from its environment; Windows wants SystemRoot to be there. */
export function helperEnvironment(): Buffer {
  return (environment ??= environmentBlock({ SystemRoot: process.env.SystemRoot ?? 'C:\\Windows' }));
}

export interface SuspendedProcess {
  pid: number;
  process: bigint;
  /** Its first thread, suspended: resume it once the request is in the pipe. */
  thread: bigint;
  /** The job it sits alone in; closing the last handle ends it. */
  job: bigint;
  /** The parent's end of the control pipe. */
  control: bigint;
}

/** Creates a helper, suspended; on failure nothing is left behind. */
export function createSuspendedHelper(api: Win32Api, helperPath: string, overlapped: boolean): SuspendedProcess {
  const pipe = controlPipe(api, overlapped);
  let created;
  try {
    created = createProcess(api, {
      image: helperPath,
      commandLine: `"${helperPath}"`,
      // Not the parent's cwd: a Windows process keeps its directory open, which would block removing it.
      cwd: path.win32.dirname(helperPath),
      environment: helperEnvironment(),
      stdHandles: [pipe.helper, 0n, 0n],
      creator: 'NtCreateUserProcess',
      command: helperPath,
      suspended: true,
    });
  } catch (error) {
    api.NtClose(pipe.parent);
    throw error;
  } finally {
    api.NtClose(pipe.helper);
  }
  const { pid, process: handle, thread } = created;
  let job: bigint;
  try {
    job = killOnCloseJob(api, handle);
  } catch (error) {
    api.NtTerminateProcess(handle, TERMINATED_EXIT_STATUS);
    for (const h of [pipe.parent, thread!, handle]) api.NtClose(h);
    throw error;
  }
  return { pid, process: handle, thread: thread!, job, control: pipe.parent };
}

/** A copy of one of our handles inside the helper `target` (pid for the message). */
export function duplicateInto(
  api: Win32Api,
  target: { process: bigint; pid: number },
  handle: bigint,
  inheritable: boolean,
): bigint {
  const copy: [bigint | null] = [null];
  if (
    !api.DuplicateHandle(CURRENT_PROCESS, handle, target.process, copy, 0, inheritable ? 1 : 0, DUPLICATE_SAME_ACCESS)
  )
    throw new SpawnError(`DuplicateHandle into helper ${target.pid} failed (error ${api.GetLastError()})`);
  return copy[0]!;
}
