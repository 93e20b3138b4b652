/**
 * The few native calls Node lacks, through koffi (loaded on first use, never at import):
 * socketpair and pipe2 with close-on-exec, sendmsg with SCM_RIGHTS, which hands the caller's fds
 * to a helper, and the package's own check made when a helper is taken (native/take-check.c).
 * Linux layouts (msghdr, cmsghdr with a size_t length).
 */
import { bindOnce, errnoName, loadKoffi } from '@forkexec/core/backend-kit';
import { fromSourceCommand, nativeFile } from '../locate-helper.js';
import { MAX_PASSED_FDS } from './wire.js';

/** The part of koffi's API used here, typed locally so that type-checking does not load koffi. */
interface Koffi {
  load(path: string): { func(...prototype: unknown[]): (...args: unknown[]) => unknown };
  address(value: ArrayBufferView): bigint;
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
const ECONNRESET = 104;
const F_GETFD = 1;
const F_DUPFD_CLOEXEC = 1030;
const EBADF = 9;
const POLLIN = 1;
/** fx_take_check's answer bits. */
const HUNG_UP = 1;
const ENVIRON_CHANGED = 2;
const CMSG_HEADER = 16; // size_t cmsg_len; int cmsg_level; int cmsg_type
/** struct msghdr: name, namelen (padded), iov, iovlen, control, controllen, flags (padded). */
const MSGHDR_SIZE = 56;
const IOVEC_SIZE = 16;
/** The most chunks one send takes (a request is a header and a body). */
const MAX_CHUNKS = 4;
/** Messages up to this size are copied into one buffer made once (most requests: an environment or two). */
const STAGING_SIZE = 64 * 1024;

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

export interface TakeCheck {
  hungUp: boolean;
  /** libc's environ no longer holds the pointers of the copy given (false when none was given). */
  environChanged: boolean;
  euid: number;
  egid: number;
}

export interface FdPassing {
  koffiVersion: string;
  /** A connected unix stream socket pair, both ends close-on-exec. */
  socketpair(): [number, number];
  /** A pipe [read, write], both ends close-on-exec. */
  pipe(): [number, number];
  /** fcntl(fd, F_GETFD): FD_CLOEXEC (1) or 0, or -1 when fd is not open. */
  fdFlags(fd: number): number;
  /** A close-on-exec copy of fd (F_DUPFD_CLOEXEC, at 3 or above), or -1 when fd is not open. Throws FdPassingError (EMFILE). */
  dupCloexec(fd: number): number;
  /**
   * In one native call (dist/libfxtake.so, native/take-check.c): whether the other end of the
   * socket `fd` is gone (poll, no wait: POLLHUP, POLLRDHUP or POLLERR; unread data, such as a
   * helper's hello, does not count; a negative fd never is), the effective uid and gid, and
   * whether libc's environ still holds the pointers of `environ` (a copy of its array, as ntdll's
   * parentEnviron() makes), when given.
   */
  takeCheck(fd: number, environ: Buffer | null): TakeCheck;
  /**
   * Sends as much of the chunks (at most 4) as the socket takes now, in one sendmsg, with fds
   * (at most 253) attached to the first byte; returns the byte count (the caller streams the
   * rest). Throws FdPassingError (EPIPE: the peer is gone).
   */
  sendWithFds(socket: number, chunks: readonly Buffer[], fds: readonly number[]): number;
  /** Waits (blocking) until fd is readable or has hung up: false after timeoutMs. */
  pollReadable(fd: number, timeoutMs: number): boolean;
  /**
   * recv without waiting: the bytes read into `into`, 0 at EOF, -1 when nothing is there now
   * (EAGAIN) or the peer reset the connection (after everything it sent was read). Never throws
   * for those, so that the spawn path pays no exception: any other error throws FdPassingError.
   */
  receiveNow(fd: number, into: Buffer): number;
}

/** Binds the calls once; throws an Error that says what is missing. */
export const fdPassing: () => FdPassing = bindOnce(bind);

/** The version of fx_take_check this code calls (fx_take_check_version in native/take-check.c). */
const TAKE_CHECK_VERSION = 2;

/** fx_take_check from the library the package build compiles next to the helper, as FdPassing.takeCheck. */
function bindTakeCheck(koffi: Koffi): FdPassing['takeCheck'] {
  const file = nativeFile('libfxtake.so');
  const rebuild = `build it from source: ${fromSourceCommand()}`;
  let library;
  let version: unknown;
  try {
    library = koffi.load(file);
    version = library.func('int fx_take_check_version(void)')();
  } catch (error) {
    throw new Error(`${file} does not load (${(error as Error).message.split('\n')[0]}): ${rebuild}`);
  }
  if (version !== TAKE_CHECK_VERSION)
    throw new Error(
      `${file} is from another build (version ${String(version)}, expected ${TAKE_CHECK_VERSION}): ${rebuild}`,
    );
  const takeCheck = library.func('int fx_take_check(int fd, void *ids, void *environ_copy)');
  const ids = new Uint32Array(new ArrayBuffer(8));
  return (fd, environ) => {
    // An error of poll itself (EINTR, ENOMEM) says nothing about the peer: the send finds out.
    const found = takeCheck(fd, ids, environ) as number;
    return {
      hungUp: (found & HUNG_UP) !== 0,
      environChanged: (found & ENVIRON_CHANGED) !== 0,
      euid: ids[0],
      egid: ids[1],
    };
  };
}

type Libc = ReturnType<Koffi['load']>;
/** Throws the FdPassingError of a failed call, with koffi's errno. */
type Fail = (call: string) => never;

/** socketpair, pipe2 and fcntl, all close-on-exec. */
function bindFdCalls(
  koffi: Koffi,
  libc: Libc,
  fail: Fail,
): Pick<FdPassing, 'socketpair' | 'pipe' | 'fdFlags' | 'dupCloexec'> {
  const socketpair = libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
  const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
  // fcntl is variadic; both commands used here take an int (or nothing), passed where a variadic
  // int goes on Linux's ABIs: a fixed prototype saves koffi building a variadic call each time.
  const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
  const pair = new Int32Array(2);
  return {
    socketpair() {
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) !== 0) fail('socketpair');
      return [pair[0], pair[1]];
    },
    pipe() {
      if (pipe2(pair, O_CLOEXEC) !== 0) fail('pipe2');
      return [pair[0], pair[1]];
    },
    fdFlags: (fd) => fcntl(fd, F_GETFD, 0) as number,
    dupCloexec(fd) {
      const copy = fcntl(fd, F_DUPFD_CLOEXEC, 3) as number;
      if (copy === -1 && koffi.errno() !== EBADF) fail('fcntl(F_DUPFD_CLOEXEC)');
      return copy;
    },
  };
}

/** Writes a 64-bit address as two little-endian words. */
function pointTo(words: Uint32Array, at: number, address: bigint): void {
  words[at] = Number(address & 0xffffffffn);
  words[at + 1] = Number(address >> 32n);
}

/**
 * sendmsg with SCM_RIGHTS, as FdPassing.sendWithFds. The msghdr is laid out by hand in typed
 * arrays made once, written a 32-bit word at a time: marshalling a koffi struct per call costs
 * more than the syscall. koffi hands a typed array to `void *` as is. Each sits on its own
 * ArrayBuffer, whose memory never moves (a small typed array made with a length may live in V8's
 * heap, which does), so the addresses taken here stay true. A message that fits is copied into
 * `staging`; a larger one points the iovecs at its chunks.
 */
function bindSendWithFds(koffi: Koffi, libc: Libc, fail: Fail): FdPassing['sendWithFds'] {
  const sendmsg = libc.func('intptr_t sendmsg(int fd, void *msg, int flags)');
  const msg = new Uint32Array(new ArrayBuffer(MSGHDR_SIZE));
  const iov = new Uint32Array(new ArrayBuffer(IOVEC_SIZE * MAX_CHUNKS)); // per iovec: base (2 words), length (2 words)
  const control = new Int32Array(new ArrayBuffer(CMSG_HEADER + 4 * MAX_PASSED_FDS + 4)); // CMSG_SPACE: a multiple of 8
  const staging = Buffer.from(new ArrayBuffer(STAGING_SIZE));
  pointTo(msg, 4, koffi.address(iov)); // msg_iov
  pointTo(msg, 8, koffi.address(control)); // msg_control
  control[2] = SOL_SOCKET;
  control[3] = SCM_RIGHTS;
  const staged = new Uint32Array(2); // staging's address, as the first iovec's base
  pointTo(staged, 0, koffi.address(staging));
  /** Points the iovecs at the chunks (staged when they fit): the iovec count. */
  const gather = (chunks: readonly Buffer[]): number => {
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    if (total <= STAGING_SIZE) {
      let at = 0;
      for (const chunk of chunks) {
        staging.set(chunk, at);
        at += chunk.length;
      }
      iov[0] = staged[0];
      iov[1] = staged[1];
      iov[2] = total; // size_t: the high word stays 0
      return 1;
    }
    let count = 0;
    for (const chunk of chunks) {
      if (!chunk.length) continue;
      pointTo(iov, 4 * count, koffi.address(chunk));
      iov[4 * count + 2] = chunk.length;
      count++;
    }
    return count;
  };
  return (socket, chunks, fds) => {
    if (chunks.length > MAX_CHUNKS)
      throw new RangeError(`sendWithFds takes at most ${MAX_CHUNKS} chunks, got ${chunks.length}`);
    if (fds.length > MAX_PASSED_FDS) throw new FdPassingError('sendmsg', 'ETOOMANYREFS');
    msg[6] = gather(chunks); // msg_iovlen
    const length = fds.length ? CMSG_HEADER + 4 * fds.length : 0;
    if (length) {
      control[0] = length; // cmsg_len
      control.set(fds, CMSG_HEADER / 4);
    }
    msg[10] = (length + 7) & ~7; // msg_controllen; none: 0, and the kernel ignores the pointer
    for (;;) {
      const sent = Number(sendmsg(socket, msg, MSG_NOSIGNAL | MSG_DONTWAIT));
      if (sent > 0) return sent;
      if (sent === 0 || koffi.errno() === EAGAIN) throw new FdPassingError('sendmsg', 'EAGAIN'); // a fresh socket always has room
      if (koffi.errno() !== EINTR) fail('sendmsg');
    }
  };
}

/** poll for one fd, as FdPassing.pollReadable. */
function bindPollReadable(koffi: Koffi, libc: Libc, fail: Fail): FdPassing['pollReadable'] {
  const poll = libc.func('int poll(_Inout_ void *fds, unsigned long nfds, int timeout)');
  return (fd, timeoutMs) => {
    const pollfd = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
    pollfd.writeInt32LE(fd, 0);
    pollfd.writeInt16LE(POLLIN, 4);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = poll(pollfd, 1, Math.max(0, deadline - Date.now())) as number;
      if (ready >= 0) return ready > 0;
      if (koffi.errno() !== EINTR) fail('poll');
    }
  };
}

/** recv with MSG_DONTWAIT, as FdPassing.receiveNow. */
function bindReceiveNow(koffi: Koffi, libc: Libc, fail: Fail): FdPassing['receiveNow'] {
  const recv = libc.func('intptr_t recv(int fd, void *buf, size_t len, int flags)');
  return (fd, into) => {
    for (;;) {
      const got = Number(recv(fd, into, into.length, MSG_DONTWAIT));
      if (got >= 0) return got;
      const errno = koffi.errno();
      if (errno === EAGAIN || errno === ECONNRESET) return -1;
      if (errno !== EINTR) fail('recv');
    }
  };
}

function bind(): FdPassing {
  if (process.platform !== 'linux')
    throw new Error(`passing fds to helpers is implemented for Linux, not ${process.platform}`);
  const koffi = loadKoffi<Koffi>(import.meta.url, 'the helper-exe backend');
  const libc = koffi.load('libc.so.6');
  const fail: Fail = (call) => {
    throw new FdPassingError(call, errnoName(koffi.errno()));
  };
  return {
    koffiVersion: koffi.version,
    ...bindFdCalls(koffi, libc, fail),
    takeCheck: bindTakeCheck(koffi),
    sendWithFds: bindSendWithFds(koffi, libc, fail),
    pollReadable: bindPollReadable(koffi, libc, fail),
    receiveNow: bindReceiveNow(koffi, libc, fail),
  };
}
