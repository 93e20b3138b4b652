/**
 * The clone path (x86-64 Linux): native/clone-spawn.c starts the child with clone(CLONE_VM) and no
 * CLONE_VFORK, so the event loop gets the pid back in tens of microseconds while the child sets
 * itself up and execs on another core. A failure in the child (an action, or exec) arrives when the
 * child is reaped: it wrote errno and the action's index into its slot and exited 127.
 *
 * Lifetime rule: the child reads the request blob, its stack and the envp array concurrently with
 * this thread, until it execs or exits. A slot holds all three and is handed back only once the
 * child is reaped (the kernel cleared the slot's tid word long before): nothing the child may still
 * read is freed, reused or changed before then.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SpawnRequest } from '@forkexec/core';
import { loadKoffi, packageRoot } from '@forkexec/core/backend-kit';
import type { FileOp, SpawnPlan } from './spawn-plan.js';

/** fx_clone_version in native/clone-spawn.c: the layout this module writes. */
const CLONE_VERSION = 1;
/** The child's stack: the deepest frame is the PATH search (about 4.4 KiB); the rest stays untouched. */
const STACK_SIZE = 64 * 1024;
const LIBRARY = 'libfxclone.so';

// struct req in native/clone-spawn.c
const REQ_SETSID = 1;
const REQ_SETPGID = 2;
const REQ_SEARCH = 4;
const REQ_ENV_IN_BLOB = 8;
const HEADER_BYTES = 48;
const OP_BYTES = 24;
const OP_CODES = { dup2: 1, close: 2, open: 3, chdir: 4, closefrom: 5 } as const;

/** Where the child reports: [tid word (0 once it exec'd or exited), errno, action index]. */
export interface Slot {
  readonly state: Int32Array;
  readonly stack: unknown;
  /** Bumped at each reuse: a watcher holding an older number knows the slot moved on. */
  generation: number;
  /** What the child may read until it is reaped (kept referenced here until then). */
  keep: { blob: Buffer; envp: Buffer | null } | undefined;
  /** This slot's request blob, written anew for each child the slot serves (see blobFor) unless it holds that request already. */
  blob: Buffer | undefined;
  /** What the blob holds, when it can serve a request equal to it again as it is (see sameRequest). */
  encoded: Encoded | undefined;
}

/**
 * A request without actions whose environment is passed apart (an envp): its blob depends on
 * nothing else. The library spawns such a blob again as it is (its `relocated` flag), and the
 * slot is free, so the child that read it was reaped; sequential spawns of one command reuse
 * their slot's blob without writing it again.
 */
interface Encoded {
  file: string;
  searchPath: boolean;
  /** Copies: a caller of Backend.spawn may change its request's arrays afterwards. */
  argv: string[];
  ops: FileOp[];
}

/** A failure the child reported before or at exec. */
export interface ExecFailure {
  errno: number;
  /** Index of the request's action that failed; undefined for the program itself or stdio. */
  actionIndex: number | undefined;
}

interface CloneLibrary {
  spawn(stack: unknown, size: number, state: Int32Array, blob: Buffer, envp: Buffer | null): number;
  stackNew(size: number): unknown;
}

/** The directory this package ships its native parts in for this platform (dist/<platform>-<arch>/), if found. */
function nativeDir(): string | undefined {
  const root = packageRoot(import.meta.url, '@forkexec/ntdll-backend');
  return root && path.join(root, 'dist', `${process.platform}-${process.arch}`);
}

/** The library's path when this platform has the clone path and the library is there; else undefined. */
export function cloneLibraryPath(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const dir = nativeDir();
  const file = dir && path.join(dir, LIBRARY);
  return file && existsSync(file) ? file : undefined;
}

interface Koffi {
  load(path: string): { func(prototype: string): (...args: unknown[]) => unknown };
}

let library: CloneLibrary | null | undefined;

/** Binds the library once; null when it is absent or from another build (the posix_spawn path is used then). */
export function cloneLibrary(): CloneLibrary | null {
  if (library !== undefined) return library;
  const file = cloneLibraryPath();
  library = null;
  if (!file) return library;
  const koffi = loadKoffi<Koffi>(import.meta.url, 'the ntdll backend');
  let lib;
  try {
    lib = koffi.load(file);
    if (lib.func('int fx_clone_version(void)')() !== CLONE_VERSION) return library; // from another build
  } catch {
    return library; // does not load here (a noexec mount, another architecture's file): posix_spawn it is
  }
  // Buffers and typed arrays are passed to a synchronous koffi call as pointers to their own memory
  // (no copy), so the child reads the very bytes this module keeps alive in the slot.
  const spawn = lib.func('int fx_clone_spawn(void *stack, uint64_t size, void *slot, void *blob, void *envp)');
  const stackNew = lib.func('void *fx_stack_new(uint64_t size)');
  return (library = {
    spawn: spawn as CloneLibrary['spawn'],
    stackNew: (size) => stackNew(size),
  });
}

const free: Slot[] = [];

function takeSlot(lib: CloneLibrary): Slot | undefined {
  const slot = free.pop();
  if (slot) return slot;
  const stack = lib.stackNew(STACK_SIZE);
  if (!stack) return undefined;
  // Memory of its own (an ArrayBuffer): a small typed array may live in V8's heap, where the GC moves it.
  return {
    state: new Int32Array(new ArrayBuffer(12)),
    stack,
    generation: 0,
    keep: undefined,
    blob: undefined,
    encoded: undefined,
  };
}

/** Gives the slot back once its child is reaped; the failure it reported, if any. */
export function releaseSlot(slot: Slot): ExecFailure | undefined {
  const errno = slot.state[1];
  const action = slot.state[2];
  slot.keep = undefined;
  slot.generation++;
  free.push(slot);
  return errno === 0 ? undefined : { errno, actionIndex: action < 0 ? undefined : action };
}

/** The child's environment: its variables, or a ready envp (a copy of environ, see parentEnviron). */
type ChildEnv = Record<string, string> | Buffer;

/**
 * Writes the request as native/clone-spawn.c reads it: header, file actions, pointer arrays (as
 * offsets, turned into addresses by the library), then the strings, NUL-terminated.
 */
function encode(request: SpawnRequest, env: ChildEnv, plan: SpawnPlan, slot: Slot): Buffer {
  const reusable = Buffer.isBuffer(env) && request.actions.length === 0;
  if (reusable && slot.blob && sameRequest(slot.encoded, request, plan.fileOps)) return slot.blob;
  slot.encoded = undefined; // the blob is about to change
  const envStrings = Buffer.isBuffer(env) ? undefined : Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const argv = request.argv;
  const ops = plan.fileOps;
  const arrays = HEADER_BYTES + ops.length * OP_BYTES;
  const argvAt = arrays + ((8 - (arrays % 8)) % 8);
  const envAt = argvAt + 8 * (argv.length + 1);
  let stringsAt = envAt + (envStrings ? 8 * (envStrings.length + 1) : 0);
  let size = stringsAt + Buffer.byteLength(request.file) + 1;
  for (const arg of argv) size += Buffer.byteLength(arg) + 1;
  if (envStrings) for (const entry of envStrings) size += Buffer.byteLength(entry) + 1;
  for (const op of ops) if (op.op === 'open' || op.op === 'chdir') size += Buffer.byteLength(op.path) + 1;

  const blob = blobFor(slot, size);
  const put = (text: string): number => {
    const at = stringsAt;
    stringsAt += blob.write(text, at) + 1; // the blob is zeroed: the NUL is there
    return at;
  };
  const setsidIndex = request.actions.findIndex((a) => a.op === 'setsid');
  const setpgidIndex = request.actions.findLastIndex((a) => a.op === 'setpgid');
  let flags = 0;
  if (plan.setsid) flags |= REQ_SETSID;
  if (plan.pgroup !== undefined) flags |= REQ_SETPGID;
  if (request.searchPath) flags |= REQ_SEARCH;
  if (envStrings) flags |= REQ_ENV_IN_BLOB;
  blob.writeUInt32LE(flags, 0);
  blob.writeInt32LE(plan.pgroup ?? 0, 4);
  blob.writeInt32LE(setsidIndex, 8);
  blob.writeInt32LE(setpgidIndex, 12);
  blob.writeUInt32LE(ops.length, 16);
  blob.writeUInt32LE(HEADER_BYTES, 20);
  blob.writeUInt32LE(put(request.file), 24);
  blob.writeUInt32LE(argvAt, 28);
  blob.writeUInt32LE(envStrings ? envAt : 0, 32);
  for (const signal of plan.sigmask) {
    const at = 40 + ((signal - 1) >> 5) * 4; // the u64 mask as two little-endian words
    blob.writeUInt32LE((blob.readUInt32LE(at) | (1 << ((signal - 1) & 31))) >>> 0, at);
  }
  ops.forEach((op, i) => {
    const at = HEADER_BYTES + i * OP_BYTES;
    blob.writeInt32LE(OP_CODES[op.op], at);
    if (op.op === 'dup2') {
      blob.writeInt32LE(op.from, at + 4);
      blob.writeInt32LE(op.to, at + 8);
    } else if (op.op === 'open') {
      blob.writeInt32LE(op.fd, at + 4);
      blob.writeInt32LE(op.flags, at + 8);
      blob.writeInt32LE(op.mode, at + 12);
      blob.writeUInt32LE(put(op.path), at + 16);
    } else if (op.op === 'chdir') blob.writeUInt32LE(put(op.path), at + 16);
    else blob.writeInt32LE(op.fd, at + 4);
    blob.writeInt32LE(op.actionIndex ?? -1, at + 20);
  });
  // Offsets as u64: the blob is zeroed and far below 4 GiB, so the low word is all there is to write.
  for (let i = 0; i < argv.length; i++) blob.writeUInt32LE(put(argv[i]), argvAt + 8 * i);
  if (envStrings) for (let i = 0; i < envStrings.length; i++) blob.writeUInt32LE(put(envStrings[i]), envAt + 8 * i);
  if (reusable)
    slot.encoded = { file: request.file, searchPath: !!request.searchPath, argv: argv.slice(), ops: ops.slice() };
  return blob;
}

/** Whether `encoded` (a request without actions) holds `request`'s program, arguments and file actions. */
function sameRequest(encoded: Encoded | undefined, request: SpawnRequest, ops: readonly FileOp[]): boolean {
  if (!encoded || encoded.file !== request.file || encoded.searchPath !== !!request.searchPath) return false;
  const { argv } = request;
  if (encoded.argv.length !== argv.length || encoded.ops.length !== ops.length) return false;
  for (let i = 0; i < argv.length; i++) if (encoded.argv[i] !== argv[i]) return false;
  for (let i = 0; i < ops.length; i++) if (!sameOp(encoded.ops[i], ops[i])) return false;
  return true;
}

function sameOp(a: FileOp, b: FileOp): boolean {
  if (a.op !== b.op || a.actionIndex !== b.actionIndex) return false;
  switch (a.op) {
    case 'dup2':
      return a.from === (b as typeof a).from && a.to === (b as typeof a).to;
    case 'open':
      return (
        a.fd === (b as typeof a).fd &&
        a.flags === (b as typeof a).flags &&
        a.mode === (b as typeof a).mode &&
        a.path === (b as typeof a).path
      );
    case 'chdir':
      return a.path === (b as typeof a).path;
    default:
      return a.fd === (b as typeof a).fd;
  }
}

/** Bytes a slot's blob holds at least: most requests fit, and the slot never needs another. */
const MIN_BLOB_BYTES = 2048;

/**
 * The slot's blob, zeroed over `size` bytes (the encoding leaves the NULs and unused fields to the
 * zeros). Reusing it is safe: the slot is free, so the child that read it was reaped. Its memory
 * is an ArrayBuffer of its own, never in V8's moving heap; a new one per spawn cost more than the
 * rest of the encoding.
 */
function blobFor(slot: Slot, size: number): Buffer {
  let blob = slot.blob;
  if (blob && blob.length >= size) blob.fill(0, 0, size);
  else blob = slot.blob = Buffer.from(new ArrayBuffer(Math.max(size, MIN_BLOB_BYTES)));
  return blob;
}

/** The child started (its setup and exec go on concurrently), or clone's errno (nothing started). */
export type CloneOutcome = { pid: number; slot: Slot } | { errno: number };

export function cloneSpawn(lib: CloneLibrary, request: SpawnRequest, env: ChildEnv, plan: SpawnPlan): CloneOutcome {
  const slot = takeSlot(lib);
  if (!slot) return { errno: 12 }; // ENOMEM: no stack could be mapped
  let blob;
  try {
    blob = encode(request, env, plan, slot);
  } catch (error) {
    free.push(slot); // nothing started: the slot is free again
    throw error;
  }
  const envp = Buffer.isBuffer(env) ? env : null;
  slot.keep = { blob, envp };
  const pid = lib.spawn(slot.stack, STACK_SIZE, slot.state, blob, envp);
  if (pid < 0) {
    slot.keep = undefined;
    free.push(slot);
    return { errno: -pid };
  }
  return { pid, slot };
}

/** Whether the child left this address space by exec (true) or is still setting up / failed (false). */
export function hasExeced(slot: Slot, generation: number): boolean | undefined {
  if (slot.generation !== generation) return undefined; // reaped meanwhile: the exit tells
  return slot.state[0] === 0 && slot.state[1] === 0;
}
