/**
 * The Windows helper's wire protocol (native/win32/fxhelper-win.c documents it): one request
 * header and body into the control pipe, one 16-byte reply out of it, then EOF.
 */
export const WIN32_PROTOCOL_VERSION = 1;
const REQUEST_MAGIC = 0x51575846; // "FXWQ"
const REPLY_MAGIC = 0x50575846; // "FXWP"
const HEADER_SIZE = 56;
export const REPLY_SIZE = 16;
/** Reply error: the helper could not read the request (malformed, cut short, or another version). */
const REFUSED = 0xffffffff;

interface HelperRequest {
  /** Full path of the program image. */
  image: string;
  commandLine: string;
  cwd: string;
  /** UTF-16 environment block, double-NUL terminated. */
  environment: Buffer;
}

/** The request's strings and environment, ready before a helper is chosen. */
export function encodeBody(request: HelperRequest): { body: Buffer; lengths: [number, number, number, number] } {
  const parts = [request.image, request.commandLine, request.cwd].map((s) => Buffer.from(s, 'utf16le'));
  return {
    body: Buffer.concat([...parts, request.environment]),
    lengths: [request.image.length, request.commandLine.length, request.cwd.length, request.environment.length],
  };
}

/** The header, once the values in the helper of the standard handles (0n: none) and of its job are known. */
export function encodeHeader(lengths: readonly number[], handles: readonly bigint[], job: bigint): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt32LE(REQUEST_MAGIC, 0);
  header.writeUInt32LE(WIN32_PROTOCOL_VERSION, 4);
  lengths.forEach((n, i) => header.writeUInt32LE(n, 8 + 4 * i));
  handles.forEach((h, i) => header.writeBigUInt64LE(h, 24 + 8 * i));
  header.writeBigUInt64LE(job, 48);
  return header;
}

export type HelperReply =
  | { kind: 'started'; pid: number }
  | { kind: 'failed'; error: number }
  | { kind: 'refused' }
  /** The pipe closed without a byte: the helper died (or was killed) before replying. */
  | { kind: 'none' }
  | { kind: 'malformed'; why: string };

/** What the helper said, from every byte it wrote before the pipe closed. */
export function parseReply(bytes: Buffer): HelperReply {
  if (bytes.length === 0) return { kind: 'none' };
  if (bytes.length !== REPLY_SIZE)
    return { kind: 'malformed', why: `${bytes.length} bytes instead of a ${REPLY_SIZE}-byte reply` };
  const magic = bytes.readUInt32LE(0);
  if (magic !== REPLY_MAGIC) return { kind: 'malformed', why: `bad magic 0x${magic.toString(16)}` };
  const version = bytes.readUInt32LE(4);
  if (version !== WIN32_PROTOCOL_VERSION)
    return {
      kind: 'malformed',
      why: `the helper speaks protocol version ${version}, this package version ${WIN32_PROTOCOL_VERSION}: rebuild the package`,
    };
  const error = bytes.readUInt32LE(8);
  if (error === REFUSED) return { kind: 'refused' };
  if (error !== 0) return { kind: 'failed', error };
  return { kind: 'started', pid: bytes.readUInt32LE(12) };
}
