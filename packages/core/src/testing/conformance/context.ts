/** What every concern of the conformance suite shares: the backend, one start path, test registration, spawning. */
import type { ActionOp } from '../../actions.js';
import type { Backend } from '../../backend.js';
import { forkBeforeExec } from '../../fork-before-exec.js';
import type { Options, Result } from '../../options.js';
import type { Subprocess } from '../../subprocess.js';
import type { TestFn } from '../cases.js';
import { probePath } from '../probe.js';
import { inheritableFds } from '../proc.js';

export interface ConformanceOptions {
  /** Test-framework functions; default: the `describe` and `it` globals (Jest, Vitest, node:test with globals). */
  describe?: (name: string, fn: () => void) => void;
  it?: (name: string, fn: TestFn) => void;
  /** Cases to skip, by name, with the reason (printed in the test name). */
  skip?: Record<string, string>;
}

export interface ConformanceContext {
  backend: () => Backend;
  name: string;
  /** How every spawn starts: off the event loop (the default) or on it; `label` says which in file names. */
  start: Options;
  label: string;
  supports: (op: ActionOp) => boolean;
  /** A case that runs only when the backend declares `ops` and `condition` gives no reason to skip; else skipped visibly. */
  test: (title: string, fn: TestFn, ops?: ActionOp[], condition?: () => string | undefined) => void;
  /** Spawns the probe with `args` on the backend under test. */
  run: (args: string[], opts?: Options) => Subprocess<string>;
  /** The probe's stdout. */
  out: (args: string[], opts?: Options) => Promise<string>;
  /** Spawns `file` on the backend under test, on this start path. */
  spawn: (file: string, args: string[], opts?: Options) => Subprocess<string>;
  /** A private scratch directory (real path), removed after the suite. */
  tmp: () => string;
}

export const NO_SIGNALS = 'Windows has no signals: a process ends with an exit code or is terminated';
export const ONLY_STDIO = 'a Windows child receives only the standard handles 0-2';

/** Fds a child may see besides those asked for: a backend without closefrom cannot drop the parent's inheritable ones. */
export function unasked(ctx: ConformanceContext, fds: string): string {
  const tolerated = new Set(ctx.supports('closefrom') ? [] : inheritableFds());
  return fds
    .split(' ')
    .filter((fd) => fd !== '' && !tolerated.has(Number(fd)))
    .join(' ');
}

/** The context of one start path of the suite. */
export function conformanceContext(
  shared: Pick<ConformanceContext, 'backend' | 'name' | 'supports' | 'test' | 'tmp'>,
  label: string,
  start: Options,
): ConformanceContext {
  const spawn = (file: string, args: string[], opts: Options = {}) =>
    forkBeforeExec(file, args, { backend: shared.backend(), ...start, ...opts }) as Subprocess<string>;
  const run = (args: string[], opts: Options = {}) => spawn(probePath(), args, opts);
  const out = async (args: string[], opts: Options = {}) => ((await run(args, opts)) as Result<string>).stdout;
  return { ...shared, label, start, run, out, spawn };
}

export interface Ids {
  pid: number;
  pgid: number;
  sid: number;
  uid: number;
  gid: number;
  groups: string;
}

/** The probe's `ids` line: pid=1 pgid=1 sid=1 uid=0 gid=0 groups=0,1 */
export function parseIds(line: string): Ids {
  const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=')));
  return {
    pid: +fields.pid,
    pgid: +fields.pgid,
    sid: +fields.sid,
    uid: +fields.uid,
    gid: +fields.gid,
    groups: fields.groups,
  };
}
