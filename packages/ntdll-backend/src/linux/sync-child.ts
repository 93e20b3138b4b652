/**
 * Waits for a child posix_spawn just started, on this thread, as Node's spawnSync does (libuv's
 * SyncProcessRunner): poll(2) over the pipes and a pidfd until the child is reaped and its pipes
 * are at their end. stdin gets `input` and is closed; a timeout, or stdout and stderr together
 * passing maxBuffer (or one of them passing maxBufferPerStream, whose bytes beyond are dropped),
 * sends killSignal (unless the child already exited) and closes the pipes, and the child is still
 * waited for.
 * Only this pid is reaped (waitpid(pid)), never another child of the process.
 */
import { performance } from 'node:perf_hooks';
import type { SyncSpawnOptions, SyncSpawnResult } from '@forkexec/core';
import { errnoName } from '@forkexec/core/backend-kit';
import { decodeWaitStatus } from './exit-status.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, WNOHANG, type Libc } from './libc.js';

const EINTR = 4;
const EAGAIN = 11;
const ESRCH = 3;
const SIGKILL = 9;
/** Bytes per read, as libuv's. */
const CHUNK = 64 * 1024;
/** Without a pidfd (kernels before 5.3), how often waitpid(WNOHANG) looks for the exit. */
const EXIT_POLL_MS = 5;

/** The parent ends of the child's pipes, by slot (null: not a pipe), taken over: all are closed on return. */
export function waitSync(
  libc: Libc,
  pid: number,
  parentEnds: (number | null)[],
  options: SyncSpawnOptions,
): SyncSpawnResult {
  const [stdinEnd, stdoutEnd, stderrEnd] = parentEnds;
  const input = options.input ?? new Uint8Array(0);
  const chunks: Buffer[][] = [[], []];
  /** With `all`: the chunks of both streams in the order they were read. */
  const all: Buffer[] | undefined = options.all ? [] : undefined;
  const kept = [0, 0];
  const perStream = options.maxBufferPerStream ?? Infinity;
  let overflow: 'stdout' | 'stderr' | undefined;
  let stdin = stdinEnd;
  const readers = [stdoutEnd, stderrEnd];
  let written = 0;
  let buffered = 0;
  let error: string | undefined;
  let killed = false;
  let status: number | undefined;
  const deadline = options.timeout ? performance.now() + options.timeout : Infinity;
  const maxBuffer = options.maxBuffer ?? 0;
  const buffer = Buffer.allocUnsafe(CHUNK);
  let pidfd = -1;

  const closeStdin = () => {
    if (stdin !== null) libc.close(stdin);
    stdin = null;
  };
  const closeReader = (slot: number) => {
    if (readers[slot] !== null) libc.close(readers[slot]);
    readers[slot] = null;
  };
  const kill = (why: string) => {
    error ??= why;
    if (killed) return;
    killed = true;
    // An exited child is not signalled: the pipes a process it started holds are closed all the same.
    if (status === undefined && libc.kill(pid, options.killSignal) !== 0 && libc.errno() !== ESRCH) {
      error ??= errnoName(libc.errno());
      libc.kill(pid, SIGKILL);
    }
    closeStdin();
    closeReader(0);
    closeReader(1);
  };
  const reap = (flags: number) => {
    const word = new Int32Array(1);
    let reaped;
    do reaped = libc.waitpid(pid, word, flags);
    while (reaped === -1 && libc.errno() === EINTR);
    if (reaped === -1) throw new Error(`waitpid(${pid}) failed (${errnoName(libc.errno())}): the exit status is lost`);
    if (reaped === pid) status = word[0];
  };

  try {
    pidfd = libc.pidfdOpen(pid);
    if (stdin !== null && input.length === 0) closeStdin();
    else if (stdin !== null) libc.setNonblocking(stdin);
    const fds = Buffer.alloc(8 * 4);
    while (status === undefined || stdin !== null || readers[0] !== null || readers[1] !== null) {
      const left = deadline - performance.now();
      // As Node's, the timeout runs until the pipes are closed too, not only until the child exits.
      if (left <= 0 && !killed) {
        kill('ETIMEDOUT');
        continue;
      }
      // Watched: stdin while there is input left, the open readers, and the exit (a pidfd).
      const watched: { fd: number; what: 'stdin' | 0 | 1 | 'exit' }[] = [];
      if (stdin !== null) watched.push({ fd: stdin, what: 'stdin' });
      for (const slot of [0, 1] as const) if (readers[slot] !== null) watched.push({ fd: readers[slot], what: slot });
      if (status === undefined && pidfd >= 0) watched.push({ fd: pidfd, what: 'exit' });
      watched.forEach(({ fd, what }, i) => {
        fds.writeInt32LE(fd, 8 * i);
        fds.writeInt16LE(what === 'stdin' ? POLLOUT : POLLIN, 8 * i + 4);
        fds.writeInt16LE(0, 8 * i + 6);
      });
      let wait = !killed && deadline !== Infinity ? Math.ceil(left) : -1;
      if (status === undefined && pidfd < 0) wait = wait === -1 ? EXIT_POLL_MS : Math.min(wait, EXIT_POLL_MS);
      const ready = libc.poll(fds, watched.length, wait);
      if (ready === -1) {
        if (libc.errno() === EINTR) continue;
        throw new Error(`poll failed (${errnoName(libc.errno())})`);
      }
      if (status === undefined && pidfd < 0) reap(WNOHANG);
      watched.forEach(({ fd, what }, i) => {
        const events = fds.readInt16LE(8 * i + 6);
        if (events === 0) return;
        if (what === 'exit') return reap(0);
        if (what === 'stdin') {
          if (stdin === null) return;
          const count = libc.write(fd, input.subarray(written), input.length - written);
          if (count >= 0) written += count;
          else if (libc.errno() !== EAGAIN && libc.errno() !== EINTR) {
            error ??= errnoName(libc.errno());
            closeStdin();
          }
          if (written === input.length) closeStdin();
          return;
        }
        if (readers[what] === null) return;
        if (events & POLLNVAL) return closeReader(what);
        if (!(events & (POLLIN | POLLHUP | POLLERR))) return;
        const count = libc.read(fd, buffer, CHUNK);
        if (count > 0) {
          const keep = Math.min(count, perStream - kept[what]);
          if (keep < count) overflow ??= what === 0 ? 'stdout' : 'stderr';
          if (keep > 0) {
            const chunk = Buffer.from(buffer.subarray(0, keep));
            chunks[what].push(chunk);
            all?.push(chunk);
            kept[what] += keep;
          }
          buffered += count;
        } else if (count === 0) closeReader(what);
        else if (libc.errno() !== EAGAIN && libc.errno() !== EINTR) {
          error ??= errnoName(libc.errno());
          closeReader(what);
        }
      });
      // Checked once every stream that was ready has been read: poll() does not say which became ready first, and
      // Node (libuv's epoll, in arrival order) reads what the child wrote first before the overflow kills it.
      if (!killed && (overflow || (maxBuffer > 0 && buffered > maxBuffer))) kill('ENOBUFS');
    }
  } finally {
    closeStdin();
    closeReader(0);
    closeReader(1);
    if (pidfd >= 0) libc.close(pidfd);
    pidfd = -1;
    // Thrown out of the loop: the child is not left running nor unreaped.
    if (status === undefined) {
      libc.kill(pid, SIGKILL);
      reap(0);
    }
  }
  return {
    pid,
    ...decodeWaitStatus(status!),
    stdout: stdoutEnd === null ? null : Buffer.concat(chunks[0]),
    stderr: stderrEnd === null ? null : Buffer.concat(chunks[1]),
    ...(error === undefined ? {} : { error }),
    ...(overflow && { overflow }),
    ...(all && { all: Buffer.concat(all) }),
  };
}
