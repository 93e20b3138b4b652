import type { ChildProcess, SpawnOptions as NodeSpawnOptions } from 'node:child_process';
import path from 'node:path';
import type { Action } from '../actions.js';
import type { Backend, StdioSpec } from '../backend.js';
import { startChild } from '../fork-before-exec.js';
import type { Options } from '../options.js';
import { resolveBackend } from '../select-backend.js';
import { ForkExecChildProcess } from './child.js';
import type { Serialization } from './ipc-channel.js';
import { placeChannel, type IpcEntry } from './ipc-start.js';
import { nodeChildProcess } from './node-child-process.js';
import { AbortError, signalNumberOf } from './node-errors.js';
import { countFast, countNode, type DropInFunction } from './report.js';

/** A call the backend carries out exactly: what it runs, and what the ChildProcess does around it. */
export interface FastCall {
  backend: Backend;
  /** The program and argv as Node reports them (`spawnfile`, `spawnargs`), after the shell is put in. */
  file: string;
  argv: string[];
  options: Options;
  /** stdio entries past the third (each null on the ChildProcess). */
  extraSlots: number;
  /** The 'ipc' stdio entry, if any: a channel is placed there at the start. */
  ipc: IpcEntry | undefined;
  timeout: number;
  killSignal: number;
  signal: AbortSignal | undefined;
  /** The options object as Node sorted it out of the arguments. */
  given: Record<string, unknown>;
}

/** A call Node's own child_process carries out, and why. */
export type Refusal = { reason: string };

export const refuse = (reason: string): Refusal => ({ reason });
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The shell Node runs for `shell: true` on POSIX. */
const DEFAULT_SHELL = process.platform === 'android' ? '/system/bin/sh' : '/bin/sh';

/**
 * The backend for the fast path, or why there is none. Arguments Node would refuse also go to Node,
 * which throws its own error for them.
 */
function chooseBackend(): Backend | Refusal {
  // Windows' child_process costs the same at any parent size, and windowsHide / verbatim arguments are Node's own.
  if (process.platform === 'win32') return refuse('win32: child_process is already flat-cost there');
  let backend: Backend;
  try {
    backend = resolveBackend();
  } catch (error) {
    return refuse(`no backend: ${(error as { code?: string }).code ?? 'error'}`);
  }
  return backend.name === 'node' ? refuse('the chosen backend is node (child_process itself)') : backend;
}

/** The stdio array as forkexec takes it (three entries, then dup2 actions for parent fds above 2). */
function planStdio(
  stdio: unknown,
): { three: [StdioSpec, StdioSpec, StdioSpec]; actions: Action[]; extra: number; ipcSlot?: number } | Refusal {
  if (stdio == null || stdio === 'pipe' || stdio === 'overlapped')
    return { three: ['pipe', 'pipe', 'pipe'], actions: [], extra: 0 };
  if (stdio === 'ignore' || stdio === 'inherit') return { three: [stdio, stdio, stdio], actions: [], extra: 0 };
  let ipcSlot: number | undefined;
  if (!Array.isArray(stdio)) return refuse('stdio: a form Node validates');
  const three: StdioSpec[] = [];
  const actions: Action[] = [];
  for (let slot = 0; slot < Math.max(3, stdio.length); slot++) {
    // An object with a numeric fd (process.stdout, an opened fs stream) is that fd, as Node takes it.
    const given: unknown = stdio[slot];
    const entry = typeof (given as { fd?: unknown } | null)?.fd === 'number' ? (given as { fd: number }).fd : given;
    if (entry === 'ipc') {
      if (ipcSlot !== undefined) return refuse("stdio: more than one 'ipc' entry (Node throws)");
      ipcSlot = slot;
      if (slot < 3) three.push('ignore'); // its fd is put in at the start (ipc-start.ts)
    } else if (slot < 3) {
      if (entry == null || entry === 'pipe' || entry === 'overlapped') three.push('pipe');
      else if (entry === 'ignore' || entry === 'inherit') three.push(entry);
      else if (Number.isInteger(entry) && (entry as number) >= 0) three.push(entry as number);
      else return refuse(`stdio entry ${describeEntry(entry)}: no counterpart in forkexec`);
    } else if (Number.isInteger(entry) && (entry as number) >= 0) {
      actions.push({ op: 'dup2', from: entry as number, to: slot });
    } else if (entry != null && entry !== 'ignore') {
      return refuse(`stdio entry ${describeEntry(entry)} above fd 2: no counterpart in forkexec`);
    }
  }
  return { three: three as [StdioSpec, StdioSpec, StdioSpec], actions, extra: Math.max(0, stdio.length - 3), ipcSlot };
}

function describeEntry(entry: unknown): string {
  return typeof entry === 'string' ? `'${entry}'` : typeof entry === 'object' ? 'a stream without an fd' : typeof entry;
}

/** The child's environment as Node builds it from `env` (values made strings; NODE_V8_COVERAGE kept). */
function planEnv(env: unknown): Record<string, string> | undefined | Refusal {
  if (env == null) return undefined; // process.env, as forkexec's default
  if (typeof env !== 'object') return refuse('env: a form Node validates');
  const copy: Record<string, string> = {};
  // for...in: Node takes inherited keys too.
  for (const key in env) {
    const value = (env as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      return refuse('env: a value that is not a string, number or boolean');
    copy[key] = String(value);
  }
  const coverage = process.env.NODE_V8_COVERAGE;
  if (coverage && !Object.prototype.hasOwnProperty.call(env, 'NODE_V8_COVERAGE')) copy.NODE_V8_COVERAGE = coverage;
  return copy;
}

/** How Node's spawn(file, args, options) maps onto the backend, or why it does not. */
export function planSpawn(file: unknown, argsIn: unknown, optionsIn: unknown): FastCall | Refusal {
  const backend = chooseBackend();
  if ('reason' in backend) return backend;
  let args = argsIn;
  let o = optionsIn;
  if (!Array.isArray(args) && isObject(args)) [o, args] = [args, []];
  args ??= [];
  o ??= {};
  if (typeof file !== 'string' || file === '' || !Array.isArray(args) || !isObject(o))
    return refuse('arguments Node validates');
  if (!args.every((arg) => typeof arg === 'string')) return refuse('args: a value that is not a string');
  if (o.uid != null || o.gid != null)
    return refuse('uid/gid: libuv also drops the supplementary groups, ignoring a failure');
  const { cwd, detached, shell, argv0, timeout, killSignal, signal, serialization } = o;
  if (cwd != null && typeof cwd !== 'string' && !(cwd instanceof URL && cwd.protocol === 'file:'))
    return refuse('cwd: a form Node validates');
  if (typeof cwd === 'string' && cwd === '') return refuse('cwd: empty');
  if (detached != null && typeof detached !== 'boolean') return refuse('detached: a form Node validates');
  if (shell != null && typeof shell !== 'boolean' && typeof shell !== 'string')
    return refuse('shell: a form Node validates');
  if (argv0 != null && typeof argv0 !== 'string') return refuse('argv0: a form Node validates');
  for (const flag of ['windowsHide', 'windowsVerbatimArguments'] as const)
    if (o[flag] != null && typeof o[flag] !== 'boolean') return refuse(`${flag}: a form Node validates`);
  if (serialization !== undefined && serialization !== 'json' && serialization !== 'advanced')
    return refuse('serialization: a form Node validates');
  if (timeout != null && !(Number.isInteger(timeout) && (timeout as number) >= 0))
    return refuse('timeout: a form Node validates');
  if (signal !== undefined && !(isObject(signal) && 'aborted' in signal))
    return refuse('signal: a form Node validates');
  let killNumber: number;
  try {
    killNumber = signalNumberOf(killSignal ?? 'SIGTERM');
  } catch {
    return refuse('killSignal: a form Node validates');
  }
  const stdio = planStdio(o.stdio);
  if ('reason' in stdio) return stdio;
  const env = planEnv(o.env);
  if (env && 'reason' in env) return env as Refusal;

  let program = file;
  let programArgs = args as string[];
  if (shell) {
    // exec's and shell's contract: the platform shell runs the words joined by spaces.
    program = typeof shell === 'string' ? shell : DEFAULT_SHELL;
    programArgs = ['-c', [file, ...programArgs].join(' ')];
  }
  // Core runs such a path by its absolute form: a #! script would see another path in its argv.
  if (program.includes('/') && !path.isAbsolute(program))
    return refuse('a relative path with a slash: the backend would run it by its absolute path');
  const argv = [typeof argv0 === 'string' ? argv0 : program, ...programArgs];
  return {
    backend,
    file: program,
    argv,
    options: {
      backend,
      cwd: (cwd ?? undefined) as string | URL | undefined,
      env,
      extendEnv: env === undefined,
      argv0: argv[0],
      detached: detached === true,
      stdio: stdio.three,
      actions: stdio.actions,
    },
    extraSlots: stdio.extra,
    ipc:
      stdio.ipcSlot === undefined
        ? undefined
        : { slot: stdio.ipcSlot, serialization: (serialization as Serialization | undefined) ?? 'json' },
    timeout: (timeout as number | undefined) ?? 0,
    killSignal: killNumber,
    signal: signal as AbortSignal | undefined,
    given: o,
  };
}

/** The error code a refused start gives as the reason of its fallback (never names or paths: counts must add up). */
export function startRefusal(error: unknown): string {
  const { code, errno } = (error ?? {}) as { code?: string; errno?: string };
  return `the backend refused the start (${[code, errno].filter(Boolean).join(' ') || 'error'}): Node reports it its own way`;
}

/**
 * Node's spawn, carried out by the backend when it can do exactly what Node would, otherwise by
 * Node's own (counted under `fn`, the public function the call came through).
 */
export function spawnVia(fn: DropInFunction, file: unknown, args: unknown, options: unknown): ChildProcess {
  const plan = planSpawn(file, args, options);
  const child = 'reason' in plan ? plan : startPlanned(fn, plan);
  if ('reason' in child) return viaNode(fn, child.reason, file, args, options);
  return child as unknown as ChildProcess;
}

/**
 * Starts a planned call on the backend (counted under `fn`), or tells why it did not start: nothing
 * ran, and Node's own gives the caller its exact failure (an 'error' event, or a throw).
 */
export function startPlanned(fn: DropInFunction, plan: FastCall): ForkExecChildProcess | Refusal {
  const channel = plan.ipc && placeChannel(plan.options, plan.ipc, plan.backend);
  if (plan.ipc && !channel) return refuse(`ipc: the ${plan.backend.name} backend gives no socket pair`);
  let started;
  try {
    started = startChild(plan.file, plan.argv.slice(1), plan.options, { deferPid: false });
  } catch (error) {
    channel?.abandon();
    return refuse(startRefusal(error));
  }
  countFast(fn, plan.backend.name);
  // A child that exists before its exec (a helper) learns later whether the exec worked.
  const execed = plan.backend.capabilities.pidBeforeExec ? started.child.started : undefined;
  const child = new ForkExecChildProcess(started.child, plan.file, plan.argv, plan.extraSlots, execed);
  channel?.attach(child);
  watchTimeout(child, plan.timeout, plan.killSignal);
  watchAbort(child, plan.signal, plan.killSignal);
  return child;
}

function viaNode(fn: DropInFunction, reason: string, file: unknown, args: unknown, options: unknown): ChildProcess {
  countNode(fn, reason);
  return nodeChildProcess.spawn(file as string, args as readonly string[], options as NodeSpawnOptions);
}

/** `timeout`: the child is sent killSignal once it runs that long (a kill that throws becomes an 'error'). */
function watchTimeout(child: ForkExecChildProcess, timeout: number, killSignal: number): void {
  if (timeout <= 0) return;
  const timer = setTimeout(() => {
    try {
      child.kill(killSignal);
    } catch (error) {
      child.emit('error', error);
    }
  }, timeout);
  child.once('exit', () => clearTimeout(timer));
}

/** `signal`: its abort kills the child with killSignal and emits an AbortError whose cause is the reason. */
function watchAbort(child: ForkExecChildProcess, signal: AbortSignal | undefined, killSignal: number): void {
  if (!signal) return;
  const onAbort = () => {
    try {
      if (child.kill(killSignal)) child.emit('error', new AbortError(undefined, { cause: signal.reason }));
    } catch (error) {
      child.emit('error', error);
    }
  };
  // Aborted already: after 'spawn' (a helper's child announces it only once its exec worked), as in Node.
  if (signal.aborted) return void child.once('spawn', () => process.nextTick(onAbort));
  signal.addEventListener('abort', onAbort, { once: true });
  child.once('exit', () => signal.removeEventListener('abort', onAbort));
}

/** child_process.spawn(file, args?, options?), with Node's overloads. */
export const spawn = ((file: unknown, args?: unknown, options?: unknown) =>
  spawnVia('spawn', file, args, options)) as typeof import('node:child_process').spawn;
