/**
 * The helper's wire protocol, version 2 (native/fxhelper.c documents it; native/action-core.c the
 * action records). Little-endian integers; strings are u32 length, UTF-8 bytes, NUL.
 */
import { openFlagsNumber, RLIMIT_RESOURCES, signalNumber, type Action } from '@forkexec/core';

export const PROTOCOL_VERSION = 2;
/** Request flag: find a bare `file` in the environment's PATH as execvp does, without a shell. */
const SEARCH_PATH = 1;
export const REQUEST_MAGIC = 0x51525846; // "FXRQ"
export const REPLY_MAGIC = 0x50525846; // "FXRP"
export const FRAME_SIZE = 16;
/** The most fds one request may pass (the kernel's SCM_MAX_FD). */
export const MAX_PASSED_FDS = 253;
/** FAIL frame index for the exec itself, and for a request the helper could not take. */
export const EXEC_FAILED = -1;
export const REQUEST_REFUSED = -2;
/** FAIL frame index when the helper cannot enter the parent's working directory. */
export const CWD_FAILED = -3;
/** FAIL frame index when the zygote could not fork a helper. */
export const FORK_FAILED = -4;
/** A request to the zygote: one frame, the new helper's socket end attached. */
const ZYGOTE_REQUEST_MAGIC = 0x515a5846; // "FXZQ"

/** Record tags: enum fx_op of native/action-core.c. */
const Op = {
  Dup2: 1,
  Close: 2,
  Open: 3,
  Chdir: 4,
  Setsid: 6,
  Setpgid: 7,
  Umask: 8,
  Sigdefault: 9,
  Sigignore: 10,
  Sigmask: 11,
  Closefrom: 12,
  Setgroups: 13,
  Setgid: 14,
  Setuid: 15,
  SetrlimitByName: 17,
  Nice: 18,
} as const;

const U32_MAX = 0xffffffff;

/** Where one of the program's starting fds comes from: a passed fd (by index), /dev/null, or nothing. */
type FdSource = number | 'devnull' | 'closed';
export interface FdSetup {
  target: number;
  source: FdSource;
  /** Keep the parent fd's close-on-exec flag: the program never sees it unless an action dup2s it. */
  closeOnExec?: boolean;
}

/** Strings up to this length are tried as ASCII first (see Writer.#ascii). */
const ASCII_INLINE_MAX = 256;

/** Appends little-endian fields to one growing buffer. */
class Writer {
  #buf: Buffer;
  #length = 0;

  /** Writes into `buf` (from its start) until it is too small, then into a bigger copy. */
  constructor(buf: Buffer = Buffer.allocUnsafe(2048)) {
    this.#buf = buf;
  }

  /** The buffer written into (a bigger one once `buf` was outgrown). */
  get buffer(): Buffer {
    return this.#buf;
  }

  #reserve(bytes: number): void {
    if (this.#length + bytes <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#length + bytes));
    this.#buf.copy(bigger, 0, 0, this.#length);
    this.#buf = bigger;
  }

  u32(value: number): this {
    this.#reserve(4);
    this.#length = this.#buf.writeUInt32LE(value >>> 0, this.#length);
    return this;
  }

  i32(value: number): this {
    return this.u32(value | 0);
  }

  /** A limit as u64; Infinity stands for RLIM_INFINITY (all ones). */
  limit(value: number): this {
    if (value === Infinity) return this.u32(U32_MAX).u32(U32_MAX);
    return this.u32(value % 2 ** 32).u32(Math.floor(value / 2 ** 32));
  }

  str(value: string): this {
    if (value.length <= ASCII_INLINE_MAX && this.#ascii(value)) return this;
    const bytes = Buffer.byteLength(value, 'utf8');
    this.u32(bytes);
    this.#reserve(bytes + 1);
    this.#length += this.#buf.write(value, this.#length, 'utf8');
    this.#buf[this.#length++] = 0;
    return this;
  }

  /**
   * Writes a short all-ASCII string (length, bytes, NUL) in plain JS, without the two native calls
   * of the UTF-8 path (paths and arguments mostly are); false, having written nothing, otherwise.
   */
  #ascii(value: string): boolean {
    this.#reserve(4 + value.length + 1);
    const buf = this.#buf;
    const start = this.#length + 4;
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code > 0x7f) return false;
      buf[start + i] = code;
    }
    buf.writeUInt32LE(value.length, this.#length);
    buf[start + value.length] = 0;
    this.#length = start + value.length + 1;
    return true;
  }

  bytes(data: Buffer): this {
    this.#reserve(data.length);
    this.#length += data.copy(this.#buf, this.#length);
    return this;
  }

  /** Writes a u32 over bytes already written (a length known only at the end). */
  patchU32(at: number, value: number): void {
    this.#buf.writeUInt32LE(value >>> 0, at);
  }

  get length(): number {
    return this.#length;
  }

  done(): Buffer {
    return this.#buf.subarray(0, this.#length);
  }
}

function signalList(w: Writer, signals: readonly (NodeJS.Signals | number)[] | 'all'): void {
  const numbers = signals === 'all' ? [0] : signals.map(signalNumber);
  w.u32(numbers.length);
  for (const n of numbers) w.i32(n);
}

/** One action as the record the helper's action core runs. */
function encodeAction(w: Writer, action: Action): void {
  switch (action.op) {
    case 'dup2':
      w.u32(Op.Dup2).i32(action.from).i32(action.to);
      break;
    case 'close':
      w.u32(Op.Close).i32(action.fd);
      break;
    case 'open':
      w.u32(Op.Open)
        .i32(action.fd)
        .i32(openFlagsNumber(action.flags))
        .u32(action.mode ?? 0o666)
        .str(action.path);
      break;
    case 'chdir':
      w.u32(Op.Chdir).str(action.path);
      break;
    case 'setsid':
      w.u32(Op.Setsid);
      break;
    case 'setpgid':
      w.u32(Op.Setpgid).i32(action.pgid);
      break;
    case 'umask':
      w.u32(Op.Umask).u32(action.mask);
      break;
    case 'sigdefault':
      signalList(w.u32(Op.Sigdefault), action.signals);
      break;
    case 'sigignore':
      signalList(w.u32(Op.Sigignore), action.signals);
      break;
    case 'sigmask':
      signalList(w.u32(Op.Sigmask), action.signals);
      break;
    case 'closefrom':
      w.u32(Op.Closefrom).i32(action.fd);
      break;
    case 'setgroups':
      w.u32(Op.Setgroups).u32(action.groups.length);
      for (const gid of action.groups) w.u32(gid);
      break;
    case 'setgid':
      w.u32(Op.Setgid).u32(action.gid);
      break;
    case 'setuid':
      w.u32(Op.Setuid).u32(action.uid);
      break;
    case 'setrlimit':
      w.u32(Op.SetrlimitByName).u32(RLIMIT_RESOURCES.indexOf(action.resource)).limit(action.soft).limit(action.hard);
      break;
    case 'nice':
      w.u32(Op.Nice).i32(action.inc);
      break;
  }
}

/** The last environment encoded: requests mostly repeat the same one, and encoding it is most of the cost. */
let lastEnv: { keys: string[]; values: string[]; bytes: Buffer } | undefined;

/** An environment as the request carries it (count, then `key=value` strings). */
export function envBlock(env: Record<string, string>): Buffer {
  const keys = Object.keys(env);
  if (
    lastEnv &&
    lastEnv.keys.length === keys.length &&
    keys.every((key, i) => key === lastEnv!.keys[i] && env[key] === lastEnv!.values[i])
  )
    return lastEnv.bytes;
  const w = new Writer().u32(keys.length);
  for (const key of keys) w.str(`${key}=${env[key]}`);
  lastEnv = { keys, values: keys.map((key) => env[key]), bytes: Buffer.from(w.done()) };
  return lastEnv.bytes;
}

export interface EncodedRequest {
  /** The frame: the fds go with its first byte. */
  header: Buffer;
  /** Follows the header. */
  body: Buffer;
}

/**
 * The buffer every request is encoded into: a request is sent (or copied) before the next one is
 * encoded, so one buffer serves them all (no allocation per spawn). Kept up to this size.
 */
const SCRATCH_MAX = 64 * 1024;
let scratch: Buffer = Buffer.allocUnsafeSlow(4096);

/** What the program is: path (or a bare name to search for), argv, environment, the parent's working directory ('' to keep the helper's), actions. */
export interface Program {
  file: string;
  /** `file` is a bare name to find in the environment's PATH (SpawnRequest.searchPath). */
  searchPath?: boolean;
  cwd: string;
  argv: readonly string[];
  /** The variables, or their block from envBlock(). */
  env: Record<string, string> | Buffer;
  actions: readonly Action[];
}

/** The zygote's request frame (the fd travels with it). */
export function zygoteRequest(): Buffer {
  const frame = Buffer.alloc(FRAME_SIZE);
  frame.writeUInt32LE(ZYGOTE_REQUEST_MAGIC, 0);
  frame.writeUInt32LE(PROTOCOL_VERSION, 4);
  return frame;
}

/**
 * The request frame and body (the body's length is filled in last). Both live in a buffer that the
 * next call reuses: send them, or copy them, before encoding another request.
 */
export function encodeRequest(
  { file, searchPath, cwd, argv, env, actions }: Program,
  setup: readonly FdSetup[],
  fdCount: number,
): EncodedRequest {
  const w = new Writer(scratch).u32(REQUEST_MAGIC).u32(PROTOCOL_VERSION).u32(0).u32(fdCount);
  w.u32(searchPath ? SEARCH_PATH : 0)
    .str(file)
    .str(cwd)
    .u32(argv.length);
  for (const arg of argv) w.str(arg);
  w.bytes(Buffer.isBuffer(env) ? env : envBlock(env));
  w.u32(setup.length);
  for (const { target, source, closeOnExec } of setup)
    w.i32(target)
      .i32(source === 'devnull' ? -1 : source === 'closed' ? -2 : source)
      .u32(closeOnExec ? 1 : 0);
  for (const action of actions) encodeAction(w, action);
  w.patchU32(8, w.length - FRAME_SIZE);
  if (w.buffer.length <= SCRATCH_MAX) scratch = w.buffer;
  const frame = w.done();
  return { header: frame.subarray(0, FRAME_SIZE), body: frame.subarray(FRAME_SIZE) };
}

export type Reply =
  | { kind: 'hello'; version: number; pid: number }
  | { kind: 'zygote-hello'; version: number; pid: number }
  | { kind: 'spawned'; pid: number }
  | { kind: 'exec' }
  | { kind: 'fail'; errno: number; index: number };

export class MalformedReplyError extends Error {}

/** Splits the helper's byte stream into frames; throws MalformedReplyError on anything else. */
const NOTHING = Buffer.alloc(0);

export class ReplyReader {
  #rest = NOTHING;

  push(chunk: Buffer): Reply[] {
    const data = this.#rest.length ? Buffer.concat([this.#rest, chunk]) : chunk;
    const replies: Reply[] = [];
    let at = 0;
    for (; at + FRAME_SIZE <= data.length; at += FRAME_SIZE) replies.push(parseFrame(data, at));
    this.#rest = at === data.length ? NOTHING : Buffer.from(data.subarray(at));
    return replies;
  }

  /** Bytes of an incomplete frame left over (malformed once the stream has ended). */
  get leftover(): number {
    return this.#rest.length;
  }
}

/**
 * The little-endian int32 at `at`. Each reply is parsed on the way from the helper's exit to the
 * caller's result: a Buffer's read methods cost two calls each there (the read and its check).
 */
function int32(data: Buffer, at: number): number {
  return data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24);
}

/** The frame at `at` of `data`. */
function parseFrame(data: Buffer, at: number): Reply {
  const magic = int32(data, at) >>> 0;
  if (magic !== REPLY_MAGIC) throw new MalformedReplyError(`bad frame magic 0x${magic.toString(16)}`);
  const kind = int32(data, at + 4) >>> 0;
  const a = int32(data, at + 8);
  const b = int32(data, at + 12);
  switch (kind) {
    case 1:
      return { kind: 'hello', version: a, pid: b };
    case 2:
      return { kind: 'exec' };
    case 3:
      return { kind: 'fail', errno: a, index: b };
    case 4:
      return { kind: 'zygote-hello', version: a, pid: b };
    case 5:
      return { kind: 'spawned', pid: a };
    default:
      throw new MalformedReplyError(`unknown frame kind ${kind}`);
  }
}
