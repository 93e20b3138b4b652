/** What the conformance and reliability suites share: registering a case or skipping it visibly, and typed errors. */
import assert from 'node:assert/strict';
import type { ActionOp } from '../actions.js';
import type { Backend } from '../backend.js';

export type TestFn = () => Promise<void> | void;

export const MiB = 1024 * 1024;

/** Where a suite registers its cases: the test framework's `it`, the backend, and cases to skip by title with the reason. */
export interface CaseSite {
  it: (name: string, fn: TestFn) => void;
  backend: () => Backend;
  skip?: Record<string, string>;
}

/** The suite's `describe`, `it` and backend: the test framework's from `options`, else the globals. */
export function suiteSite<D, I>(
  backendOrFactory: Backend | (() => Backend),
  options: { describe?: D; it?: I },
): { describe: D; it: I; backend: () => Backend } {
  const g = globalThis as unknown as { describe: D; it: I };
  return {
    describe: options.describe ?? g.describe,
    it: options.it ?? g.it,
    backend: () => (typeof backendOrFactory === 'function' ? backendOrFactory() : backendOrFactory),
  };
}

/**
 * Registers one case through `register` when the backend declares `ops` and neither `skip` nor `condition` gives a
 * reason not to run it; otherwise lists it as skipped, the reason in its name. Returns whether the case runs.
 */
export function registerCase(
  { it, backend, skip }: CaseSite,
  title: string,
  ops: ActionOp[],
  condition: (() => string | undefined) | undefined,
  register: () => void,
): boolean {
  const missing = ops.filter((op) => !backend().capabilities.actions.includes(op));
  const why =
    skip?.[title] ?? (missing.length ? `${backend().name} does not support ${missing.join(', ')}` : condition?.());
  if (!why) {
    register();
    return true;
  }
  const skipIt = (it as { skip?: CaseSite['it'] }).skip ?? it;
  skipIt(`${title} [skipped: ${why}]`, () => {});
  return false;
}

/** Skips a POSIX-only case on Windows, saying why (a Windows case covers the same ground where it can). */
export const notOnWindows = (why: string) => () => (process.platform === 'win32' ? why : undefined);

/** Asserts that `promise` rejects with the error `code` and the given fields; gives the error back. */
export async function rejectsWith(
  promise: PromiseLike<unknown>,
  code: string,
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  let caught: Record<string, unknown> | undefined;
  await assert.rejects(Promise.resolve(promise), (error: Record<string, unknown>) => {
    assert.equal(error.code, code, `expected ${code}, got ${String(error.code)}: ${String(error.message)}`);
    for (const [key, value] of Object.entries(extra))
      assert.equal(error[key], value, `error.${key}: ${String(error.message)}`);
    caught = error;
    return true;
  });
  return caught!;
}
