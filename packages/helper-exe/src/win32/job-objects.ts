/**
 * Job objects through koffi. A warm helper sits alone in a job that kills it when the last handle
 * closes, which the parent holds: if the parent dies, so do its suspended helpers. A request hands
 * the job's handle to the helper (see fxhelper-win.c): the program it creates is in the job from
 * its first instant, and dies with the helper.
 */
import { SpawnError } from '@forkexec/core';
import { win32Internals } from '@forkexec/ntdll-backend';

type Win32Api = win32Internals.Win32Api;

interface JobApi {
  CreateJobObjectW(attributes: null, name: null): bigint;
  SetInformationJobObject(job: bigint, infoClass: number, info: Buffer, size: number): number;
  AssignProcessToJobObject(job: bigint, process: bigint): number;
}

const JobObjectExtendedLimitInformation = 9;
/** sizeof(JOBOBJECT_EXTENDED_LIMIT_INFORMATION) on x64; LimitFlags sits at offset 16. */
const EXTENDED_LIMIT_SIZE = 144;
const LIMIT_FLAGS_OFFSET = 16;
const JOB_OBJECT_LIMIT_BREAKAWAY_OK = 0x800;
const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000;

let jobApi: JobApi | undefined;

function load(api: Win32Api): JobApi {
  if (jobApi) return jobApi;
  const kernel32 = api.koffi.load('kernel32.dll');
  jobApi = {
    CreateJobObjectW: kernel32.func('void * __stdcall CreateJobObjectW(void *attributes, const char16_t *name)'),
    SetInformationJobObject: kernel32.func('int32_t __stdcall SetInformationJobObject(void *job, int32_t infoClass, const void *info, uint32_t size)'),
    AssignProcessToJobObject: kernel32.func('int32_t __stdcall AssignProcessToJobObject(void *job, void *process)'),
  } as unknown as JobApi;
  return jobApi;
}

function setLimits(api: Win32Api, job: bigint, flags: number): boolean {
  const limits = Buffer.alloc(EXTENDED_LIMIT_SIZE);
  limits.writeUInt32LE(flags, LIMIT_FLAGS_OFFSET);
  return load(api).SetInformationJobObject(job, JobObjectExtendedLimitInformation, limits, EXTENDED_LIMIT_SIZE) !== 0;
}

/** Puts `process` alone into a new job that ends it, and whatever else joins, when the returned handle closes. */
export function killOnCloseJob(api: Win32Api, process: bigint): bigint {
  const job = load(api).CreateJobObjectW(null, null);
  if (!win32Internals.isValidHandle(job)) throw new SpawnError(`CreateJobObjectW failed (error ${api.GetLastError()})`);
  if (!setLimits(api, job, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK) || !load(api).AssignProcessToJobObject(job, process)) {
    const error = api.GetLastError();
    api.NtClose(job);
    throw new SpawnError(`could not put a helper into its job (error ${error})`);
  }
  return job;
}
