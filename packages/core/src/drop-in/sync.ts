/**
 * spawnSync, execFileSync and execSync on the chosen backend's synchronous spawn (Backend.spawnSync),
 * with Node's results and errors; a call it cannot carry out exactly goes to Node's own, counted.
 */
import type { SpawnSyncReturns } from 'node:child_process';
import { isArrayBufferView } from 'node:util/types';
import type { StdioSpec } from '../backend.js';
import { isForkExecError } from '../errors.js';
import { runChildSync } from '../run-sync.js';
import { validateOptions } from '../validate-options.js';
import { sortExecFileArgs } from './exec-file.js';
import { nodeChildProcess } from './node-child-process.js';
import { spawnErrno } from './node-errors.js';
import { countFast, countNode, type DropInFunction } from './report.js';
import { planSpawn, refuse, startRefusal, type Refusal } from './spawn.js';

type SyncReturns = SpawnSyncReturns<string | Buffer>;

/** Node's spawnSync default for maxBuffer (stdout and stderr together). */
const MAX_BUFFER = 1024 * 1024;

/** `input` as Node's spawnSync takes it (a string in `encoding`), or why the call goes to Node. */
function planInput(input: unknown, encoding: unknown): Uint8Array | undefined | Refusal {
  if (!input) return undefined; // Node ignores a falsy input ('' included)
  if (isArrayBufferView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (typeof input !== 'string') return refuse('input: a form Node validates');
  if (encoding != null && !Buffer.isEncoding(encoding as string))
    return refuse('input: a string in an encoding Node checks');
  return Buffer.from(input, (encoding ?? undefined) as BufferEncoding | undefined);
}

/** Node's spawnSync(file, args?, options?) on the backend, or why it goes to Node's own. */
function spawnSyncVia(fn: DropInFunction, file: unknown, args: unknown, options: unknown): SyncReturns | Refusal {
  const plan = planSpawn(file, args, options);
  if ('reason' in plan) return plan;
  if (plan.ipc) return refuse("stdio 'ipc' in a sync call: Node throws ERR_IPC_SYNC_FORK");
  if (!plan.backend.spawnSync) return refuse(`sync API: the ${plan.backend.name} backend has no synchronous spawn`);
  const { encoding, input: given } = plan.given;
  // Node spreads the options over its defaults: an own `undefined` replaces the default (no limit).
  const maxBuffer = Object.hasOwn(plan.given, 'maxBuffer') ? plan.given.maxBuffer : MAX_BUFFER;
  if (maxBuffer != null && !(typeof maxBuffer === 'number' && maxBuffer >= 0))
    return refuse('maxBuffer: a form Node validates');
  const decode = Boolean(encoding) && encoding !== 'buffer';
  if (decode && !Buffer.isEncoding(encoding as string)) return refuse('encoding: one Node does not know');
  const input = planInput(given, encoding);
  if (input && 'reason' in input) return input;
  if (input && (plan.options.stdio as StdioSpec[])[0] !== 'pipe')
    return refuse('input: with a stdin that is not a pipe');
  let ran;
  try {
    ran = runChildSync(plan.file, plan.argv.slice(1), validateOptions(plan.options), {
      input,
      timeout: plan.timeout,
      killSignal: plan.killSignal,
      maxBuffer: (maxBuffer as number | null) ?? 0,
    });
  } catch (error) {
    // A typed error: nothing ran, and Node's own spawnSync gives the caller its exact result (an
    // error with pid 0). Anything else may have come once the child ran: running it again is no answer.
    if (!isForkExecError(error)) throw error;
    return refuse(startRefusal(error));
  }
  countFast(fn, ran.backend);
  const text = (out: Buffer | null) => (out && decode ? out.toString(encoding as BufferEncoding) : out);
  const output = [null, text(ran.stdout), text(ran.stderr), ...Array(plan.extraSlots).fill(null)];
  // Node's key order: error (when there is one), status, signal, output, pid, stdout, stderr.
  return {
    ...(ran.error === undefined ? {} : { error: spawnErrno(ran.error, plan.file, plan.argv.slice(1), 'spawnSync') }),
    status: ran.exitCode,
    signal: ran.signal,
    output,
    pid: ran.pid,
    stdout: output[1],
    stderr: output[2],
  } as SyncReturns;
}

/** Node's checkExecSyncError: the error execFileSync and execSync throw, with the whole result assigned to it. */
function execSyncError(ret: SyncReturns, args: string[] | undefined, command?: string): Error | undefined {
  if (ret.error) return Object.assign(ret.error, ret);
  if (ret.status === 0) return undefined;
  let message = `Command failed: ${command || args!.join(' ')}`;
  if (ret.stderr && ret.stderr.length > 0) message += `\n${ret.stderr.toString()}`;
  return Object.assign(new Error(message), ret);
}

/** execFileSync / execSync after their arguments are sorted out: stderr shown when stdio was not given, errors thrown. */
function finishExecSync(ret: SyncReturns, options: Record<string, unknown>, args?: string[], command?: string) {
  if (!options.stdio && ret.stderr) process.stderr.write(ret.stderr);
  const error = execSyncError(ret, args, command);
  if (error) throw error;
  return ret.stdout;
}

export const spawnSync = ((file: unknown, args?: unknown, options?: unknown) => {
  const ret = spawnSyncVia('spawnSync', file, args, options);
  if (!('reason' in ret)) return ret;
  countNode('spawnSync', ret.reason);
  return (nodeChildProcess.spawnSync as (...a: unknown[]) => unknown)(file, args, options);
}) as typeof import('node:child_process').spawnSync;

export const execFileSync = ((...params: unknown[]) => {
  const call = sortExecFileArgs(params[0], params[1], params[2], undefined);
  const ret = call
    ? spawnSyncVia('execFileSync', call.file, call.args, call.options)
    : refuse('arguments Node validates');
  if ('reason' in ret) {
    countNode('execFileSync', ret.reason);
    return (nodeChildProcess.execFileSync as (...a: unknown[]) => unknown)(...params);
  }
  const { file, args, options } = call!;
  return finishExecSync(ret, options, [(options.argv0 as string) || file, ...args]);
}) as typeof import('node:child_process').execFileSync;

export const execSync = ((command: unknown, options?: unknown) => {
  let ret: SyncReturns | Refusal = refuse('arguments Node validates');
  let withShell: Record<string, unknown> = {};
  if (typeof command === 'string' && !command.includes('\0')) {
    // Node's normalizeExecArgs: the platform shell (or options.shell when a string) runs the command.
    const given = typeof options === 'function' ? undefined : (options as Record<string, unknown> | undefined);
    withShell = { ...given, shell: typeof given?.shell === 'string' ? given.shell : true };
    ret = spawnSyncVia('execSync', command, withShell, undefined);
  }
  if ('reason' in ret) {
    countNode('execSync', ret.reason);
    return (nodeChildProcess.execSync as (...a: unknown[]) => unknown)(command, options);
  }
  return finishExecSync(ret, withShell, undefined, command as string);
}) as typeof import('node:child_process').execSync;
