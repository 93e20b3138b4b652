/**
 * One Windows helper of the pool: created suspended ahead of time (suspended-process.ts), so its
 * pid exists before any request, with the helper's end of a duplex control pipe as its only handle
 * (its stdin); our end is read and written through libuv. A request is written into the pipe and
 * the helper resumed; it replies once and closes the pipe.
 */
import { Socket } from 'node:net';
import { SpawnError } from '@forkexec/core';
import { TERMINATED_EXIT_STATUS, watchProcessHandle, type Win32Api } from '@forkexec/ntdll-backend/internal';
import { createSuspendedHelper, duplicateInto } from './suspended-process.js';
import { parseReply, REPLY_SIZE } from './wire.js';

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
    const created = createSuspendedHelper(api, helperPath, true);
    this.pid = created.pid;
    this.process = created.process;
    this.#thread = created.thread;
    this.#job = created.job;
    const fd = api.uv_open_osfhandle(created.control);
    if (fd < 0) {
      this.#abandon(created.control);
      throw new SpawnError("uv_open_osfhandle failed for a helper's control pipe");
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
    for (const handle of handles)
      if (!values.has(handle)) values.set(handle, duplicateInto(this.#api, this, handle, true));
    const job = duplicateInto(this.#api, this, this.#job!, false);
    this.#api.NtClose(this.#job!);
    this.#job = undefined;
    for (const part of encode(
      handles.map((h) => values.get(h)!),
      job,
    ))
      this.#control.write(part);
  }

  /** Lets a helper that has its request run; one that cannot be resumed is ended (its request fails). */
  resume(): void {
    const thread = this.#thread;
    if (thread === undefined) return;
    this.#thread = undefined;
    if (this.#api.NtResumeThread(thread, null) < 0) this.terminate();
    this.#api.NtClose(thread);
  }

  /** Ends the process (the caller's kill); false when it is already gone. */
  terminate(): boolean {
    return !this.#processClosed && this.#api.NtTerminateProcess(this.process, TERMINATED_EXIT_STATUS) >= 0;
  }

  /** Calls `onExit` once the helper has ended; the process handle is closed after it returns. */
  watch(onExit: () => void): void {
    watchProcessHandle(this.#api, this.process, () => {
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
