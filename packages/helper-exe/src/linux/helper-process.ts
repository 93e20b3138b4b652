/**
 * One pre-started helper: a child of this process (started by the starter backend, or forked for
 * us by the zygote) with a socket on fd 3, which says hello, waits for one request and execs in
 * place. Its pid is the program's pid, and its exit status (reaped by the starter backend) is the
 * program's.
 */
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Backend, ExitStatus, SpawnedChild } from '@forkexec/core';
import { FdPassingError, type FdPassing, type TakeCheck } from './fd-passing.js';
import { MalformedReplyError, PROTOCOL_VERSION, ReplyReader, type EncodedRequest, type Reply } from './wire.js';

/** How the helper's side of the socket ended. */
export type Outcome =
  | { kind: 'exec' }
  | { kind: 'fail'; errno: number; index: number }
  | { kind: 'died' }
  | { kind: 'malformed'; why: string };

/** The helper's process: its exit, signals, and (optionally) whether waiting for it keeps Node alive. */
export type RefableChild = Pick<SpawnedChild, 'pid' | 'exited' | 'kill' | 'ref' | 'unref'> & {
  /** For a helper whose wait `unref` leaves alone: whether the program it became keeps Node alive. */
  refProgram?(): void;
  unrefProgram?(): void;
};

/** Starts the helper program with the starter backend, its end of a socketpair on fd 3; `args` follow the parent's pid. */
export function startHelperProgram(
  starter: Backend,
  helperPath: string,
  native: FdPassing,
  args: readonly string[] = [],
): { fd: number; child: SpawnedChild } {
  const [parentEnd, helperEnd] = native.socketpair();
  const argv = [helperPath, ...args, String(process.pid)];
  try {
    const child = starter.spawn({
      file: helperPath,
      argv,
      env: {},
      actions: [{ op: 'dup2', from: helperEnd, to: 3 }],
      stdio: ['ignore', 'ignore', 'ignore'],
      command: argv.join(' '),
    });
    return { fd: parentEnd, child };
  } catch (error) {
    closeSync(parentEnd);
    throw error;
  } finally {
    closeSync(helperEnd);
  }
}

export class HelperProcess {
  /** A helper started directly by the starter backend (the zygote forks the others). */
  static start(starter: Backend, helperPath: string, native: FdPassing): HelperProcess {
    const { fd, child } = startHelperProgram(starter, helperPath, native);
    // Its wait is unreferenced only with the program it runs (Subprocess#unref), never while it is
    // idle, so that Node lets the pool's helpers retire after idleTimeoutMs rather than exit under them.
    return new HelperProcess(fd, {
      pid: child.pid,
      exited: child.exited,
      kill: (signal) => child.kill(signal),
      unrefProgram: () => child.unref?.(),
      refProgram: () => child.ref?.(),
    });
  }

  readonly child: RefableChild;
  readonly pid: number | undefined;
  /** Resolves once the helper said hello with our protocol version; rejects when it cannot serve. */
  readonly ready: Promise<void>;
  /** Settles when the helper's socket closes: at exec, on failure, or when it dies. */
  readonly outcome: Promise<Outcome>;
  readonly exited: Promise<ExitStatus>;
  #socket: Socket;
  #fd: number;
  #requested = false;
  #sawHello = false;
  #sawExec = false;
  #failure: { errno: number; index: number } | undefined;
  #malformed: string | undefined;
  /** Whether the socket is open as far as we know (a plain field: the stream's getters cost on the spawn path). */
  #open = true;
  #markReady!: () => void;
  #markUnusable!: (error: Error) => void;

  /** Serves on `socketFd` (ours now) as `child`, which is already running the helper program. */
  constructor(socketFd: number, child: RefableChild) {
    this.child = child;
    this.pid = child.pid;
    this.#fd = socketFd;
    this.exited = child.exited;
    this.exited.catch(() => {}); // observed through outcome and by the request that uses the helper
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      this.#markUnusable = reject;
    });
    this.ready.catch(() => {});
    // Half-open allowed, and closed at the helper's EOF by hand: otherwise Node answers the EOF
    // by ending our side first (a shutdown call and a round of stream events, per spawn).
    this.#socket = new Socket({ fd: socketFd, readable: true, writable: true, allowHalfOpen: true });
    this.#socket.once('end', () => this.#close());
    const reader = new ReplyReader();
    this.outcome = new Promise<Outcome>((resolve) => {
      this.#socket.on('data', (chunk: Buffer) => {
        if (this.#malformed) return;
        try {
          for (const reply of reader.push(chunk)) this.#onReply(reply);
        } catch (error) {
          this.#misbehaved(error instanceof MalformedReplyError ? error.message : String(error));
        }
      });
      this.#socket.on('error', () => {}); // EPIPE/ECONNRESET: the close that follows tells the story
      this.#socket.once('close', () => {
        this.#open = false;
        if (!this.#malformed && reader.leftover)
          this.#malformed = `the socket closed inside a frame (${reader.leftover} stray bytes)`;
        this.#markUnusable(new Error(this.#malformed ?? 'the helper exited before saying hello'));
        if (this.#malformed) resolve({ kind: 'malformed', why: this.#malformed });
        else if (this.#failure) resolve({ kind: 'fail', ...this.#failure });
        else if (this.#sawExec) resolve({ kind: 'exec' });
        else resolve({ kind: 'died' });
      });
    });
  }

  #onReply(reply: Reply): void {
    if (!this.#sawHello) {
      if (reply.kind !== 'hello') return this.#misbehaved(`expected hello, got ${reply.kind}`);
      if (reply.version !== PROTOCOL_VERSION)
        return this.#misbehaved(
          `the helper speaks protocol version ${reply.version}, this package version ${PROTOCOL_VERSION}: rebuild the package`,
        );
      if (reply.pid !== this.pid) return this.#misbehaved(`hello from pid ${reply.pid}, expected ${this.pid}`);
      this.#sawHello = true;
      this.#markReady();
      return;
    }
    if (!this.#requested || this.#failure || (reply.kind === 'exec' && this.#sawExec))
      return this.#misbehaved(`unexpected ${reply.kind} frame`);
    if (reply.kind === 'exec') this.#sawExec = true;
    else if (reply.kind === 'fail') this.#failure = { errno: reply.errno, index: reply.index };
    else this.#misbehaved(`unexpected ${reply.kind} frame`);
  }

  /** A helper that breaks the protocol is killed; its request (if any) fails. */
  #misbehaved(why: string): void {
    this.#malformed ??= why;
    this.#markUnusable(new Error(why));
    this.child.kill('SIGKILL');
    this.#close();
  }

  #close(): void {
    this.#open = false;
    this.#socket.destroy();
  }

  get isReady(): boolean {
    return this.#open && this.#sawHello && !this.#malformed;
  }

  get isAlive(): boolean {
    return this.#open && !this.#malformed;
  }

  /**
   * Hands the helper its request: one sendmsg with the fds and as much as the socket buffer takes
   * (usually everything, one syscall), a copy of the rest through the stream, which handles
   * backpressure (the request's own buffer is reused by the next request encoded).
   */
  send(request: EncodedRequest, fds: readonly number[], native: FdPassing): void {
    if (this.#socket.destroyed) throw new FdPassingError('sendmsg', 'EPIPE'); // its fd number may be another's by now
    this.#requested = true;
    const { header, body } = request;
    const sent = native.sendWithFds(this.#fd, [header, body], fds);
    if (sent < header.length + body.length)
      this.#socket.write(
        sent < header.length
          ? Buffer.concat([header.subarray(sent), body])
          : Buffer.from(body.subarray(sent - header.length)),
      );
  }

  /**
   * What taking this helper must know, in one native call (see FdPassing.takeCheck): `hungUp` when
   * the helper is gone though the event loop has not seen it yet (killed an instant ago: its end
   * of the socket closed), so that a request is never handed to it; and the process's effective ids.
   */
  check(native: FdPassing, environ: Buffer | null): TakeCheck {
    const check = native.takeCheck(this.#fd, environ);
    check.hungUp ||= this.#socket.destroyed;
    return check;
  }

  /** Idle helpers must not keep Node alive; a helper with a request must. */
  setActive(active: boolean): void {
    if (active) {
      this.#socket.ref();
      this.child.ref?.();
    } else {
      this.#socket.unref();
      this.child.unref?.();
    }
  }

  /** Whether the program this helper became keeps Node alive (Subprocess#ref/unref), however the helper was started. */
  setProgramRef(ref: boolean): void {
    this.setActive(ref);
    if (ref) this.child.refProgram?.();
    else this.child.unrefProgram?.();
  }

  /** Ends an idle helper: closing the socket makes it exit; SIGKILL makes sure. Resolves once reaped. */
  async retire(): Promise<void> {
    this.child.ref?.(); // awaited now (dispose): an unreferenced wait would let Node exit before the reaping
    this.#close();
    this.child.kill('SIGKILL');
    await this.exited.catch(() => {});
  }
}
