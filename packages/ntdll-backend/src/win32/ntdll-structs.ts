// Layouts of the NT structures the Windows backend passes (x64). koffi types carry the FX_ prefix;
// the structures that point into native memory are written by hand into a scratch block instead.
/** koffi's API (its types only: nothing is loaded here). */
export type Koffi = typeof import('koffi');

/** Byte offsets inside RTL_USER_PROCESS_PARAMETERS. */
export const PARAMS_OFFSET = {
  consoleHandle: 0x10,
  standardInput: 0x20,
  standardOutput: 0x28,
  standardError: 0x30,
  windowFlags: 0xa4,
} as const;
export const PARAMS_PREFIX_SIZE = 0xb0;
/** Offset of ProcessParameters in the PEB. */
export const PEB_PROCESS_PARAMETERS = 0x20;
/** STARTUPINFO.dwFlags bit: the std handles in the parameters are meant. */
export const STARTF_USESTDHANDLES = 0x100;

/** PS_CREATE_INFO is opaque here: only its Size field (offset 0) is set, the rest is zero. */
export const PS_CREATE_INFO_SIZE = 88;
/** PS_ATTRIBUTE_LIST: TotalLength (SIZE_T), then PS_ATTRIBUTE { Attribute, Size, Value, ReturnLength } entries. */
export const PS_ATTRIBUTE_LIST_HEADER = 8;
export const PS_ATTRIBUTE_SIZE = 32;
/** PsAttributeValue(number, thread, input, additive): number | 0x10000 thread | 0x20000 input | 0x40000 additive. */
export const PS_ATTRIBUTE = {
  clientId: 0x10003, // PsAttributeClientId (3), output
  handleList: 0x2000b, // PsAttributeHandleList (11), input; 0x20002 would be PsAttributeToken
  imageName: 0x20005, // PsAttributeImageName (5), input
} as const;
export const CLIENT_ID_SIZE = 16;

/** Scratch block layout: spawn is synchronous, so one block serves every spawn. */
export const SCRATCH = {
  attributeList: 0,
  clientId: 128,
  handleList: 144,
  createInfo: 176,
  imageName: 272,
  /** Room for a 32767-character NT path and its NUL. */
  size: 272 + 65536,
} as const;

let defined = false;

/** Registers the FX_ koffi types once. */
export function defineStructs(koffi: Koffi): void {
  if (defined) return;
  koffi.struct('FX_UNICODE_STRING', { Length: 'uint16_t', MaximumLength: 'uint16_t', Buffer: 'const char16_t *' });
  koffi.struct('FX_CLIENT_ID', { UniqueProcess: 'uintptr_t', UniqueThread: 'uintptr_t' });
  koffi.struct('FX_PROCESS_BASIC_INFORMATION', {
    ExitStatus: 'int32_t',
    PebBaseAddress: 'void *',
    AffinityMask: 'uintptr_t',
    BasePriority: 'int32_t',
    UniqueProcessId: 'uintptr_t',
    InheritedFromUniqueProcessId: 'uintptr_t',
  });
  koffi.struct('FX_RTL_USER_PROCESS_INFORMATION', {
    Length: 'uint32_t',
    ProcessHandle: 'void *',
    ThreadHandle: 'void *',
    ClientId: 'FX_CLIENT_ID',
    ImageInformation: koffi.array('uint8_t', 64),
  });
  koffi.struct('FX_SECURITY_ATTRIBUTES', {
    nLength: 'uint32_t',
    lpSecurityDescriptor: 'void *',
    bInheritHandle: 'int32_t',
  });
  koffi.proto('void __stdcall FX_WaitOrTimerCallback(uintptr_t context, uint8_t timedOut)');
  defined = true;
}

/** A UNICODE_STRING as koffi marshals it from a JS string (valid for the duration of one call). */
export interface UnicodeString {
  Length: number;
  MaximumLength: number;
  Buffer: string;
}

export function unicodeString(text: string): UnicodeString {
  return { Length: text.length * 2, MaximumLength: text.length * 2 + 2, Buffer: text };
}

export interface ProcessBasicInformation {
  ExitStatus: number;
}

export interface RtlUserProcessInformation {
  ProcessHandle: bigint;
  ThreadHandle: bigint;
  ClientId: { UniqueProcess: number | bigint };
}
