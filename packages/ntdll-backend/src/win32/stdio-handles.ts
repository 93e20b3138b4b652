import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { SpawnError, UnsupportedActionError, type SpawnRequest } from '@forkexec/core';
import { CURRENT_PROCESS, isValidHandle, type Win32Api } from './ntdll-api.js';

const PIPE_ACCESS_INBOUND = 0x1;
const PIPE_ACCESS_OUTBOUND = 0x2;
const FILE_FLAG_FIRST_PIPE_INSTANCE = 0x80000;
const FILE_FLAG_OVERLAPPED = 0x40000000;
const PIPE_REJECT_REMOTE_CLIENTS = 0x8;
const GENERIC_READ = 0x80000000;
const GENERIC_WRITE = 0x40000000;
const FILE_READ_ATTRIBUTES = 0x80;
const FILE_WRITE_ATTRIBUTES = 0x100;
const OPEN_EXISTING = 3;
const DUPLICATE_SAME_ACCESS = 2;
const PIPE_BUFFER = 65536;

export interface ChildStdio {
  /** Inheritable handles for the child's stdin, stdout and stderr; 0n where the child gets none. */
  handles: [bigint, bigint, bigint];
  /** Closes the parent's copies of what the child received (after the child exists, or after a failure). */
  release(): void;
  /** Parent ends of the pipes as Node streams. */
  streams(api: Win32Api): { stdin: Writable | null; stdout: Readable | null; stderr: Readable | null };
  /** After a failed start: closes the parent ends of the pipes as well. */
  abort(api: Win32Api): void;
}

/** Pipe ends for the child are made inheritable at once: no other process is created while spawn runs. */
const INHERITABLE = { nLength: 24, lpSecurityDescriptor: null, bInheritHandle: 1 };
let pipeCounter = 0;
let nulFd: number | undefined;

/**
 * An overlapped pipe end for the parent (libuv reads it through its completion port) and a
 * synchronous, inheritable end for the child, as libuv does for its own children.
 */
function createPipe(api: Win32Api, childReads: boolean, command: string): { parent: bigint; child: bigint } {
  const name = `\\\\.\\pipe\\forkexec-${process.pid}-${++pipeCounter}-${Math.random().toString(36).slice(2)}`;
  const access = childReads ? PIPE_ACCESS_OUTBOUND : PIPE_ACCESS_INBOUND;
  const parent = api.CreateNamedPipeW(
    name,
    access | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
    PIPE_REJECT_REMOTE_CLIENTS,
    1,
    PIPE_BUFFER,
    PIPE_BUFFER,
    0,
    null,
  );
  if (!isValidHandle(parent))
    throw new SpawnError(`CreateNamedPipeW failed (error ${api.GetLastError()})`, { command });
  const childAccess = childReads ? GENERIC_READ | FILE_WRITE_ATTRIBUTES : GENERIC_WRITE | FILE_READ_ATTRIBUTES;
  const child = api.CreateFileW(name, childAccess, 0, INHERITABLE, OPEN_EXISTING, 0, null);
  if (!isValidHandle(child)) {
    const error = api.GetLastError();
    api.NtClose(parent);
    throw new SpawnError(`opening the child end of a pipe failed (error ${error})`, { command });
  }
  return { parent, child };
}

function handleOfFd(api: Win32Api, fd: number, what: string, command: string, actionIndex?: number): bigint {
  const handle = api.uv_get_osfhandle(fd);
  if (!isValidHandle(handle))
    throw new SpawnError(`${what}: fd ${fd} is not open in the parent`, { errno: 'EBADF', command, actionIndex });
  return handle;
}

/**
 * Replays the request's stdio and actions on the child's three standard handles. Windows hands a
 * child only those three, so actions aimed at higher fds are refused, except `close`, which
 * holds trivially there.
 */
export function prepareStdio(api: Win32Api, request: SpawnRequest): ChildStdio {
  const { command } = request;
  const parentEnds: (bigint | null)[] = [null, null, null];
  const toClose: bigint[] = [];
  const inheritable = new Set<bigint>();
  const openedFds: number[] = [];
  const release = () => {
    for (const handle of toClose.splice(0)) api.NtClose(handle);
    for (const fd of openedFds.splice(0)) closeSync(fd);
  };
  const abort = () => {
    release();
    parentEnds.forEach((handle, i) => {
      if (handle !== null) api.NtClose(handle);
      parentEnds[i] = null;
    });
  };
  try {
    const slots: (bigint | null)[] = request.stdio.map((spec, fd) => {
      if (spec === 'pipe') {
        const pipe = createPipe(api, fd === 0, command);
        parentEnds[fd] = pipe.parent;
        toClose.push(pipe.child);
        inheritable.add(pipe.child);
        return pipe.child;
      }
      if (spec === 'ignore')
        return handleOfFd(api, (nulFd ??= openSync('\\\\.\\NUL', 'r+')), 'the NUL device', command);
      if (spec === 'inherit') {
        const handle = api.uv_get_osfhandle(fd);
        return isValidHandle(handle) ? handle : null;
      }
      return handleOfFd(api, spec, `stdio[${fd}]`, command);
    });
    const unsupported = (index: number, why: string): never => {
      throw new UnsupportedActionError(index, why, {
        command,
        hint: 'A Windows child receives only the standard handles 0, 1 and 2.',
      });
    };
    request.actions.forEach((action, index) => {
      switch (action.op) {
        case 'dup2': {
          if (action.to > 2)
            unsupported(index, `dup2(${action.from}, ${action.to}): Windows cannot give a child fd ${action.to}`);
          const source =
            action.from <= 2
              ? slots[action.from]
              : handleOfFd(api, action.from, `actions[${index}] dup2`, command, index);
          if (source === null)
            throw new SpawnError(`actions[${index}] dup2: fd ${action.from} is closed in the child`, {
              errno: 'EBADF',
              command,
              actionIndex: index,
            });
          slots[action.to] = source;
          break;
        }
        case 'close':
          if (action.fd <= 2) slots[action.fd] = null;
          break;
        case 'open': {
          if (action.fd > 2)
            unsupported(index, `open onto fd ${action.fd}: Windows cannot give a child fd ${action.fd}`);
          let fd: number;
          try {
            fd = openSync(action.path, action.flags ?? 'r', action.mode ?? 0o666);
          } catch (error) {
            const errno = (error as NodeJS.ErrnoException).code;
            throw new SpawnError(`actions[${index}] open ${action.path}: ${(error as Error).message}`, {
              errno,
              command,
              actionIndex: index,
              cause: error,
            });
          }
          openedFds.push(fd);
          slots[action.fd] = handleOfFd(api, fd, `actions[${index}] open`, command, index);
          break;
        }
        case 'chdir':
          break; // becomes the child's current directory
        default:
          unsupported(index, `the ntdll backend cannot carry out ${action.op} on Windows`);
      }
    });
    const handles = slots.map((source) => {
      if (source === null) return 0n;
      if (inheritable.has(source)) return source;
      const copy: [bigint | null] = [null];
      if (!api.DuplicateHandle(CURRENT_PROCESS, source, CURRENT_PROCESS, copy, 0, 1, DUPLICATE_SAME_ACCESS))
        throw new SpawnError(`DuplicateHandle failed (error ${api.GetLastError()})`, { command });
      toClose.push(copy[0]!);
      return copy[0]!;
    }) as [bigint, bigint, bigint];
    return {
      handles,
      release,
      abort,
      streams(api: Win32Api) {
        const stream = (fd: 0 | 1 | 2) => {
          const handle = parentEnds[fd];
          if (handle === null) return null;
          parentEnds[fd] = null;
          const crtFd = api.uv_open_osfhandle(handle);
          if (crtFd < 0) {
            api.NtClose(handle);
            throw new SpawnError(`uv_open_osfhandle failed for the child's fd ${fd}`, { command });
          }
          return new Socket({ fd: crtFd, readable: fd !== 0, writable: fd === 0 });
        };
        return { stdin: stream(0), stdout: stream(1), stderr: stream(2) };
      },
    };
  } catch (error) {
    abort();
    throw error;
  }
}
