/**
 * The zygote: one long-lived `fxhelper --zygote`, started once by the starter backend, that forks
 * fresh helpers on request with clone(CLONE_PARENT). Each new helper is a child of this process
 * (we reap it, through `watch`), forked from a small static process off the event loop: a refill
 * costs us one socketpair, one sendmsg and, later, one 16-byte reply, instead of a whole spawn.
 *
 * A request passes the new helper's end of a fresh socketpair; the zygote answers, in order,
 * SPAWNED with the helper's pid or FAIL with the errno of a failed fork. If the zygote dies with
 * requests unanswered, each such helper (if it was forked at all) still says hello with its pid on
 * our end of its socket: it is found that way, and ended.
 */
import { closeSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Backend, SpawnedChild } from '@forkexec/core';
import type { FdPassing } from './fd-passing.js';
import { HelperProcess, startHelperProgram, type RefableChild } from './helper-process.js';
import { FORK_FAILED, MalformedReplyError, PROTOCOL_VERSION, ReplyReader, zygoteRequest, type Reply } from './wire.js';

/** Watches the exit of a child of this process that the starter did not start (its Backend.watchChild). */
export type WatchChild = (pid: number) => RefableChild;

interface ZygoteEvents {
  /** A new helper, ready to be kept warm. */
  helper(helper: HelperProcess): void;
  /** The zygote could not fork a helper (errno: EAGAIN under RLIMIT_NPROC, ...). */
  forkFailed(errno: number): void;
  /** The zygote is gone (died, misbehaved or stopped); `served` says whether it forked anything. */
  ended(why: string, served: boolean): void;
}

const REQUEST = zygoteRequest();
/** Where collect() reads answers into (the reader copies what it keeps). */
const COLLECTED = Buffer.alloc(4096);

export class Zygote {
  readonly child: SpawnedChild;
  readonly #fd: number;
  readonly #socket: Socket;
  readonly #native: FdPassing;
  readonly #watch: WatchChild;
  readonly #events: ZygoteEvents;
  /** Our ends of the sockets of helpers asked for and not answered yet, in request order. */
  readonly #pending: number[] = [];
  /** Socketpairs made ahead for the next forks. */
  readonly #reserved: [number, number][] = [];
  /** Orphans being found and ended after the zygote's death; dispose waits for them. */
  readonly #salvaging: Promise<void>[] = [];
  readonly #salvageSockets = new Set<Socket>();
  readonly #reader = new ReplyReader();
  #sawHello = false;
  #served = false;
  #ended: string | undefined;

  constructor(starter: Backend, helperPath: string, native: FdPassing, watch: WatchChild, events: ZygoteEvents) {
    const { fd, child } = startHelperProgram(starter, helperPath, native, ['--zygote']);
    this.child = child;
    this.#fd = fd;
    this.#native = native;
    this.#watch = watch;
    this.#events = events;
    this.#socket = new Socket({ fd, readable: true, writable: false });
    // The zygote's exit watch stays referenced: unref'd, ntdll's reaper (as of this writing) leaves
    // children it starts afterwards unreferenced too, and Node could exit before they end. An idle
    // pool still lets Node exit: it stops the zygote after idleTimeoutMs.
    this.#socket.unref();
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', () => {});
    this.#socket.once('close', () =>
      this.#end(this.#sawHello ? 'the zygote exited' : 'the zygote exited before saying hello'),
    );
    child.exited.then(
      (status) => this.#end(`the zygote ended (${status.signal ?? `exit code ${status.exitCode}`})`),
      (error: Error) => this.#end(`the zygote could not be watched: ${error.message}`),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether fork() may be called. */
  get isAlive(): boolean {
    return this.#ended === undefined;
  }

  /** Helpers asked for and not delivered yet, and those whose socketpair is made (reserve). */
  get pendingCount(): number {
    return this.#pending.length;
  }

  get reservedCount(): number {
    return this.#reserved.length;
  }

  /**
   * Makes the socketpair of the next helper now, for a fork() on a later tick: the pool's fds stay
   * counted while a used helper's socket goes. Throws FdPassingError (EMFILE).
   */
  reserve(): void {
    this.#reserved.push(this.#native.socketpair());
  }

  /** Asks for one more helper; it arrives through `events.helper`. Throws FdPassingError (EMFILE, EPIPE...). */
  fork(): void {
    if (this.#ended) throw new Error(`the zygote is gone: ${this.#ended}`);
    const [ours, theirs] = this.#reserved.shift() ?? this.#native.socketpair();
    try {
      this.#native.sendWithFds(this.#fd, [REQUEST], [theirs]);
    } catch (error) {
      closeSync(ours);
      throw error;
    } finally {
      closeSync(theirs);
    }
    this.#pending.push(ours);
  }

  /**
   * Reads the answers already waiting on the socket, now: a loop busy with spawns may not read
   * them for a long while, and a request finding no helper warm meanwhile would start one itself
   * (costlier, and on the loop), which keeps the loop busy. Never waits.
   */
  collect(): void {
    while (!this.#ended) {
      let read: number;
      try {
        read = readSync(this.#fd, COLLECTED);
      } catch {
        return; // EAGAIN: nothing more; an error: the socket's own handlers see it too
      }
      if (read === 0) return; // EOF: the socket's close handler ends the zygote
      this.#onData(COLLECTED.subarray(0, read));
    }
  }

  #onData(chunk: Buffer): void {
    try {
      for (const reply of this.#reader.push(chunk)) this.#onReply(reply);
    } catch (error) {
      this.#end(error instanceof MalformedReplyError ? `malformed reply: ${error.message}` : String(error));
    }
  }

  #onReply(reply: Reply): void {
    if (!this.#sawHello) {
      if (reply.kind !== 'zygote-hello') return this.#end(`expected the zygote's hello, got ${reply.kind}`);
      if (reply.version !== PROTOCOL_VERSION)
        return this.#end(
          `the zygote speaks protocol version ${reply.version}, this package version ${PROTOCOL_VERSION}`,
        );
      if (reply.pid !== this.pid) return this.#end(`zygote hello from pid ${reply.pid}, expected ${this.pid}`);
      this.#sawHello = true;
      return;
    }
    const fd = this.#pending.shift();
    if (fd === undefined) return this.#end(`unexpected ${reply.kind} frame`);
    if (reply.kind === 'spawned') {
      this.#served = true;
      let child: RefableChild;
      try {
        child = this.#watch(reply.pid);
      } catch (error) {
        closeSync(fd); // its helper sees EOF and exits; nothing could reap it anyway
        return this.#end(`cannot watch forked helpers: ${(error as Error).message}`);
      }
      this.#events.helper(new HelperProcess(fd, this.#native, child));
    } else if (reply.kind === 'fail' && reply.index === FORK_FAILED) {
      closeSync(fd);
      this.#events.forkFailed(reply.errno);
    } else {
      this.#pending.unshift(fd);
      this.#end(
        reply.kind === 'fail'
          ? `the zygote refused a request (errno ${reply.errno})`
          : `unexpected ${reply.kind} frame`,
      );
    }
  }

  /** Ends the zygote (closing its socket makes it exit; SIGKILL makes sure) and everything it still owed. */
  #end(why: string): void {
    if (this.#ended) return;
    this.#ended = why;
    this.#socket.destroy();
    this.child.kill('SIGKILL');
    for (const fd of this.#pending.splice(0)) this.#salvaging.push(this.#salvage(fd));
    for (const pair of this.#reserved.splice(0)) pair.forEach((fd) => closeSync(fd));
    this.#events.ended(why, this.#served);
  }

  /** A helper forked but never announced: learn its pid from its hello, then end and reap it. */
  #salvage(fd: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const socket = new Socket({ fd, readable: true, writable: false });
      socket.unref(); // until someone waits for stop()
      this.#salvageSockets.add(socket);
      const reader = new ReplyReader();
      let child: RefableChild | undefined;
      socket.on('data', (chunk: Buffer) => {
        try {
          const hello = reader.push(chunk).find((r): r is Extract<Reply, { kind: 'hello' }> => r.kind === 'hello');
          if (hello && !child) {
            child = this.#watch(hello.pid);
            child.kill('SIGKILL');
          }
        } catch {}
        socket.destroy();
      });
      socket.on('error', () => {});
      socket.once('close', () => {
        this.#salvageSockets.delete(socket);
        if (child)
          child.exited.then(
            () => resolve(),
            () => resolve(),
          );
        else resolve();
      });
    });
  }

  /** Ends the zygote and waits until it and any helper it left unannounced are reaped. */
  async stop(): Promise<void> {
    this.#end('stopped');
    for (const socket of this.#salvageSockets) socket.ref(); // an awaited stop() keeps Node alive until it is done
    await this.child.exited.catch(() => {});
    await Promise.all(this.#salvaging);
  }
}
