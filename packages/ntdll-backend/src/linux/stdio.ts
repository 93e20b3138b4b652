/**
 * The child's fds 0-2: pipes made with pipe2(O_CLOEXEC) whose parent ends become Node streams
 * (libuv makes them non-blocking; the child's ends stay blocking), /dev/null, or parent fds.
 */
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { SpawnError, type SpawnRequest } from '@forkexec/core';
import { errnoName, spawnHint } from '@forkexec/core/backend-kit';
import { O_CLOEXEC, type Libc } from './libc.js';
import type { StdioSource } from './spawn-plan.js';

export interface ChildStdio {
  libc: Libc;
  sources: StdioSource[];
  /** Parent ends of the pipes, by slot. */
  parentEnds: (number | null)[];
  /** Fds the parent closes once the child has started (or failed to). */
  afterSpawn: number[];
}

/**
 * Opens what `request.stdio` asks for. On failure nothing stays open. `copyFds`: the spawn runs
 * later, so fds the caller named are copied now (the caller may close them as soon as we return).
 */
export function openStdio(request: SpawnRequest, libc: Libc, copyFds = false): ChildStdio {
  const stdio: ChildStdio = { libc, sources: [], parentEnds: [null, null, null], afterSpawn: [] };
  let fds: Int32Array | undefined; // made for the first pipe: most calls have none
  try {
    for (let slot = 0; slot < request.stdio.length; slot++) {
      const spec = request.stdio[slot];
      if (spec === 'pipe') {
        fds ??= new Int32Array(2);
        if (libc.pipe2(fds, O_CLOEXEC) !== 0) fail(request, `pipe2 for stdio[${slot}] failed`, libc.errno());
        const [read, write] = fds;
        const [parent, child] = slot === 0 ? [write, read] : [read, write];
        stdio.parentEnds[slot] = parent;
        stdio.afterSpawn.push(child);
        stdio.sources.push({ fd: child });
      } else if (spec === 'ignore') {
        stdio.sources.push('devnull');
      } else {
        const fd = spec === 'inherit' ? slot : spec;
        if (libc.getfd(fd) === -1) {
          if (spec === 'inherit') stdio.sources.push('closed');
          else fail(request, `stdio[${slot}] names fd ${fd}, which is not open in the parent`, libc.errno());
        } else if ((fd <= 2 && fd !== slot) || (copyFds && spec !== 'inherit')) {
          // Another slot may be set up first and overwrite fd in the child: use a copy above 2.
          const copy = libc.dupCloexec(fd, 3);
          if (copy === -1) fail(request, `copying fd ${fd} for stdio[${slot}] failed`, libc.errno());
          stdio.afterSpawn.push(copy);
          stdio.sources.push({ fd: copy });
        } else {
          stdio.sources.push({ fd });
        }
      }
    }
  } catch (error) {
    closeStdio(stdio);
    throw error;
  }
  return stdio;
}

function fail(request: SpawnRequest, message: string, errno: number): never {
  const name = errnoName(errno);
  throw new SpawnError(`${message} (${name})`, { errno: name, command: request.command, hint: spawnHint(name) });
}

/** Closes the fds the parent no longer needs once posix_spawn returned. */
export function closeAfterSpawn(stdio: ChildStdio): void {
  const fds = stdio.afterSpawn;
  if (fds.length === 0) return; // nothing piped nor copied: the usual call
  stdio.afterSpawn = [];
  for (let i = 0; i < fds.length; i++) stdio.libc.close(fds[i]);
}

/** Closes everything, parent ends included (the spawn failed). */
export function closeStdio(stdio: ChildStdio): void {
  closeAfterSpawn(stdio);
  for (const fd of stdio.parentEnds) if (fd !== null) stdio.libc.close(fd);
  stdio.parentEnds = [null, null, null];
}

const NO_STREAMS = Object.freeze({ stdin: null, stdout: null, stderr: null });

/** Node streams over the parent ends. */
export function stdioStreams(stdio: ChildStdio): {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
} {
  const [stdin, stdout, stderr] = stdio.parentEnds;
  if (stdin === null && stdout === null && stderr === null) return NO_STREAMS;
  const reader = (fd: number | null) => (fd === null ? null : new Socket({ fd, readable: true, writable: false }));
  return {
    stdin: stdin === null ? null : new Socket({ fd: stdin, readable: false, writable: true }),
    stdout: reader(stdout),
    stderr: reader(stderr),
  };
}
