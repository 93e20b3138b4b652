/**
 * One Windows helper: created suspended by the ntdll backend's NtCreateUserProcess ahead of time,
 * so its pid exists before any request, with the helper's end of a duplex control pipe as its
 * only handle (its stdin). A request is written into the pipe and the helper resumed; it replies
 * once and closes the pipe.
 */
import { Socket } from 'node:net';
import path from 'node:path';
import { SpawnError } from '@forkexec/core';
import { win32Internals } from '@forkexec/ntdll-backend';
import { killOnCloseJob } from './job-objects.js';
import { parseReply, REPLY_SIZE } from './wire.js';

type Win32Api = win32Internals.Win32Api;
const { createProcess, environmentBlock, isValidHandle, watchExit, CURRENT_PROCESS, TERMINATED_EXIT_STATUS } = win32Internals;

const PIPE_ACCESS_DUPLEX = 0x3;
const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x80000;
const FILE_FLAG_OVERLAPPED = 0x40000000;
const PIPE_REJECT_REMOTE_CLIENTS = 0x8;
const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const OPEN_EXISTING = 3;
const DUPLICATE_SAME_ACCESS = 2;
const INHERITABLE = { nLength: 24, lpSecurityDescriptor: null, bInheritHandle: 1 };
let pipeCounter = 0;

/** An overlapped end for the parent (read and written through libuv) and an inheritable synchronous end for the helper. */
function controlPipe(api: Win32Api): { parent: bigint; helper: bigint } {
  const name = `\\\\.\\pipe\\forkexec-helper-${process.pid}-${++pipeCounter}-${Math.random().toString(36).slice(2)}`;
  const parent = api.CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE, PIPE_REJECT_REMOTE_CLIENTS, 1, 65536, 65536, 0, null);
  if (!isValidHandle(parent)) throw new SpawnError(`CreateNamedPipeW failed for a helper's control pipe (error ${api.GetLastError()})`);
  const helper = api.CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, INHERITABLE, OPEN_EXISTING, 0, null);
  if (!isValidHandle(helper)) {
    const error = api.GetLastError();
    api.NtClose(parent);
    throw new SpawnError(`opening the helper's end of its control pipe failed (error ${error})`);
  }
  return { parent, helper };
}

/** The helper reads nothing from its environment; Windows wants SystemRoot to be there. */
let helperEnvironment: Buffer | undefined;

export class SuspendedHelper {
  readonly pid: number;
  readonly process: bigint;
  /** Every byte the helper wrote, once the control pipe closed (at its reply, or when it died). */
  readonly reply: Promise<Buffer>;
  /** Resolves once the helper has ended and its handles are closed. */
  readonly ended: Promise<void>;
  #markEnded!: () => void;
  #api: Win32Api;
  #thread: bigint | undefined;
  #job: bigint | undefined;
  #control: Socket;
  #closed = false;
  #processClosed = false;

  constructor(api: Win32Api, helperPath: string) {
    this.#api = api;
    this.ended = new Promise((resolve) => (this.#markEnded = resolve));
    const pipe = controlPipe(api);
    let created;
    try {
      helperEnvironment ??= environmentBlock({ SystemRoot: process.env.SystemRoot ?? 'C:\\Windows' });
      created = createProcess(api, {
        image: helperPath,
        commandLine: `"${helperPath}"`,
        // Not the parent's cwd: a Windows process keeps its directory open, which would block removing it.
        cwd: path.win32.dirname(helperPath),
        environment: helperEnvironment,
        stdHandles: [pipe.helper, 0n, 0n],
        creator: 'NtCreateUserProcess',
        command: helperPath,
        suspended: true,
      });
    } catch (error) {
      api.NtClose(pipe.parent);
      throw error;
    } finally {
      api.NtClose(pipe.helper);
    }
    this.pid = created.pid;
    this.process = created.process;
    this.#thread = created.thread;
    try {
      this.#job = killOnCloseJob(api, created.process);
    } catch (error) {
      this.#abandon(pipe.parent);
      throw error;
    }
    const fd = api.uv_open_osfhandle(pipe.parent);
    if (fd < 0) {
      this.#abandon(pipe.parent);
      throw new SpawnError('uv_open_osfhandle failed for a helper\'s control pipe');
    }
    this.#control = new Socket({ fd, readable: true, writable: true });
    const chunks: Buffer[] = [];
    let size = 0;
    this.reply = new Promise((resolve) => {
      this.#control.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // A reply is 16 bytes, then EOF: a helper writing anything else is ended at once.
        if (size >= REPLY_SIZE && parseReply(Buffer.concat(chunks)).kind === 'malformed') this.#terminate();
      });
      this.#control.on('error', () => {}); // the close that follows tells the story
      this.#control.once('close', () => {
        this.#closed = true;
        resolve(Buffer.concat(chunks));
      });
    });
  }

  /** Still waiting for a request: suspended, its control pipe open, no job handed over. */
  get isAlive(): boolean {
    return !this.#closed && this.#job !== undefined;
  }

  /** Idle helpers must not keep Node alive; a helper with a request must. */
  setActive(active: boolean): void {
    if (active) this.#control.ref();
    else this.#control.unref();
  }

  /**
   * Hands the request over: the program's standard handles (inheritable; 0n stays 0n) and the
   * helper's job are duplicated into the helper, which from then on holds the job's only handle,
   * and the request goes into the pipe (`encode` builds it from those values). resume() lets it run.
   */
  handOver(handles: readonly bigint[], encode: (values: bigint[], job: bigint) => Buffer[]): void {
    const values = new Map<bigint, bigint>([[0n, 0n]]);
    for (const handle of handles) if (!values.has(handle)) values.set(handle, this.#duplicateInto(handle, true));
    const job = this.#duplicateInto(this.#job!, false);
    this.#api.NtClose(this.#job!);
    this.#job = undefined;
    for (const part of encode(handles.map((h) => values.get(h)!), job)) this.#control.write(part);
  }

  /** Lets a helper that has its request run; one that cannot be resumed is ended (its request fails). */
  resume(): void {
    const thread = this.#thread;
    if (thread === undefined) return;
    this.#thread = undefined;
    if (this.#api.NtResumeThread(thread, null) < 0) this.terminate();
    this.#api.NtClose(thread);
  }

  #duplicateInto(handle: bigint, inheritable: boolean): bigint {
    const copy: [bigint | null] = [null];
    if (!this.#api.DuplicateHandle(CURRENT_PROCESS, handle, this.process, copy, 0, inheritable ? 1 : 0, DUPLICATE_SAME_ACCESS))
      throw new SpawnError(`DuplicateHandle into helper ${this.pid} failed (error ${this.#api.GetLastError()})`);
    return copy[0]!;
  }

  /** Ends the process (the caller's kill); false when it is already gone. */
  terminate(): boolean {
    return !this.#processClosed && this.#api.NtTerminateProcess(this.process, TERMINATED_EXIT_STATUS) >= 0;
  }

  /** Calls `onExit` once the helper has ended; the process handle is closed after it returns. */
  watch(onExit: () => void): void {
    watchExit(this.#api, this.process, () => {
      try {
        onExit();
      } finally {
        this.#closeHandles();
      }
    });
  }

  /** Ends an unused helper and resolves once it is gone, every handle closed. */
  retire(): Promise<void> {
    this.#terminate();
    return new Promise((resolve) => {
      try {
        this.watch(resolve);
      } catch {
        this.#closeHandles();
        resolve();
      }
    });
  }

  /** A helper that could not be set up: ended, every handle closed. */
  #abandon(controlEnd: bigint): void {
    this.terminate();
    this.#api.NtClose(controlEnd);
    this.#api.NtClose(this.#thread!);
    this.#thread = undefined;
    this.#closeHandles();
  }

  #terminate(): void {
    this.terminate();
    this.#control.destroy();
    if (this.#thread !== undefined) this.#api.NtClose(this.#thread);
    this.#thread = undefined;
  }

  #closeHandles(): void {
    if (this.#processClosed) return;
    this.#processClosed = true;
    if (this.#job !== undefined) this.#api.NtClose(this.#job);
    this.#job = undefined;
    this.#api.NtClose(this.process);
    this.#markEnded();
  }
}
