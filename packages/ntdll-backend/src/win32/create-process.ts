import { SpawnError } from '@forkexec/core';
import { spawnHint } from '@forkexec/core/backend-kit';
import { isValidHandle, type Win32Api } from './ntdll-api.js';
import {
  CLIENT_ID_SIZE,
  PARAMS_OFFSET,
  PARAMS_PREFIX_SIZE,
  PEB_PROCESS_PARAMETERS,
  PS_ATTRIBUTE,
  PS_ATTRIBUTE_LIST_HEADER,
  PS_ATTRIBUTE_SIZE,
  PS_CREATE_INFO_SIZE,
  SCRATCH,
  STARTF_USESTDHANDLES,
  unicodeString,
  type RtlUserProcessInformation,
} from './ntdll-structs.js';

/** Which ntdll entry point creates the process. */
export type ProcessCreator = 'NtCreateUserProcess' | 'RtlCreateUserProcess';

interface ProcessSpec {
  /** Full DOS path of the image. */
  image: string;
  commandLine: string;
  cwd: string;
  environment: Buffer;
  stdHandles: [bigint, bigint, bigint];
  creator: ProcessCreator;
  command: string;
  /** Leave the first thread suspended and hand it back (helper-exe's Windows helpers wait so). */
  suspended?: boolean;
}

interface CreatedProcess {
  process: bigint;
  pid: number;
  creator: ProcessCreator;
  /** The first thread, when `suspended` was asked: the caller resumes and closes it. */
  thread?: bigint;
}

const RTL_USER_PROC_PARAMS_NORMALIZED = 0x1;
const PROCESS_ALL_ACCESS = 0x1fffff;
const THREAD_ALL_ACCESS = 0x1fffff;
const PROCESS_CREATE_FLAGS_INHERIT_HANDLES = 0x4;
const THREAD_CREATE_FLAGS_CREATE_SUSPENDED = 0x1;
const OBJ_CASE_INSENSITIVE = 0x40;

/** NTSTATUS values that mean "this file cannot run", with the errno they stand for. */
const FILE_STATUS_ERRNO = new Map<number, string>([
  [0xc0000034, 'ENOENT'], // STATUS_OBJECT_NAME_NOT_FOUND
  [0xc000003a, 'ENOENT'], // STATUS_OBJECT_PATH_NOT_FOUND
  [0xc0000033, 'EINVAL'], // STATUS_OBJECT_NAME_INVALID
  [0xc0000022, 'EACCES'], // STATUS_ACCESS_DENIED
  [0xc00000ba, 'EACCES'], // STATUS_FILE_IS_A_DIRECTORY
  [0xc0000043, 'ETXTBSY'], // STATUS_SHARING_VIOLATION
  [0xc000012f, 'ENOEXEC'], // STATUS_INVALID_IMAGE_NOT_MZ
  [0xc000007b, 'ENOEXEC'], // STATUS_INVALID_IMAGE_FORMAT
  [0xc0000130, 'ENOEXEC'], // STATUS_INVALID_IMAGE_PROTECT
  [0xc0000131, 'ENOEXEC'], // STATUS_INVALID_IMAGE_WIN_16
  [0xc0000017, 'ENOMEM'], // STATUS_NO_MEMORY
  [0xc000009a, 'ENOMEM'], // STATUS_INSUFFICIENT_RESOURCES
]);

function statusHex(status: number): string {
  return `0x${(status >>> 0).toString(16).padStart(8, '0')}`;
}

function statusError(what: string, status: number, spec: ProcessSpec, api: Win32Api): SpawnError {
  const errno = FILE_STATUS_ERRNO.get(status >>> 0);
  return new SpawnError(
    `could not start ${spec.image}: ${what} failed with NTSTATUS ${statusHex(status)} (Win32 error ${api.RtlNtStatusToDosError(status)})`,
    {
      errno,
      command: spec.command,
      hint:
        errno === 'ENOEXEC'
          ? 'The file is not a Windows program (a PE image): run it through its interpreter.'
          : spawnHint(errno),
    },
  );
}

/** "\??\C:\dir\x.exe" for "C:\dir\x.exe", "\??\UNC\server\share\x.exe" for "\\server\share\x.exe". */
function ntPath(dosPath: string): string {
  if (dosPath.startsWith('\\\\?\\')) return `\\??\\${dosPath.slice(4)}`;
  if (dosPath.startsWith('\\\\')) return `\\??\\UNC\\${dosPath.slice(2)}`;
  return `\\??\\${dosPath}`;
}

let scratch: { address: bigint; view: DataView; bytes: Uint8Array } | undefined;

/** Native memory for the attribute list and what it points to, reused by every (synchronous) spawn. */
function scratchBlock(api: Win32Api) {
  if (scratch) return scratch;
  const address = api.koffi.alloc('uint8_t', SCRATCH.size) as bigint;
  const buffer = api.koffi.view(address, SCRATCH.size);
  scratch = { address, view: new DataView(buffer), bytes: new Uint8Array(buffer) };
  return scratch;
}

let parentConsole: bigint | undefined;

/** The console of this process, which a child shares as with CreateProcess's defaults. */
function consoleHandle(api: Win32Api): bigint {
  if (parentConsole !== undefined) return parentConsole;
  const own = new DataView(api.koffi.view(api.RtlGetCurrentPeb(), PEB_PROCESS_PARAMETERS + 8)).getBigUint64(
    PEB_PROCESS_PARAMETERS,
    true,
  );
  parentConsole = new DataView(api.koffi.view(own, PARAMS_PREFIX_SIZE)).getBigUint64(PARAMS_OFFSET.consoleHandle, true);
  return parentConsole;
}

/** Process parameters with the console and std handles set; the caller destroys them. */
function createParameters(api: Win32Api, spec: ProcessSpec): bigint {
  const params: [bigint | null] = [null];
  const status = api.RtlCreateProcessParametersEx(
    params,
    unicodeString(spec.image),
    null,
    unicodeString(spec.cwd),
    unicodeString(spec.commandLine),
    spec.environment,
    null,
    null,
    null,
    null,
    RTL_USER_PROC_PARAMS_NORMALIZED,
  );
  if (status < 0) throw statusError('RtlCreateProcessParametersEx', status, spec, api);
  const view = new DataView(api.koffi.view(params[0]!, PARAMS_PREFIX_SIZE));
  const [stdin, stdout, stderr] = spec.stdHandles;
  view.setBigUint64(PARAMS_OFFSET.consoleHandle, consoleHandle(api), true);
  view.setBigUint64(PARAMS_OFFSET.standardInput, stdin, true);
  view.setBigUint64(PARAMS_OFFSET.standardOutput, stdout, true);
  view.setBigUint64(PARAMS_OFFSET.standardError, stderr, true);
  view.setUint32(
    PARAMS_OFFSET.windowFlags,
    view.getUint32(PARAMS_OFFSET.windowFlags, true) | STARTF_USESTDHANDLES,
    true,
  );
  return params[0]!;
}

/** NtCreateUserProcess, suspended, inheriting exactly the std handles (PS_ATTRIBUTE_HANDLE_LIST). */
function ntCreateUserProcess(
  api: Win32Api,
  spec: ProcessSpec,
  params: bigint,
): { status: number; process?: bigint; thread?: bigint; pid?: number } {
  const { address, view, bytes } = scratchBlock(api);
  const image = Buffer.from(`${ntPath(spec.image)}\0`, 'utf16le');
  bytes.set(image, SCRATCH.imageName);
  bytes.fill(0, SCRATCH.clientId, SCRATCH.imageName);
  view.setBigUint64(SCRATCH.createInfo, BigInt(PS_CREATE_INFO_SIZE), true);

  const inherited = [...new Set(spec.stdHandles.filter((h) => h !== 0n))];
  inherited.forEach((handle, i) => view.setBigUint64(SCRATCH.handleList + 8 * i, handle, true));
  const attributes: [number, number, number][] = [
    [PS_ATTRIBUTE.imageName, image.length - 2, SCRATCH.imageName],
    [PS_ATTRIBUTE.clientId, CLIENT_ID_SIZE, SCRATCH.clientId],
  ];
  if (inherited.length) attributes.push([PS_ATTRIBUTE.handleList, 8 * inherited.length, SCRATCH.handleList]);
  view.setBigUint64(
    SCRATCH.attributeList,
    BigInt(PS_ATTRIBUTE_LIST_HEADER + PS_ATTRIBUTE_SIZE * attributes.length),
    true,
  );
  attributes.forEach(([attribute, size, offset], i) => {
    const at = SCRATCH.attributeList + PS_ATTRIBUTE_LIST_HEADER + PS_ATTRIBUTE_SIZE * i;
    view.setBigUint64(at, BigInt(attribute), true);
    view.setBigUint64(at + 8, BigInt(size), true);
    view.setBigUint64(at + 16, address + BigInt(offset), true);
    view.setBigUint64(at + 24, 0n, true);
  });

  const process: [bigint | null] = [null];
  const thread: [bigint | null] = [null];
  const status = api.NtCreateUserProcess(
    process,
    thread,
    PROCESS_ALL_ACCESS,
    THREAD_ALL_ACCESS,
    null,
    null,
    inherited.length ? PROCESS_CREATE_FLAGS_INHERIT_HANDLES : 0,
    THREAD_CREATE_FLAGS_CREATE_SUSPENDED,
    params,
    address + BigInt(SCRATCH.createInfo),
    address + BigInt(SCRATCH.attributeList),
  );
  if (status < 0) return { status };
  return { status, process: process[0]!, thread: thread[0]!, pid: Number(view.getBigUint64(SCRATCH.clientId, true)) };
}

/** RtlCreateUserProcess: always suspended; inherits every inheritable handle of the parent. */
function rtlCreateUserProcess(
  api: Win32Api,
  spec: ProcessSpec,
  params: bigint,
): { status: number; process?: bigint; thread?: bigint; pid?: number } {
  const info: Partial<RtlUserProcessInformation> = {};
  const status = api.RtlCreateUserProcess(
    unicodeString(ntPath(spec.image)),
    OBJ_CASE_INSENSITIVE,
    params,
    null,
    null,
    null,
    1,
    null,
    null,
    info,
  );
  if (status < 0) return { status };
  return {
    status,
    process: info.ProcessHandle!,
    thread: info.ThreadHandle!,
    pid: Number(info.ClientId!.UniqueProcess),
  };
}

/**
 * Creates the process suspended with NtCreateUserProcess (RtlCreateUserProcess when asked, or
 * when the former fails for a reason other than the file), then resumes its first thread unless
 * `spec.suspended` asks to leave that to the caller.
 */
export function createProcess(api: Win32Api, spec: ProcessSpec): CreatedProcess {
  const params = createParameters(api, spec);
  let creator = spec.creator;
  let created;
  try {
    created =
      creator === 'NtCreateUserProcess'
        ? ntCreateUserProcess(api, spec, params)
        : rtlCreateUserProcess(api, spec, params);
    if (created.status < 0 && creator === 'NtCreateUserProcess' && !FILE_STATUS_ERRNO.has(created.status >>> 0)) {
      creator = 'RtlCreateUserProcess';
      created = rtlCreateUserProcess(api, spec, params);
    }
  } finally {
    api.RtlDestroyProcessParameters(params);
  }
  if (created.status < 0 || !isValidHandle(created.process)) throw statusError(creator, created.status, spec, api);
  if (spec.suspended) return { process: created.process, pid: created.pid!, creator, thread: created.thread! };
  const resumed = api.NtResumeThread(created.thread!, null);
  api.NtClose(created.thread!);
  if (resumed < 0) {
    api.NtTerminateProcess(created.process, 1);
    api.NtClose(created.process);
    throw statusError('NtResumeThread', resumed, spec, api);
  }
  return { process: created.process, pid: created.pid!, creator };
}
