/** What every section of the reliability suite shares: the backend, test registration, spawning and counting. */
import assert from 'node:assert/strict';
import type { ActionOp } from '../actions.js';
import type { Backend } from '../backend.js';
import type { Options } from '../options.js';
import type { Subprocess } from '../subprocess.js';
import type { Tally } from './reliability-report.js';

export type TestFn = () => Promise<void> | void;

export interface ReliabilityOptions {
  /** Test-framework functions; default: the `describe` and `it` globals. */
  describe?: (name: string, fn: () => void) => void;
  it?: (name: string, fn: TestFn, timeout?: number) => void;
  /** Cases to skip, by title, with the reason (printed in the test name). */
  skip?: Record<string, string>;
  /** Spawns in the sequential load case. Default 10,000. */
  sequential?: number;
  /** Spawns in flight at once in the concurrent load case. Default 500. */
  inFlight?: number;
  /** Bytes on each of stdout and stderr in the volume case. Default 100 MiB. */
  volumeBytes?: number;
  /** Random action sequences per property. Default 60. */
  propertyRuns?: number;
  /** Other backends each random action sequence also runs on, where they support its ops; all must agree. */
  peers?: Backend[];
}

export interface ReliabilityContext {
  options: ReliabilityOptions;
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

export const MiB = 1024 * 1024;

/** Skips a case unless this is Linux (the suite reads /proc). */
export const linuxOnly = () => (process.platform === 'linux' ? undefined : 'reads /proc (Linux only)');

export async function rejectsWith(promise: PromiseLike<unknown>, code: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  let caught: Record<string, unknown> | undefined;
  await assert.rejects(Promise.resolve(promise), (error: Record<string, unknown>) => {
    assert.equal(error.code, code, `expected ${code}, got ${String(error.code)}: ${String(error.message)}`);
    for (const [key, value] of Object.entries(extra)) assert.equal(error[key], value, `error.${key}: ${String(error.message)}`);
    caught = error;
    return true;
  });
  return caught!;
}

/** Settles to the result or the error, never throws. */
export function outcome<T>(promise: PromiseLike<T>): Promise<{ ok: true; value: T } | { ok: false; error: Record<string, unknown> }> {
  return Promise.resolve(promise).then(
    (value) => ({ ok: true as const, value }),
    (error: Record<string, unknown>) => ({ ok: false as const, error }),
  );
}


type FastCheck = typeof import('fast-check');

/** fast-check, loaded lazily so that the suite runs where it is not installed (the properties are then skipped). */
export async function loadFastCheck(): Promise<FastCheck | undefined> {
  const specifier = 'fast-check'; // not a literal import: bundlers leave it to the consumer
  try {
    return (await import(specifier)) as FastCheck;
  } catch {
    return undefined;
  }
}
