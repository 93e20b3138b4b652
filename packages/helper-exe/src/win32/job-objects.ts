/**
 * Job objects through koffi. A warm helper sits alone in a job that kills it when the last handle
 * closes, which the parent holds: if the parent dies, so do its suspended helpers. A request hands
 * the job's handle to the helper (see fxhelper-win.c): the program it creates is in the job from
 * its first instant, and dies with the helper.
 */
import { SpawnError } from '@forkexec/core';
import { isValidHandle, type Win32Api } from '@forkexec/ntdll-backend/internal';
import { kernel32 } from './kernel32.js';

const JobObjectExtendedLimitInformation = 9;
/** sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION) on x64; LimitFlags sits at offset 16. */
const EXTENDED_LIMIT_SIZE = 144;
const LIMIT_FLAGS_OFFSET = 16;
const JOB_OBJECT_LIMIT_BREAKAWAY_OK = 0x800;
const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000;

function setLimits(api: Win32Api, job: bigint, flags: number): boolean {
  const limits = Buffer.alloc(EXTENDED_LIMIT_SIZE);
  limits.writeUInt32LE(flags, LIMIT_FLAGS_OFFSET);
  return (
    kernel32(api).SetInformationJobObject(job, JobObjectExtendedLimitInformation, limits, EXTENDED_LIMIT_SIZE) !== 0
  );
}

/** Puts `process` alone into a new job that ends it, and whatever else joins, when the returned handle closes. */
export function killOnCloseJob(api: Win32Api, process: bigint): bigint {
  const job = kernel32(api).CreateJobObjectW(null, null);
  if (!isValidHandle(job)) throw new SpawnError(`CreateJobObjectW failed (error ${api.GetLastError()})`);
  if (
    !setLimits(api, job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK) ||
    !kernel32(api).AssignProcessToJobObject(job, process)
  ) {
    const error = api.GetLastError();
    api.NtClose(job);
    throw new SpawnError(`could not put a helper into its job (error ${error})`);
  }
  return job;
}
