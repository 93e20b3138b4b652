// koffi declarations of the Windows functions the backend calls: ntdll for process creation,
// kernel32 for pipes and waits, and the libuv exports of node.exe to map CRT fds to handles.
import { loadKoffi } from '@forkexec/core/backend-kit';
import {
  defineStructs,
  type Koffi,
  type ProcessBasicInformation,
  type RtlUserProcessInformation,
  type UnicodeString,
} from './ntdll-structs.js';

type Handle = bigint;
type Out<T> = [T | null];
interface SecurityAttributes {
  nLength: number;
  lpSecurityDescriptor: null;
  bInheritHandle: number;
}

export interface Win32Api {
  koffi: Koffi;
  RtlCreateProcessParametersEx(
    params: Out<bigint>,
    image: UnicodeString,
    dllPath: null,
    cwd: UnicodeString,
    commandLine: UnicodeString,
    environment: Buffer,
    title: null,
    desktop: null,
    shell: null,
    runtime: null,
    flags: number,
  ): number;
  RtlDestroyProcessParameters(params: bigint): number;
  NtCreateUserProcess(
    process: Out<Handle>,
    thread: Out<Handle>,
    processAccess: number,
    threadAccess: number,
    processAttributes: null,
    threadAttributes: null,
    processFlags: number,
    threadFlags: number,
    params: bigint,
    createInfo: bigint,
    attributeList: bigint,
  ): number;
  RtlCreateUserProcess(
    image: UnicodeString,
    attributes: number,
    params: bigint,
    processSd: null,
    threadSd: null,
    parent: null,
    inheritHandles: number,
    debugPort: null,
    token: null,
    info: Partial<RtlUserProcessInformation>,
  ): number;
  NtResumeThread(thread: Handle, previousCount: null): number;
  NtTerminateProcess(process: Handle, exitStatus: number): number;
  NtClose(handle: Handle): number;
  NtQueryInformationProcess(
    process: Handle,
    infoClass: number,
    info: Partial<ProcessBasicInformation>,
    size: number,
    returned: null,
  ): number;
  RtlNtStatusToDosError(status: number): number;
  RtlGetCurrentPeb(): bigint;
  CreateNamedPipeW(
    name: string,
    openMode: number,
    pipeMode: number,
    instances: number,
    outSize: number,
    inSize: number,
    timeout: number,
    sa: null,
  ): Handle;
  CreateFileW(
    name: string,
    access: number,
    share: number,
    sa: SecurityAttributes | null,
    disposition: number,
    flags: number,
    template: null,
  ): Handle;
  DuplicateHandle(
    sourceProcess: Handle,
    source: Handle,
    targetProcess: Handle,
    target: Out<Handle>,
    access: number,
    inherit: number,
    options: number,
  ): number;
  RegisterWaitForSingleObject(
    wait: Out<Handle>,
    object: Handle,
    callback: bigint,
    context: number,
    ms: number,
    flags: number,
  ): number;
  UnregisterWait(wait: Handle): number;
  GetFileAttributesW(path: string): number;
  GetLastError(): number;
  uv_open_osfhandle(handle: Handle): number;
  uv_get_osfhandle(fd: number): Handle;
}

let api: Win32Api | undefined;

/** Loads koffi and binds every function once; throws a BackendLoadError when koffi is missing. */
export function loadWin32Api(): Win32Api {
  if (api) return api;
  const koffi = loadKoffi<Koffi>(import.meta.url, 'the ntdll backend');
  defineStructs(koffi);
  const ntdll = koffi.load('ntdll.dll');
  const kernel32 = koffi.load('kernel32.dll');
  // node.exe exports libuv, whose CRT owns Node's fds: only it can map them to handles and back.
  const node = koffi.load(process.execPath);
  const US = 'FX_UNICODE_STRING *';
  const bound = {
    koffi,
    RtlCreateProcessParametersEx: ntdll.func(
      `int32_t __stdcall RtlCreateProcessParametersEx(_Out_ void **params, ${US} image, ${US} dllPath, ${US} cwd, ${US} commandLine, void *environment, ${US} title, ${US} desktop, ${US} shell, ${US} runtime, uint32_t flags)`,
    ),
    RtlDestroyProcessParameters: ntdll.func('int32_t __stdcall RtlDestroyProcessParameters(void *params)'),
    NtCreateUserProcess: ntdll.func(
      'int32_t __stdcall NtCreateUserProcess(_Out_ void **process, _Out_ void **thread, uint32_t processAccess, uint32_t threadAccess, void *processAttributes, void *threadAttributes, uint32_t processFlags, uint32_t threadFlags, void *params, void *createInfo, void *attributeList)',
    ),
    RtlCreateUserProcess: ntdll.func(
      `int32_t __stdcall RtlCreateUserProcess(${US} image, uint32_t attributes, void *params, void *processSd, void *threadSd, void *parent, uint8_t inheritHandles, void *debugPort, void *token, _Out_ FX_RTL_USER_PROCESS_INFORMATION *info)`,
    ),
    NtResumeThread: ntdll.func('int32_t __stdcall NtResumeThread(void *thread, _Out_ uint32_t *previousCount)'),
    NtTerminateProcess: ntdll.func('int32_t __stdcall NtTerminateProcess(void *process, int32_t exitStatus)'),
    NtClose: ntdll.func('int32_t __stdcall NtClose(void *handle)'),
    NtQueryInformationProcess: ntdll.func(
      'int32_t __stdcall NtQueryInformationProcess(void *process, int32_t infoClass, _Out_ FX_PROCESS_BASIC_INFORMATION *info, uint32_t size, _Out_ uint32_t *returned)',
    ),
    RtlNtStatusToDosError: ntdll.func('uint32_t __stdcall RtlNtStatusToDosError(int32_t status)'),
    RtlGetCurrentPeb: ntdll.func('void * __stdcall RtlGetCurrentPeb()'),
    CreateNamedPipeW: kernel32.func(
      'void * __stdcall CreateNamedPipeW(const char16_t *name, uint32_t openMode, uint32_t pipeMode, uint32_t instances, uint32_t outSize, uint32_t inSize, uint32_t timeout, FX_SECURITY_ATTRIBUTES *sa)',
    ),
    CreateFileW: kernel32.func(
      'void * __stdcall CreateFileW(const char16_t *name, uint32_t access, uint32_t share, FX_SECURITY_ATTRIBUTES *sa, uint32_t disposition, uint32_t flags, void *template)',
    ),
    DuplicateHandle: kernel32.func(
      'int32_t __stdcall DuplicateHandle(void *sourceProcess, void *source, void *targetProcess, _Out_ void **target, uint32_t access, int32_t inherit, uint32_t options)',
    ),
    RegisterWaitForSingleObject: kernel32.func(
      'int32_t __stdcall RegisterWaitForSingleObject(_Out_ void **wait, void *object, FX_WaitOrTimerCallback *callback, uintptr_t context, uint32_t ms, uint32_t flags)',
    ),
    UnregisterWait: kernel32.func('int32_t __stdcall UnregisterWait(void *wait)'),
    GetFileAttributesW: kernel32.func('uint32_t __stdcall GetFileAttributesW(const char16_t *path)'),
    GetLastError: kernel32.func('uint32_t __stdcall GetLastError()'),
    uv_open_osfhandle: node.func('int uv_open_osfhandle(void *handle)'),
    uv_get_osfhandle: node.func('void *uv_get_osfhandle(int fd)'),
  };
  api = bound as unknown as Win32Api;
  return api;
}

/** The current-process pseudo-handle, and INVALID_HANDLE_VALUE (both (HANDLE)-1). */
export const CURRENT_PROCESS: Handle = 0xffffffffffffffffn;

export function isValidHandle(handle: Handle | null | undefined): handle is Handle {
  return handle !== null && handle !== undefined && handle !== 0n && handle !== CURRENT_PROCESS && handle !== -1n;
}
