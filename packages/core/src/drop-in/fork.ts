/**
 * child_process.fork() on the fast path: Node's argument handling (execPath, execArgv, silent, the
 * 'ipc' stdio entry), then the spawn with its channel (ipc-start.ts).
 */
import type { ChildProcess, ForkOptions } from 'node:child_process';
import { nodeChildProcess } from './node-child-process.js';
import { countNode } from './report.js';
import { isObject, planSpawn, refuse, startPlanned, type Refusal } from './spawn.js';

interface ForkCall {
  execPath: string;
  args: string[];
  options: Record<string, unknown>;
  stdio: unknown[];
}

const STDIO_WORDS = ['pipe', 'overlapped', 'ignore', 'inherit'];

/** fork()'s arguments as Node's lib/child_process.js turns them into a spawn, or why Node should have them. */
function forkArguments(modulePath: unknown, argsIn: unknown, optionsIn: unknown): ForkCall | Refusal {
  if (typeof modulePath !== 'string') return refuse('modulePath: a form Node validates');
  let args = argsIn;
  let options = optionsIn;
  if (args == null) args = [];
  else if (isObject(args)) [options, args] = [args, []];
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) return refuse('arguments Node validates');
  if (options != null && !isObject(options)) return refuse('arguments Node validates');
  const o: Record<string, unknown> = { ...options, shell: false };
  const execPath = o.execPath || process.execPath;
  if (typeof execPath !== 'string') return refuse('execPath: a form Node validates');
  let execArgv = (o.execArgv || process.execArgv) as unknown;
  if (!Array.isArray(execArgv) || !execArgv.every((arg) => typeof arg === 'string'))
    return refuse('execArgv: a form Node validates');
  // Node leaves out the parent's own `-e CODE`, so that the child does not run it again.
  const evaluated = (process as { _eval?: string })._eval;
  if (execArgv === process.execArgv && evaluated != null) {
    const index = execArgv.lastIndexOf(evaluated);
    if (index > 0) execArgv = execArgv.filter((_, i) => i !== index - 1 && i !== index);
  }
  let stdio: unknown[];
  if (typeof o.stdio === 'string') {
    if (!STDIO_WORDS.includes(o.stdio)) return refuse('stdio: a form Node validates');
    stdio = [o.stdio, o.stdio, o.stdio, 'ipc'];
  } else if (!Array.isArray(o.stdio)) {
    const word = o.silent ? 'pipe' : 'inherit';
    stdio = [word, word, word, 'ipc'];
  } else stdio = [...(o.stdio as unknown[])];
  if (!stdio.includes('ipc')) return refuse("stdio without 'ipc': Node throws ERR_CHILD_PROCESS_IPC_REQUIRED");
  return {
    execPath,
    args: [...(execArgv as string[]), modulePath, ...(args as string[])],
    options: o,
    stdio,
  };
}

/** The fast path's start of a forked child, or why Node's own fork should do it. */
function forkFast(modulePath: unknown, argsIn: unknown, optionsIn: unknown): ChildProcess | Refusal {
  const call = forkArguments(modulePath, argsIn, optionsIn);
  if ('reason' in call) return call;
  const plan = planSpawn(call.execPath, call.args, { ...call.options, stdio: call.stdio });
  if ('reason' in plan) return plan;
  const child = startPlanned('fork', plan);
  return 'reason' in child ? child : (child as unknown as ChildProcess);
}

/** child_process.fork(modulePath, args?, options?), with Node's overloads. */
export const fork = ((modulePath: unknown, args?: unknown, options?: unknown) => {
  const child = forkFast(modulePath, args, options);
  if (!('reason' in child)) return child;
  countNode('fork', child.reason);
  return nodeChildProcess.fork(modulePath as string, args as readonly string[], options as ForkOptions);
}) as typeof import('node:child_process').fork;
