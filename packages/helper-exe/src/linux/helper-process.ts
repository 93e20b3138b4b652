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

/** Where replies are read into when nobody watches the socket (the reader copies what it keeps). */
const QUEUED = Buffer.alloc(256);

/**
 * How the replies of a helper are learnt. Quietly by default: nothing watches its socket, and
 * its replies (hello, then EXEC or FAIL) are read once it exited: it wrote them before it exec'd
 * or died, so they wait in the socket by then, and a spawn costs no stream (made, fed, ended,
 * destroyed) and no event-loop turn of its own. The socket is watched, as a stream, for a request
 * too large for one send, when someone needs the exec before the exit (`started`), and for a
 * program still running a while after its take (LinuxHelperFactory), so that the socket closes at
 * its exec.
 */
export class HelperProcess {
  /** A helper started directly by the starter backend (the zygote forks the others). */
  static start(starter: Backend, helperPath: string, native: FdPassing): HelperProcess {
    const { fd, child } = startHelperProgram(starter, helperPath, native);
    // Its wait is unreferenced only with the program it runs (Subprocess#unref), never while it is
    // idle, so that Node lets the pool's helpers retire after idleTimeoutMs rather than exit under them.
    return new HelperProcess(fd, native, {
      pid: child.pid,
      exited: child.exited,
      kill: (signal) => child.kill(signal),
      unrefProgram: () => child.unref?.(),
      refProgram: () => child.ref?.(),
    });
  }

  readonly child: RefableChild;
  readonly pid: number | undefined;
  /** Settles once the helper's fate is known: at its exit (or, watched, when its socket closes: at exec, on failure, or when it dies). */
  readonly outcome: Promise<Outcome>;
  /** The outcome once settled, without waiting a tick for it. */
  settledOutcome: Outcome | undefined;
  readonly exited: Promise<ExitStatus>;
  readonly #native: FdPassing;
  readonly #reader = new ReplyReader();
  /** The socket as a stream, once watched. */
  #socket: Socket | undefined;
  #fd: number;
  #active = false;
  #requested = false;
  #execWanted = false;
  #sawHello = false;
  #sawExec = false;
  #failure: { errno: number; index: number } | undefined;
  #malformed: string | undefined;
  /** Whether our end of the socket is open (closed: at the outcome, on misbehaviour, or retired). */
  #open = true;
  #settle!: (outcome: Outcome) => void;

  /** Serves on `socketFd` (ours now) as `child`, which is already running the helper program. */
  constructor(socketFd: number, native: FdPassing, child: RefableChild) {
    this.child = child;
    this.pid = child.pid;
    this.#fd = socketFd;
    this.#native = native;
    this.exited = child.exited;
    this.outcome = new Promise<Outcome>((resolve) => {
      this.#settle = (outcome) => {
        this.settledOutcome ??= outcome;
        resolve(outcome);
      };
    });
    // Unwatched, the replies are read at the exit (a watched socket tells by its close): this
    // reaction comes first, so that whoever else waits for the exit finds the outcome settled.
    const atExit = () => {
      if (this.#socket) return;
      if (this.#open) this.#readQueued();
      this.#close();
      this.#finish();
    };
    this.exited.then(atExit, atExit);
  }

  /** Reads what waits in the socket now (everything the helper wrote, once it exited). */
  #readQueued(): void {
    for (;;) {
      const got = this.#native.receiveNow(this.#fd, QUEUED);
      if (got <= 0) return;
      this.#onData(QUEUED.subarray(0, got));
      if (got < QUEUED.length) return;
    }
  }

  #onData(chunk: Buffer): void {
    if (this.#malformed) return;
    try {
      const replies = this.#reader.push(chunk);
      for (let i = 0; i < replies.length; i++) this.#onReply(replies[i]); // no iterator: this runs at every exit
    } catch (error) {
      this.#misbehaved(error instanceof MalformedReplyError ? error.message : String(error));
    }
  }

  /** The helper's fate, from the replies read (once its socket closed or it exited). */
  #finish(): void {
    if (!this.#malformed && this.#reader.leftover)
      this.#malformed = `the socket closed inside a frame (${this.#reader.leftover} stray bytes)`;
    if (this.#malformed) this.#settle({ kind: 'malformed', why: this.#malformed });
    else if (this.#failure) this.#settle({ kind: 'fail', ...this.#failure });
    else if (this.#sawExec) this.#settle({ kind: 'exec' });
    else this.#settle({ kind: 'died' });
  }

  /**
   * The exec is wanted as it happens (`started`): the socket is read as it comes from the hand-over
   * on (the outcome then settles when it closes). Before it, only noted: the stream is made after
   * the request is sent, when the helper is on its way to the exec and we would wait anyway.
   */
  watchExec(): void {
    if (this.#requested) this.watch();
    else this.#execWanted = true;
  }

  /** From now on the socket is read as it comes (the outcome then settles when it closes). */
  watch(): void {
    if (this.#socket || !this.#open) return;
    // Half-open allowed, and closed at the helper's EOF by hand: otherwise Node answers the EOF
    // by ending our side first (a shutdown call and a round of stream events).
    const socket = (this.#socket = new Socket({ fd: this.#fd, readable: true, writable: true, allowHalfOpen: true }));
    if (!this.#active) socket.unref();
    socket.once('end', () => this.#close());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {}); // EPIPE/ECONNRESET: the close that follows tells the story
    socket.once('close', () => {
      this.#open = false;
      this.#finish();
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
    this.child.kill('SIGKILL');
    this.#close();
  }

  /** Closes our end (once): a watched socket is destroyed, and settles the outcome as it closes. */
  #close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#socket) this.#socket.destroy();
    else closeSync(this.#fd);
  }

  get isAlive(): boolean {
    return this.#open && !this.#malformed;
  }

  /**
   * Hands the helper its request: one sendmsg with the fds and as much as the socket buffer takes
   * (usually everything, one syscall), a copy of the rest through the stream, which handles
   * backpressure (the request's own buffer is reused by the next request encoded). The hello is
   * not waited for: it is checked with the rest of the replies (a helper that said something else
   * and lingers is found when programs running on are looked for, see LinuxHelperFactory).
   */
  send(request: EncodedRequest, fds: readonly number[], native: FdPassing): void {
    if (!this.#open) throw new FdPassingError('sendmsg', 'EPIPE'); // its fd number may be another's by now
    this.#requested = true;
    const { header, body } = request;
    const sent = native.sendWithFds(this.#fd, [header, body], fds);
    if (this.#execWanted) this.watch();
    if (sent < header.length + body.length) {
      this.watch();
      this.#socket?.write(
        sent < header.length
          ? Buffer.concat([header.subarray(sent), body])
          : Buffer.from(body.subarray(sent - header.length)),
      );
    }
  }

  /**
   * What taking this helper must know, in one native call (see FdPassing.takeCheck): `hungUp` when
   * the helper is gone though the event loop has not seen it yet (killed an instant ago: its end
   * of the socket closed), so that a request is never handed to it; and the process's effective ids.
   */
  check(native: FdPassing, environ: Buffer | null): TakeCheck {
    const check = native.takeCheck(this.#open ? this.#fd : -1, environ);
    check.hungUp ||= !this.#open;
    return check;
  }

  /** Idle helpers must not keep Node alive; a helper with a request must. */
  setActive(active: boolean): void {
    this.#active = active;
    if (active) {
      this.#socket?.ref();
      this.child.ref?.();
    } else {
      this.#socket?.unref();
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
