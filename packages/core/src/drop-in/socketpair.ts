import path from 'node:path';
import { loadKoffi } from '../load-koffi.js';

interface Koffi {
  load(name: string): { func(prototype: string): (...args: unknown[]) => number };
}
interface Libc {
  socketpair(domain: number, type: number, protocol: number, fds: Int32Array): number;
  close(fd: number): number;
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000; // Linux's value (O_CLOEXEC)

let libc: Libc | null | undefined;

/** libc through koffi, found where the backend packages are installed (core does not depend on koffi). */
function bind(): Libc | null {
  try {
    const lib = loadKoffi<Koffi>(path.join(process.cwd(), '__forkexec__.js'), 'fork() on the fast path').load(
      'libc.so.6',
    );
    return {
      socketpair: lib.func('int socketpair(int domain, int type, int protocol, int *fds)') as Libc['socketpair'],
      close: lib.func('int close(int fd)') as Libc['close'],
    };
  } catch {
    return null;
  }
}

/**
 * A connected AF_UNIX stream pair, close-on-exec (what libuv makes for Node's 'ipc' stdio entry),
 * or undefined when libc cannot be reached here.
 */
export function socketPair(): { fds: [number, number]; close: (fd: number) => void } | undefined {
  if (process.platform !== 'linux') return undefined;
  libc ??= bind();
  if (!libc) return undefined;
  const fds = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) !== 0) return undefined;
  const { close } = libc;
  return { fds: [fds[0]!, fds[1]!], close: (fd) => void close(fd) };
}
