/** What every section of the reliability suite shares: the backend, test registration, spawning and counting. */
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import type { ActionOp } from '../actions.js';
import { isForkExecError } from '../errors.js';
import type { Backend } from '../backend.js';
import type { Options } from '../options.js';
import type { Subprocess } from '../subprocess.js';
import { MiB, type TestFn } from './cases.js';
import type { Tally } from './reliability-report.js';

export { MiB, notOnWindows, rejectsWith, type TestFn } from './cases.js';

export interface ReliabilityOptions {
  /** Test-framework functions; default: the `describe` and `it` globals. */
  describe?: (name: string, fn: () => void) => void;
  it?: (name: string, fn: TestFn, timeout?: number) => void;
  /** Registers a function to run after every test of the file (node:test's `after`); default: the `afterAll` global. */
  afterAll?: (fn: () => void) => void;
  /** Cases to skip, by title, with the reason (printed in the test name). */
  skip?: Record<string, string>;
  /** Spawns in the sequential load case. Default 10,000. */
  sequential?: number;
  /** Spawns in flight at once in the concurrent load case. Default 500. */
  inFlight?: number;
  /** Bytes on each of stdout and stderr in the volume case. Default 100 MiB. */
  volumeBytes?: number;
  /** Aborted and timed-out spawns in flight at once in the abort case. Default 300. */
  aborts?: number;
  /** Rounds of the fd hygiene case. Default 12. */
  hygieneRounds?: number;
  /** Random action sequences per property. Default 60. */
  propertyRuns?: number;
  /** Other backends each random action sequence also runs on, where they support its ops; all must agree. */
  peers?: Backend[];
}

/** The counts of a full run (CI on Linux); a scaled run says how it differs in the report. */
export const DEFAULT_COUNTS = {
  sequential: 10_000,
  inFlight: 500,
  volumeBytes: 100 * 1024 * 1024,
  aborts: 300,
  hygieneRounds: 12,
  propertyRuns: 60,
};

export type Counts = typeof DEFAULT_COUNTS;

/** The counts of a quick pass while developing (FORKEXEC_RELIABILITY_SCALE=small). */
export const SMALL_COUNTS: Partial<Counts> = {
  sequential: 300,
  inFlight: 100,
  volumeBytes: 8 * 1024 * 1024,
  propertyRuns: 20,
};

export interface ReliabilityContext {
  /** The options, with every count filled in. */
  options: ReliabilityOptions & Counts;
  backend: () => Backend;
  name: string;
  tally: Tally;
  supports: (op: ActionOp) => boolean;
  /** Registers a case that runs when the backend has `ops` and `condition` gives no reason to skip. */
  test: (title: string, fn: TestFn, ops?: ActionOp[], condition?: () => string | undefined, timeout?: number) => void;
  /** Spawns the probe on the backend under test (counted). */
  run: (args: string[], opts?: Options) => Subprocess<string>;
  runBuffer: (args: string[], opts?: Options) => Subprocess<Buffer>;
  /** A private scratch directory (real path), removed after the suite. */
  tmp: () => string;
  probe: () => string;
}

/** Skips a case unless this is Linux (the suite reads /proc). */
export const linuxOnly = () => (process.platform === 'linux' ? undefined : 'reads /proc (Linux only)');

/** Opens and closes files on the libuv threadpool until stopped: fds (handles on Windows) appear and vanish at any moment. */
export function churnFiles(file: string, workers = 4): { stop: () => Promise<number> } {
  let running = true;
  let opened = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      const handle = await open(file, 'r');
      opened++;
      await handle.close();
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return opened;
    },
  };
}

/** A child killed while it writes: output so far arrives, the kill is reported, and the next spawn works. */
export async function killedMidOutput({ run, tally }: ReliabilityContext): Promise<void> {
  const killed = run(['spew', '1', String(64 * MiB)], { reject: false });
  killed.stdout!.once('data', () => killed.kill('SIGKILL'));
  tally.faults++;
  const r = await killed;
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(r.stdout.length > 0 && r.stdout.length < 64 * MiB);
  assert.equal((await run(['echo', 'next'])).stdout, 'next');
}

/** Settles to the result or the error, never throws. */
export function outcome<T>(
  promise: PromiseLike<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: Record<string, unknown> }> {
  return Promise.resolve(promise).then(
    (value) => ({ ok: true as const, value }),
    (error: Record<string, unknown>) => ({ ok: false as const, error }),
  );
}

type FastCheck = typeof import('fast-check');

/**
 * fast-check, loaded lazily so that the suite runs where it is not installed (the properties are then skipped).
 * @internal Left out of the declarations (stripInternal), which then type-check without fast-check installed.
 */
export async function loadFastCheck(): Promise<FastCheck | undefined> {
  const specifier = 'fast-check'; // not a literal import: bundlers leave it to the consumer
  try {
    return (await import(specifier)) as FastCheck;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `probe` every 20 ms until `done` accepts its value or `ms` have passed; returns the last value read. */
export async function pollUntil<T>(probe: () => T, done: (value: T) => boolean, ms: number): Promise<T> {
  for (let waited = 0; ; waited += 20) {
    const value = probe();
    if (done(value) || waited >= ms) return value;
    await sleep(20);
  }
}

/** Fails unless `error` is one of ours with one of the expected codes (and errno, when given). */
export function assertTyped(error: Record<string, unknown>, codes: string[], errnos?: string[]): void {
  assert.ok(isForkExecError(error), `expected a ForkExecError, got ${String(error?.name)}: ${String(error?.message)}`);
  assert.ok(
    codes.includes(String(error.code)),
    `expected ${codes.join('/')}, got ${String(error.code)}: ${String(error.message)}`,
  );
  if (errnos)
    assert.ok(
      errnos.includes(String(error.errno)),
      `expected errno ${errnos.join('/')}, got ${String(error.errno)}: ${String(error.message)}`,
    );
}
