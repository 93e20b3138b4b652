/**
 * The kernel32 functions helper-exe calls besides the ntdll backend's Win32Api, bound once
 * through its koffi: job objects (job-objects.ts) and synchronous pipe I/O (probe-win32-helper.ts).
 */
import type { Win32Api } from '@forkexec/ntdll-backend/internal';

export interface Kernel32 {
  CreateJobObjectW(attributes: null, name: null): bigint;
  SetInformationJobObject(job: bigint, infoClass: number, info: Buffer, size: number): number;
  AssignProcessToJobObject(job: bigint, process: bigint): number;
  WriteFile(file: bigint, data: Buffer, size: number, written: [number], overlapped: null): number;
  ReadFile(file: bigint, into: Buffer, size: number, read: [number], overlapped: null): number;
  PeekNamedPipe(pipe: bigint, into: null, size: number, read: null, available: [number], left: null): number;
  WaitForSingleObject(handle: bigint, ms: number): number;
}

let bound: Kernel32 | undefined;

export function kernel32(api: Win32Api): Kernel32 {
  if (bound) return bound;
  const dll = api.koffi.load('kernel32.dll');
  bound = {
    CreateJobObjectW: dll.func('void * __stdcall CreateJobObjectW(void *attributes, const char16_t *name)'),
    SetInformationJobObject: dll.func(
      'int32_t __stdcall SetInformationJobObject(void *job, int32_t infoClass, const void *info, uint32_t size)',
    ),
    AssignProcessToJobObject: dll.func('int32_t __stdcall AssignProcessToJobObject(void *job, void *process)'),
    WriteFile: dll.func(
      'int32_t __stdcall WriteFile(void *file, const void *data, uint32_t size, _Out_ uint32_t *written, void *overlapped)',
    ),
    ReadFile: dll.func(
      'int32_t __stdcall ReadFile(void *file, void *into, uint32_t size, _Out_ uint32_t *read, void *overlapped)',
    ),
    PeekNamedPipe: dll.func(
      'int32_t __stdcall PeekNamedPipe(void *pipe, void *into, uint32_t size, _Out_ uint32_t *read, _Out_ uint32_t *available, _Out_ uint32_t *left)',
    ),
    WaitForSingleObject: dll.func('uint32_t __stdcall WaitForSingleObject(void *handle, uint32_t ms)'),
  } as unknown as Kernel32;
  return bound;
}
