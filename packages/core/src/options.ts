import type { Action } from './actions.js';
import type { BackendSpec, StdioSpec } from './backend.js';

export type { StdioSpec };

/** A standard stream read from (stdin) or written to a file, as execa's `{ file }`; `append` keeps what it holds. */
export interface FileTarget {
  file: string | URL;
  append?: boolean;
}

export interface Options {
  /** Working directory of the child (folded into a leading `chdir` action). */
  cwd?: string | URL;
  /** Variables for the child; merged over the parent's unless `extendEnv` is false. `undefined` removes one. */
  env?: Record<string, string | undefined>;
  extendEnv?: boolean;
  /** `argv[0]` as the child sees it; defaults to the file name as given. */
  argv0?: string;
  /** Start the child in a new session (folded into a leading `setsid` action). */
  detached?: boolean;
  /** Search a bare program name in the child's PATH, as execvp does. Default true. */
  searchPath?: boolean;
  /**
   * Put `node_modules/.bin` of `cwd` and each of its parents, then the directory of the running
   * Node, before the child's PATH (as execa's preferLocal). Default false.
   */
  preferLocal?: boolean;
  stdio?: StdioSpec | [StdioSpec, StdioSpec, StdioSpec];
  /** Default `'pipe'` when `input` is given, else `'ignore'`. */
  stdin?: StdioSpec | FileTarget;
  /** Default `'pipe'`. */
  stdout?: StdioSpec | FileTarget;
  /** Default `'pipe'`. */
  stderr?: StdioSpec | FileTarget;
  /** Written to the child's stdin, which is then closed. */
  input?: string | Uint8Array;
  /**
   * Milliseconds before the child is sent `killSignal`. 0 or undefined: none. Once a child killed
   * for a timeout, an abort or maxBuffer has exited, its output gets 200 ms more to arrive (a
   * process it started may hold its pipes open), then the result settles.
   */
  timeout?: number;
  /** Aborting it kills the child and rejects with FORKEXEC_ABORTED, whose `cause` is the signal's reason. */
  cancelSignal?: AbortSignal;
  /** The same as `cancelSignal` (its earlier name). */
  signal?: AbortSignal;
  /** Default SIGTERM. */
  killSignal?: NodeJS.Signals | number;
  /** Milliseconds after `killSignal` before SIGKILL; false: never; true: the default, 5000. */
  forceKillAfterDelay?: number | boolean;
  /**
   * Bytes kept per output stream before the child is killed with FORKEXEC_MAX_BUFFER (as in execa:
   * 0 allows no output at all; Infinity, no limit). Default 100 MB.
   */
  maxBuffer?: number;
  /**
   * Keep stdout/stderr in the result. Default true. With false the streams are the caller's: the
   * result then waits for the ones being read (piped, 'data' or 'readable' listeners) to end.
   */
  buffer?: boolean;
  /** Also keep stdout and stderr together, in the order they arrived, as the result's `all` (as execa). Default false. */
  all?: boolean;
  /**
   * Give stdout, stderr (and `all`) as arrays of lines, as execa: without their newlines unless
   * `stripFinalNewline` is false. Not with `encoding: 'buffer'`.
   */
  lines?: boolean;
  /** `'buffer'` gives Buffers; any encoding Node knows (default `'utf8'`) gives strings decoded with it. */
  encoding?: BufferEncoding | 'buffer';
  /** Drop one trailing newline from string output. Default true. */
  stripFinalNewline?: boolean;
  /**
   * Reject on a non-zero exit, a signal, a timeout, an abort or a start the OS refused. Default true.
   * With false these give a result with `failed: true` (a wrong argument is still thrown).
   */
  reject?: boolean;
  /** Backend name, package, or object; see README "Choosing a backend". */
  backend?: BackendSpec;
  /** Ordered steps between fork and exec. */
  actions?: Action[];
  /**
   * Let a backend that can (ntdll's posix_spawn path: Linux other than x86-64, or the backend
   * option `spawner: 'posix_spawn'`) create the child off the event loop. Default true:
   * forkBeforeExec returns before the child exists and `pid` is set once `started` resolves.
   * false: the child exists when forkBeforeExec returns and `pid` is set at once, but the event
   * loop waits while it is created (until its exec, about half a millisecond). Moot on ntdll's
   * clone path (x86-64 Linux), which returns the pid at once without waiting for the exec.
   */
  startOffLoop?: boolean;
}

export interface Result<T extends string | Buffer | string[] = string | Buffer> {
  /** The command line, each word quoted for a shell where it needs it. */
  command: string;
  /** The same as `command` (execa's name for the quoted form). */
  escapedCommand: string;
  /** The child's working directory. */
  cwd: string;
  file: string;
  args: string[];
  pid: number | undefined;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: T;
  stderr: T;
  /** With `all: true`: stdout and stderr together, in the order they arrived. */
  all?: T;
  durationMs: number;
  /** Name of the backend that ran the child. */
  backend: string;
  failed: boolean;
  timedOut: boolean;
  isCanceled: boolean;
  /** A signal ended the child. */
  isTerminated: boolean;
  /** An output stream went over maxBuffer (the child was killed). */
  isMaxBuffer: boolean;
  /** What `signal` means ("Termination"), when a signal ended the child. */
  signalDescription?: string;
  /** With `reject: false`, when failed: what the error would have said (its first line). */
  shortMessage?: string;
  /** With `reject: false`, when the child could not start: the errno name (`ENOENT`) or the error code. */
  code?: string;
}
