import type { Readable, Writable } from 'node:stream';
import type { Action, ActionOp } from './actions.js';

/** What a standard stream of the child is connected to. A number is a parent fd. */
export type StdioSpec = 'pipe' | 'inherit' | 'ignore' | number;

/** A fully validated request, as core hands it to a backend: built afresh for each call, so a backend may read it after `spawn` returns. */
export interface SpawnRequest {
  /** Absolute path of the program (core resolved PATH lookups), or a bare name when `searchPath` is true. */
  file: string;
  /**
   * `file` is a bare name for the child to find in its PATH (see `capabilities.searchesPath`).
   * Core sets it only for such backends, and only when the child's PATH is the parent's own.
   */
  searchPath?: boolean;
  /** The full argument vector, `argv[0]` included. */
  argv: string[];
  /**
   * The complete environment of the child. Read it during `spawn`: when `inheritsEnv` is true,
   * it is a copy of process.env made on first read.
   */
  env: Record<string, string>;
  /**
   * True when the child's environment is exactly the parent's (no `env` changes, `extendEnv` not
   * false). A backend may then hand the child the process's own environment without reading `env`.
   */
  inheritsEnv?: boolean;
  /** Ordered actions; core folds `cwd` and `detached` in as leading `chdir` and `setsid`. */
  actions: Action[];
  stdio: [StdioSpec, StdioSpec, StdioSpec];
  /** The command line, for error messages (core formats it when it is read). */
  command: string;
}

export interface ExitStatus {
  /** Exit code, or null when a signal ended the child. */
  exitCode: number | null;
  /** Name of the signal that ended the child, or null. */
  signal: NodeJS.Signals | null;
}

/** How the caller of `Backend.spawn` wants the child started. */
export interface SpawnOptions {
  /**
   * The caller can wait for the pid (forkBeforeExec can; fork_before_exec, which returns it, cannot).
   * A backend that declares `capabilities.deferredPid` may then create the child off the event
   * loop: `spawn` returns at once with the stdio streams, `pid` stays undefined until `started`
   * resolves. Other backends ignore it.
   */
  deferPid?: boolean;
}

/** A started child as a backend reports it. */
export interface SpawnedChild {
  /**
   * Undefined while a deferred start is under way (see `started`), or when the start failed in a
   * way the backend learns asynchronously; `exited` then rejects.
   */
  pid: number | undefined;
  /**
   * Present when the child is being created off the event loop: resolves with the pid once it runs
   * (`pid` is set by then), rejects with the typed start error, as `exited` does. Meanwhile the
   * streams are usable, and `kill`, `ref` and `unref` take effect once the child exists. Callers
   * may never read it: the backend handles its rejection itself (`started.catch(() => {})`), and
   * may make it only when read (a getter).
   */
  started?: Promise<number>;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Settles once the child is reaped; rejects with a SpawnError if exec failed after `spawn` returned. */
  exited: Promise<ExitStatus>;
  /** Sends a signal; false when the child is already gone. */
  kill(signal?: NodeJS.Signals | number): boolean;
  /** Whether waiting for this child keeps Node alive (default: it does), like ChildProcess#ref/unref. */
  ref?(): void;
  unref?(): void;
}

/** What `Backend.spawnSync` does beside the request, as Node's spawnSync takes it. */
export interface SyncSpawnOptions {
  /** Written to the child's stdin when it is a pipe, which is then closed (a stdin pipe without input is closed at once). */
  input?: Uint8Array;
  /**
   * Milliseconds after which the child is sent `killSignal` and its pipes are closed (0 or absent:
   * never). As Node's, it runs until the pipes are closed: a process the child started that holds
   * them cannot keep the caller blocked past it.
   */
  timeout?: number;
  /** The signal number sent on timeout or when the output passes maxBuffer. */
  killSignal: number;
  /** Bytes of stdout and stderr together beyond which the child is sent `killSignal` (0 or absent: no limit). */
  maxBuffer?: number;
  /**
   * Bytes stdout, and stderr, may each bring (forkBeforeExec's maxBuffer; absent: no limit, 0: no
   * output at all): the bytes beyond are dropped, the child is sent `killSignal`, `error` is ENOBUFS
   * and `overflow` names the stream.
   */
  maxBufferPerStream?: number;
  /** Also keep stdout and stderr together, in the order they were read, as the result's `all`. */
  all?: boolean;
}

/**
 * A child started, waited for and reaped by `Backend.spawnSync`. After a timeout or maxBuffer the
 * pipes are closed at once (what was read so far is kept) and the child is still waited for.
 */
export interface SyncSpawnResult extends ExitStatus {
  pid: number;
  /** Everything read from a stdout or stderr pipe; null when that stream was not a pipe. */
  stdout: Buffer | null;
  stderr: Buffer | null;
  /**
   * The errno name of what went wrong once the child ran: ETIMEDOUT (timeout), ENOBUFS
   * (maxBuffer), EPIPE (the child did not read all of input). The first one wins.
   */
  error?: string;
  /** With `maxBufferPerStream`: the stream that went over it first. */
  overflow?: 'stdout' | 'stderr';
  /** With the `all` option: what was read from stdout and stderr, in that order. */
  all?: Buffer;
}

export interface BackendCapabilities {
  /** Platforms (`process.platform` values) the backend runs on. */
  platforms: NodeJS.Platform[];
  /** Actions the backend carries out exactly. Core refuses the others. */
  actions: ActionOp[];
  /**
   * A pid exists before the exec happens (pre-started helpers; ntdll's clone path): `spawn` may
   * return a child whose setup or exec then fails, reported through `exited` and `started`.
   */
  pidBeforeExec: boolean;
  /** The backend keeps pre-started helper processes as children of this one (helper-exe). */
  preStartsHelpers?: boolean;
  /** The cost of a spawn does not grow with the parent's memory. */
  flatCost: boolean;
  /** With `SpawnOptions.deferPid`, the child is created off the event loop and its pid arrives with `started`. */
  deferredPid?: boolean;
  /**
   * The child runs `request.file` with execve's own rules: a file the kernel cannot run fails with
   * ENOEXEC (never handed to /bin/sh, as execvp under child_process does) and every failure is
   * reported. Core then checks a program only the first time it runs it: a program that changed
   * since fails in the child, and core explains the error with a fresh check.
   */
  exactExec?: boolean;
  /**
   * With `request.searchPath`, the child finds the bare `file` as execvp does, in PATH (relative
   * entries against its final working directory), without a shell: ENOEXEC is reported. Core then
   * leaves the search to the child instead of a stat per PATH directory on the event loop, and
   * explains a failure with its own search. Implies `exactExec`.
   */
  searchesPath?: boolean;
}

export type ProbeResult = { ok: true; detail?: string } | { ok: false; reason: string };

/** A child watched with `Backend.watchChild`: its exit, kill(), and whether waiting keeps Node alive; no stdio. */
export type WatchedChild = Pick<SpawnedChild, 'exited' | 'kill'> & { pid: number; ref(): void; unref(): void };

export interface Backend {
  name: string;
  capabilities: BackendCapabilities;
  /** Whether the backend works on this machine, and why not. Cheap and side-effect free apart from loading. */
  probe(): ProbeResult;
  /** Starts the child. Throws a ForkExecError for failures known before the child runs. */
  spawn(request: SpawnRequest, options?: SpawnOptions): SpawnedChild;
  /**
   * Watches the exit of `pid`, a child of this process that the backend did not start (say, one
   * forked with clone(CLONE_PARENT) by a process it started: only this process can reap it), with
   * the reaping the backend uses for its own children. Offered by backends that reap by pid
   * (ntdll on Linux); helper-exe's zygote needs its starter to offer it. Throws a RangeError
   * for a pid that is not a positive integer.
   */
  watchChild?(pid: number): WatchedChild;

  /**
   * Optional: starts the child and blocks until it is reaped, collecting its pipes (Node's
   * spawnSync without the fork: the drop-in's spawnSync, execFileSync and execSync use it, and go
   * to Node's own when a backend lacks it). Throws a ForkExecError for a start that failed, as `spawn`.
   */
  spawnSync?(request: SpawnRequest, options: SyncSpawnOptions): SyncSpawnResult;

  /**
   * Optional: a connected AF_UNIX stream pair, both ends close-on-exec (what libuv makes for an
   * 'ipc' stdio entry). The drop-in's fork() hands one end to the child as its IPC channel, and goes
   * to Node's own when the backend lacks this. Throws when the OS refuses (EMFILE, ...).
   */
  socketPair?(): [number, number];
  /** Releases pools, handles and helpers. */
  dispose?(): Promise<void> | void;
}

/** A backend as the caller may name it. */
export type BackendSpec = string | Backend;

export function isBackend(value: unknown): value is Backend {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Backend).spawn === 'function' &&
    typeof (value as Backend).name === 'string'
  );
}
