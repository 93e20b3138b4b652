/**
 * The few libc calls Node lacks, through koffi (loaded on first use, never at import):
 * socketpair and pipe2 with close-on-exec, and sendmsg with SCM_RIGHTS, which hands the
 * caller's fds to a helper. Linux layouts (msghdr, cmsghdr with a size_t length).
 */
import { writevSync } from 'node:fs';
import { createRequire } from 'node:module';
import { errnoName } from '@forkexec/core';

/** The part of koffi's API used here, typed locally so that type-checking does not load koffi. */
interface Koffi {
  load(path: string): { func(...prototype: unknown[]): (...args: unknown[]) => unknown };
  struct(fields: Record<string, unknown>): unknown;
  pointer(type: unknown): unknown;
  errno(): number;
  version: string;
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const O_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_NOSIGNAL = 0x4000;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;
const F_GETFD = 1;
const POLLIN = 1;
const CMSG_HEADER = 16; // size_t cmsg_len; int cmsg_level; int cmsg_type

export class FdPassingError extends Error {
  constructor(
    readonly call: string,
    readonly errno: string,
  ) {
    super(`${call} failed: ${errno}`);
  }
}

/** The error says the other end of the socket is gone (the process died or closed it). */
export function peerGone(error: unknown): boolean {
  return error instanceof FdPassingError && (error.errno === 'EPIPE' || error.errno === 'ECONNRESET');
}

export interface FdPassing {
  koffiVersion: string;
  /** A connected unix stream socket pair, both ends close-on-exec. */
  socketpair(): [number, number];
  /** A pipe [read, write], both ends close-on-exec. */
  pipe(): [number, number];
  /** fcntl(fd, F_GETFD): FD_CLOEXEC (1) or 0, or -1 when fd is not open. */
  fdFlags(fd: number): number;
  /**
   * Sends as much of the chunks as the socket takes now, in one call (sendmsg, or writev when no
   * fd goes along), with fds attached to the first byte; returns the byte count (the caller
   * streams the rest). Throws FdPassingError (EPIPE: the peer is gone).
   */
  sendWithFds(socket: number, chunks: readonly Buffer[], fds: readonly number[]): number;
  /** Waits (blocking) until fd is readable or has hung up: false after timeoutMs. */
  pollReadable(fd: number, timeoutMs: number): boolean;
}

/** writev through Node (non-blocking: the fd belongs to a net.Socket), with sendWithFds's errors. */
function writeAll(socket: number, chunks: readonly Buffer[]): number {
  try {
    return writevSync(socket, chunks as Buffer[]);
  } catch (error) {
    throw new FdPassingError('writev', (error as NodeJS.ErrnoException).code ?? 'EIO');
  }
}

let bound: FdPassing | undefined;
let failure: Error | undefined;

/** Binds the calls once; throws an Error that says what is missing. */
export function fdPassing(): FdPassing {
  if (bound) return bound;
  if (failure) throw failure;
  try {
    return (bound = bind());
  } catch (error) {
    throw (failure = error as Error);
  }
}

function bind(): FdPassing {
  if (process.platform !== 'linux') throw new Error(`passing fds to helpers is implemented for Linux, not ${process.platform}`);
  let koffi: Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (error) {
    throw new Error(`koffi does not load: ${(error as Error).message.split('\n')[0]} (is @koromix/koffi-${process.platform}-${process.arch} installed?)`);
  }
  const libc = koffi.load('libc.so.6');
  // Anonymous structs: koffi's type names are global to the process, and this module may load twice (Jest).
  const iovec = koffi.struct({ base: 'void *', len: 'size_t' });
  const msghdr = koffi.struct({
    name: 'void *', namelen: 'uint32_t', iov: koffi.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int',
  });
  const socketpair = libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
  const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
  const fcntl = libc.func('int fcntl(int fd, int cmd, ...)');
  const sendmsg = libc.func('sendmsg', 'intptr_t', ['int', koffi.pointer(msghdr), 'int']);
  const poll = libc.func('int poll(_Inout_ void *fds, unsigned long nfds, int timeout)');
  const pair = new Int32Array(2);
  const fail = (call: string): never => {
    throw new FdPassingError(call, errnoName(koffi.errno()));
  };

  return {
    koffiVersion: koffi.version,
    socketpair() {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) !== 0) fail('socketpair');
      return [pair[0], pair[1]];
    },
    pipe() {
      if (pipe2(pair, O_CLOEXEC) !== 0) fail('pipe2');
      return [pair[0], pair[1]];
    },
    fdFlags: (fd) => fcntl(fd, F_GETFD) as number,
    sendWithFds(socket, chunks, fds) {
      if (!fds.length) return writeAll(socket, chunks); // nothing to attach: Node's own writev costs less than marshalling a msghdr
      let control: Buffer | null = null;
      if (fds.length) {
        const length = CMSG_HEADER + 4 * fds.length;
        control = Buffer.alloc((length + 7) & ~7);
        control.writeBigUInt64LE(BigInt(length), 0);
        control.writeInt32LE(SOL_SOCKET, 8);
        control.writeInt32LE(SCM_RIGHTS, 12);
        fds.forEach((fd, i) => control!.writeInt32LE(fd, CMSG_HEADER + 4 * i));
      }
      const iov = chunks.filter((c) => c.length).map((c) => ({ base: c, len: c.length }));
      const msg = { name: null, namelen: 0, iov, iovlen: iov.length, control, controllen: control ? control.length : 0, flags: 0 };
      for (;;) {
        const sent = Number(sendmsg(socket, msg, MSG_NOSIGNAL | MSG_DONTWAIT));
        if (sent > 0) return sent;
        if (sent === 0 || koffi.errno() === EAGAIN) throw new FdPassingError('sendmsg', 'EAGAIN'); // a fresh socket always has room
        if (koffi.errno() !== EINTR) fail('sendmsg');
      }
    },
    pollReadable(fd, timeoutMs) {
      const pollfd = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
      pollfd.writeInt32LE(fd, 0);
      pollfd.writeInt16LE(POLLIN, 4);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ready = poll(pollfd, 1, Math.max(0, deadline - Date.now())) as number;
        if (ready >= 0) return ready > 0;
        if (koffi.errno() !== EINTR) fail('poll');
      }
    },
  };
}
