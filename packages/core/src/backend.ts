import type { Readable, Writable } from 'node:stream';
import type { Action, ActionOp } from './actions.js';

/** What a standard stream of the child is connected to. A number is a parent fd. */
export type StdioSpec = 'pipe' | 'inherit' | 'ignore' | number;

/** A fully validated request, as core hands it to a backend. */
export interface SpawnRequest {
  /** Absolute path of the program (core resolved PATH lookups). */
  file: string;
  /** The full argument vector, `argv[0]` included. */
  argv: string[];
  /** The complete environment of the child. */
  env: Record<string, string>;
  /** Ordered actions; core folds `cwd` and `detached` in as leading `chdir` and `setsid`. */
  actions: Action[];
  stdio: [StdioSpec, StdioSpec, StdioSpec];
  /** The command line, for error messages. */
  command: string;
}

export interface ExitStatus {
  /** Exit code, or null when a signal ended the child. */
  exitCode: number | null;
  /** Name of the signal that ended the child, or null. */
  signal: NodeJS.Signals | null;
}

/** A started child as a backend reports it. */
export interface SpawnedChild {
  /** Undefined only when the start failed in a way the backend learns asynchronously; `exited` then rejects. */
  pid: number | undefined;
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

export interface BackendCapabilities {
  /** Platforms (`process.platform` values) the backend runs on. */
  platforms: NodeJS.Platform[];
  /** Actions the backend carries out exactly. Core refuses the others. */
  actions: ActionOp[];
  /** A pid exists before the exec happens (pre-started helpers). */
  pidBeforeExec: boolean;
  /** The cost of a spawn does not grow with the parent's memory. */
  flatCost: boolean;
}

export type ProbeResult = { ok: true; detail?: string } | { ok: false; reason: string };

export interface Backend {
  name: string;
  capabilities: BackendCapabilities;
  /** Whether the backend works on this machine, and why not. Cheap and side-effect free apart from loading. */
  probe(): ProbeResult;
  /** Starts the child. Throws a ForkExecError for failures known before the child runs. */
  spawn(request: SpawnRequest): SpawnedChild;
  /** Releases pools, handles and helpers. */
  dispose?(): Promise<void> | void;
}

/** A backend as the caller may name it. */
export type BackendSpec = string | Backend;

export function isBackend(value: unknown): value is Backend {
  return typeof value === 'object' && value !== null && typeof (value as Backend).spawn === 'function' && typeof (value as Backend).name === 'string';
}
