/**
 * The libc functions the Linux backend calls, bound through koffi on first use: importing this
 * module loads nothing. glibc's opaque structs live in Buffers sized above their real size.
 */
import { bindOnce, loadKoffi } from '@forkexec/core/backend-kit';

/** The part of koffi's API used here (typed locally so that type-checking does not load koffi). */
type KoffiFunction = ((...args: unknown[]) => unknown) & {
  /** The same call on libuv's threadpool; the last argument is the callback. */
  async(...args: unknown[]): void;
};

interface Koffi {
  load(path: string | null): { func(prototype: string): KoffiFunction; symbol(name: string): bigint };
  errno(): number;
  view(pointer: bigint, length: number): ArrayBuffer;
  version: string;
}

/** Bytes reserved for glibc's posix_spawn_file_actions_t (80), posix_spawnattr_t (336) and sigset_t (128). */
export const FILE_ACTIONS_SIZE = 256;
export const SPAWNATTR_SIZE = 512;
export const SIGSET_SIZE = 128;

// Linux values (x86-64 and arm64 agree).
export const O_CLOEXEC = 0o2000000;
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const F_GETFD = 1;
export const F_DUPFD_CLOEXEC = 1030;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const O_NONBLOCK = 0o4000;
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
const SYS_PIDFD_OPEN = 434; // the same number on every architecture (added after the tables were unified)
export const WNOHANG = 1;
export const POSIX_SPAWN_SETPGROUP = 0x02;
export const POSIX_SPAWN_SETSIGDEF = 0x04;
export const POSIX_SPAWN_SETSIGMASK = 0x08;
export const POSIX_SPAWN_SETSID = 0x80;

type PosixSpawn = (
  pid: Int32Array,
  path: string,
  fileActions: Buffer,
  attr: Buffer,
  argv: (string | null)[],
  envp: Envp,
) => number;
type PosixSpawnAsync = (
  ...args: [...Parameters<PosixSpawn>, done: (error: Error | null, result: number) => void]
) => void;

export interface Libc {
  koffiVersion: string;
  glibcVersion: string;
  /** errno of the last failed call on this thread. */
  errno(): number;
  posix_spawn: PosixSpawn;
  /** posix_spawn on libuv's threadpool: `pid` is written there; `done` runs on this thread. */
  posix_spawn_async: PosixSpawnAsync;
  /** posix_spawn finding a bare `path` in libc's PATH (glibc: without a /bin/sh fallback on ENOEXEC). */
  posix_spawnp: PosixSpawn;
  posix_spawnp_async: PosixSpawnAsync;
  file_actions_init(fa: Buffer): number;
  file_actions_destroy(fa: Buffer): number;
  file_actions_adddup2(fa: Buffer, fd: number, newfd: number): number;
  file_actions_addclose(fa: Buffer, fd: number): number;
  file_actions_addopen(fa: Buffer, fd: number, path: string, oflag: number, mode: number): number;
  file_actions_addchdir(fa: Buffer, path: string): number;
  file_actions_addclosefrom(fa: Buffer, from: number): number;
  spawnattr_init(attr: Buffer): number;
  spawnattr_destroy(attr: Buffer): number;
  spawnattr_setflags(attr: Buffer, flags: number): number;
  spawnattr_setsigdefault(attr: Buffer, set: Buffer): number;
  spawnattr_setsigmask(attr: Buffer, set: Buffer): number;
  spawnattr_setpgroup(attr: Buffer, pgroup: number): number;
  sigemptyset(set: Buffer): number;
  sigfillset(set: Buffer): number;
  sigaddset(set: Buffer, signal: number): number;
  pipe2(fds: Int32Array, flags: number): number;
  socketpair(domain: number, type: number, protocol: number, fds: Int32Array): number;
  /** close(2): fds Node's fs did not open (in a Worker, fs.closeSync warns about those). */
  close(fd: number): number;
  waitpid(pid: number, status: Int32Array, options: number): number;
  /** fcntl(fd, F_GETFD): the fd flags, or -1 when fd is not open. */
  getfd(fd: number): number;
  /** fcntl(fd, F_DUPFD_CLOEXEC, min): a close-on-exec copy of fd numbered min or above. */
  dupCloexec(fd: number, min: number): number;
  /** poll(2) over `count` struct pollfd (8 bytes each: int fd, short events, short revents). */
  poll(fds: Buffer, count: number, timeout: number): number;
  read(fd: number, buffer: Uint8Array, length: number): number;
  write(fd: number, buffer: Uint8Array, length: number): number;
  kill(pid: number, signal: number): number;
  /** fcntl(fd, F_SETFL, flags | O_NONBLOCK). */
  setNonblocking(fd: number): number;
  /** pidfd_open(pid, 0): an fd poll(2) finds readable once the child exited, or -1 (kernels before 5.3). */
  pidfdOpen(pid: number): number;
  /** The process's environment as it is now, as an envp: a copy of libc's `environ` array (see environCopier). */
  environ(): Buffer;
}

/** An environment for posix_spawn: strings (NULL-terminated list), or a ready C array of pointers. */
export type Envp = (string | null)[] | Buffer;

/**
 * Copies the pointer array of `environ` (which process.env reads and writes), without reading a
 * single string: the copy stays valid while JavaScript changes process.env later, because glibc's
 * setenv and unsetenv may move or shrink the array but never free or change a string they put
 * in it (they keep every one), and the initial strings live on the stack for good. While the
 * array holds the same pointers, the last copy is handed out again (callers only read it).
 */
function environCopier(koffi: Koffi, environ: bigint): () => Buffer {
  const variable = new Uint32Array(koffi.view(environ, 8)); // `environ` itself: read with no native call
  const empty = Buffer.alloc(8); // clearenv(): an empty list
  let at = [0, 0];
  // A window on the array, kept while the array stays where it is (koffi.view is the costly part):
  // only the entries up to the NULL are read, and a longer array gets a longer window.
  let words = new Uint32Array(0);
  const windowOn = (bytes: number) => new Uint32Array(koffi.view((BigInt(at[1]) << 32n) | BigInt(at[0]), bytes));
  let last = empty;
  let lastWords = new Uint32Array(2);
  return () => {
    const low = variable[0];
    const high = variable[1];
    if ((low | high) === 0) return empty;
    if (low !== at[0] || high !== at[1]) {
      at = [low, high];
      words = windowOn(8 * 64);
    }
    let count = 0;
    for (;;) {
      while (2 * count < words.length && (words[2 * count] | words[2 * count + 1]) !== 0) count++;
      if (2 * count < words.length) break;
      words = windowOn(2 * words.byteLength);
    }
    // Compared word by word in JavaScript: Buffer.equals is a native call, which costs more here.
    const length = 2 * (count + 1);
    let same = length === lastWords.length;
    for (let i = 0; same && i < length; i++) same = words[i] === lastWords[i];
    if (!same) {
      lastWords = words.slice(0, length);
      last = Buffer.from(lastWords.buffer);
    }
    return last;
  };
}

/** Binds libc (once); throws an Error saying what is missing when koffi or a symbol cannot load. */
export const loadLibc: () => Libc = bindOnce(bind);

function bind(): Libc {
  if (process.platform !== 'linux')
    throw new Error(`the posix_spawn path supports Linux with glibc, not ${process.platform}`);
  const koffi = loadKoffi<Koffi>(import.meta.url, 'the ntdll backend');
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load('libc.so.6');
  } catch (error) {
    throw new Error(`libc.so.6 does not load (glibc is needed): ${(error as Error).message}`);
  }
  const fn = (prototype: string) => {
    try {
      return lib.func(prototype);
    } catch (error) {
      throw new Error(
        `libc lacks ${prototype.replace(/^.*?(\w+)\(.*$/, '$1')} (glibc 2.34 or newer is needed): ${(error as Error).message}`,
      );
    }
  };
  const gnuVersion = fn('const char *gnu_get_libc_version()');
  const fcntl = fn('int fcntl(int fd, int cmd, ...)');
  const syscall = fn('long syscall(long number, ...)');
  const posixSpawn = fn(
    'int posix_spawn(int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)',
  );
  const posixSpawnp = fn(
    'int posix_spawnp(int *pid, const char *file, void *fa, void *attr, const char **argv, const char **envp)',
  );
  // The executable's `environ`, which libc's own functions use (libc.so.6's symbol is a stale copy).
  const environ = koffi.load(null).symbol('environ');
  return {
    koffiVersion: koffi.version,
    glibcVersion: gnuVersion() as string,
    errno: () => koffi.errno(),
    posix_spawn: posixSpawn as Libc['posix_spawn'],
    posix_spawn_async: (...args) => posixSpawn.async(...args),
    posix_spawnp: posixSpawnp as Libc['posix_spawnp'],
    posix_spawnp_async: (...args) => posixSpawnp.async(...args),
    file_actions_init: fn('int posix_spawn_file_actions_init(void *fa)') as Libc['file_actions_init'],
    file_actions_destroy: fn('int posix_spawn_file_actions_destroy(void *fa)') as Libc['file_actions_destroy'],
    file_actions_adddup2: fn(
      'int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)',
    ) as Libc['file_actions_adddup2'],
    file_actions_addclose: fn(
      'int posix_spawn_file_actions_addclose(void *fa, int fd)',
    ) as Libc['file_actions_addclose'],
    file_actions_addopen: fn(
      'int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, unsigned int mode)',
    ) as Libc['file_actions_addopen'],
    file_actions_addchdir: fn(
      'int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)',
    ) as Libc['file_actions_addchdir'],
    file_actions_addclosefrom: fn(
      'int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)',
    ) as Libc['file_actions_addclosefrom'],
    spawnattr_init: fn('int posix_spawnattr_init(void *attr)') as Libc['spawnattr_init'],
    spawnattr_destroy: fn('int posix_spawnattr_destroy(void *attr)') as Libc['spawnattr_destroy'],
    spawnattr_setflags: fn('int posix_spawnattr_setflags(void *attr, short flags)') as Libc['spawnattr_setflags'],
    spawnattr_setsigdefault: fn(
      'int posix_spawnattr_setsigdefault(void *attr, const void *set)',
    ) as Libc['spawnattr_setsigdefault'],
    spawnattr_setsigmask: fn(
      'int posix_spawnattr_setsigmask(void *attr, const void *set)',
    ) as Libc['spawnattr_setsigmask'],
    spawnattr_setpgroup: fn('int posix_spawnattr_setpgroup(void *attr, int pgroup)') as Libc['spawnattr_setpgroup'],
    sigemptyset: fn('int sigemptyset(void *set)') as Libc['sigemptyset'],
    sigfillset: fn('int sigfillset(void *set)') as Libc['sigfillset'],
    sigaddset: fn('int sigaddset(void *set, int signum)') as Libc['sigaddset'],
    pipe2: fn('int pipe2(int *fds, int flags)') as Libc['pipe2'],
    socketpair: fn('int socketpair(int domain, int type, int protocol, int *fds)') as Libc['socketpair'],
    close: fn('int close(int fd)') as Libc['close'],
    waitpid: fn('int waitpid(int pid, int *status, int options)') as Libc['waitpid'],
    getfd: (fd) => fcntl(fd, F_GETFD) as number,
    dupCloexec: (fd, min) => fcntl(fd, F_DUPFD_CLOEXEC, 'int', min) as number,
    poll: fn('int poll(void *fds, unsigned long count, int timeout)') as Libc['poll'],
    read: fn('long read(int fd, void *buffer, unsigned long length)') as Libc['read'],
    write: fn('long write(int fd, const void *buffer, unsigned long length)') as Libc['write'],
    kill: fn('int kill(int pid, int signal)') as Libc['kill'],
    setNonblocking: (fd) => fcntl(fd, F_SETFL, 'int', (fcntl(fd, F_GETFL) as number) | O_NONBLOCK) as number,
    pidfdOpen: (pid) => syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0) as number,
    environ: environCopier(koffi, environ),
  };
}

/** For the calls that fail only on bad arguments or memory exhaustion: a bug, not a user error. */
export function check(result: number, call: string): void {
  if (result !== 0) throw new Error(`${call} failed with ${result}`);
}
