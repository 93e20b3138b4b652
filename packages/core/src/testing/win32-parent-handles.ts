/**
 * What the reliability suite reads about a Windows parent, through koffi (loaded on first use,
 * on win32 only): its open handles, its child processes, and the handle behind a CRT fd.
 * GetProcessHandleCount reports 0 under Wine, so handles are found by asking each value.
 */
import path from 'node:path';
import { loadKoffi } from '../load-koffi.js';

interface KoffiLibrary {
  func(signature: string): (...args: unknown[]) => unknown;
}
interface Koffi {
  load(name: string): KoffiLibrary;
  struct(name: string, fields: Record<string, unknown>): unknown;
  array(type: string, length: number, hint: 'String'): unknown;
  sizeof(type: unknown): number;
}

interface ProcessEntry {
  dwSize: number;
  th32ProcessID?: number;
  th32ParentProcessID?: number;
}

interface Win32TestApi {
  GetHandleInformation(handle: number, flags: [number]): number;
  DuplicateHandle(
    sourceProcess: number,
    source: number,
    targetProcess: number,
    target: [number],
    access: number,
    inherit: number,
    options: number,
  ): number;
  CloseHandle(handle: number): number;
  CreateToolhelp32Snapshot(flags: number, pid: number): number;
  Process32FirstW(snapshot: number, entry: ProcessEntry): number;
  Process32NextW(snapshot: number, entry: ProcessEntry): number;
  uv_get_osfhandle(fd: number): number;
  entrySize: number;
  /** Wine's version, when this runs under Wine. */
  wine?: string;
}

const CURRENT_PROCESS = -1;
const DUPLICATE_SAME_ACCESS = 0x2;
const TH32CS_SNAPPROCESS = 0x2;
const INVALID_HANDLE_VALUE = -1;
/** Handle values are multiples of 4, allocated from the lowest free one: this many free values in a row end the table. */
const TRAILING_FREE = 512;

let api: Win32TestApi | undefined;
let failure: string | undefined;

function load(): Win32TestApi {
  // Resolved from the working directory, like the probe: core does not depend on koffi.
  const koffi = loadKoffi<Koffi>(path.join(process.cwd(), '__forkexec__.js'), 'reading handles and child processes');
  const kernel32 = koffi.load('kernel32.dll');
  const entry = koffi.struct('FXT_PROCESSENTRY32W', {
    dwSize: 'uint32_t',
    cntUsage: 'uint32_t',
    th32ProcessID: 'uint32_t',
    th32DefaultHeapID: 'uintptr_t',
    th32ModuleID: 'uint32_t',
    cntThreads: 'uint32_t',
    th32ParentProcessID: 'uint32_t',
    pcPriClassBase: 'int32_t',
    dwFlags: 'uint32_t',
    szExeFile: koffi.array('char16_t', 260, 'String'),
  });
  const bind = <T>(library: KoffiLibrary, signature: string) => library.func(signature) as T;
  return {
    GetHandleInformation: bind(kernel32, 'int __stdcall GetHandleInformation(uintptr_t handle, _Out_ uint32_t *flags)'),
    DuplicateHandle: bind(
      kernel32,
      'int __stdcall DuplicateHandle(intptr_t sourceProcess, uintptr_t source, intptr_t targetProcess, _Out_ uintptr_t *target, uint32_t access, int inherit, uint32_t options)',
    ),
    CloseHandle: bind(kernel32, 'int __stdcall CloseHandle(uintptr_t handle)'),
    CreateToolhelp32Snapshot: bind(
      kernel32,
      'intptr_t __stdcall CreateToolhelp32Snapshot(uint32_t flags, uint32_t pid)',
    ),
    Process32FirstW: bind(
      kernel32,
      'int __stdcall Process32FirstW(intptr_t snapshot, _Inout_ FXT_PROCESSENTRY32W *entry)',
    ),
    Process32NextW: bind(
      kernel32,
      'int __stdcall Process32NextW(intptr_t snapshot, _Inout_ FXT_PROCESSENTRY32W *entry)',
    ),
    // node.exe exports libuv, whose CRT owns Node's fds.
    uv_get_osfhandle: bind(koffi.load(process.execPath), 'uintptr_t uv_get_osfhandle(int fd)'),
    entrySize: koffi.sizeof(entry),
    wine: wineVersionOf(koffi),
  };
}

function wineVersionOf(koffi: Koffi): string | undefined {
  try {
    return (koffi.load('ntdll.dll').func('const char *wine_get_version()') as () => string)();
  } catch {
    return undefined; // Windows itself: ntdll has no such export
  }
}

/** The Wine version this runs under, or undefined (on Windows itself, or without koffi). */
export function wineVersion(): string | undefined {
  return win32Unavailable() ? undefined : api!.wine;
}

/** Why the Windows helpers cannot run here, or undefined when they can. */
export function win32Unavailable(): string | undefined {
  if (process.platform !== 'win32') return `needs Windows, not ${process.platform}`;
  if (api || failure) return failure;
  try {
    api = load();
  } catch (error) {
    failure = (error as Error).message.split('\n')[0];
  }
  return failure;
}

function win32(): Win32TestApi {
  const why = win32Unavailable();
  if (why) throw new Error(why);
  return api!;
}

/** Open handle values of this process, ascending. */
export function openHandles(): number[] {
  const { GetHandleInformation } = win32();
  const open: number[] = [];
  const flags: [number] = [0];
  for (let handle = 4, free = 0; free < TRAILING_FREE; handle += 4) {
    if (GetHandleInformation(handle, flags)) {
      open.push(handle);
      free = 0;
    } else free++;
  }
  return open;
}

/** Pids of the running children of this process. */
export function childPids(): number[] {
  const { CreateToolhelp32Snapshot, Process32FirstW, Process32NextW, CloseHandle, entrySize } = win32();
  const snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot === INVALID_HANDLE_VALUE) throw new Error('CreateToolhelp32Snapshot failed');
  const pids: number[] = [];
  try {
    const entry: ProcessEntry = { dwSize: entrySize };
    for (let more = Process32FirstW(snapshot, entry); more; more = Process32NextW(snapshot, entry))
      if (entry.th32ParentProcessID === process.pid) pids.push(entry.th32ProcessID!);
  } finally {
    CloseHandle(snapshot);
  }
  return pids.sort((a, b) => a - b);
}

/** The handle behind a CRT fd of this process. */
export function handleOfFd(fd: number): number {
  return win32().uv_get_osfhandle(fd);
}

/** An inheritable duplicate of `handle` (close it with closeHandle). */
export function inheritableCopy(handle: number): number {
  const copy: [number] = [0];
  if (!win32().DuplicateHandle(CURRENT_PROCESS, handle, CURRENT_PROCESS, copy, 0, 1, DUPLICATE_SAME_ACCESS))
    throw new Error(`DuplicateHandle(${handle}) failed`);
  return copy[0];
}

export function closeHandle(handle: number): void {
  win32().CloseHandle(handle);
}
