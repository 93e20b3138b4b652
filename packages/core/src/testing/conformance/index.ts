/** What a backend must do, tested on real processes: the same cases for every backend, one file per concern. */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ActionOp } from '../../actions.js';
import type { Backend } from '../../backend.js';
import type { Options } from '../../options.js';
import { registerCase, suiteSite, type TestFn } from '../cases.js';
import { actionCases } from './actions.js';
import { conformanceContext, type ConformanceContext, type ConformanceOptions } from './context.js';
import { envCases } from './env.js';
import { errorCases } from './errors.js';
import { exitCases } from './exit.js';
import { hygieneCases } from './hygiene.js';
import { programLookupCases } from './program-lookup.js';
import { stdioCases } from './stdio.js';

export type { ConformanceOptions };

/** What a backend must do, tested on real processes: the same cases for every backend. */
export function runConformanceSuite(
  backendOrFactory: Backend | (() => Backend),
  options: ConformanceOptions = {},
): void {
  const { describe, it, backend } = suiteSite(backendOrFactory, options);
  const name = backend().name;
  const site = { it, backend, skip: options.skip };
  let scratch = '';
  const shared = {
    backend,
    name,
    supports: (op: ActionOp) => backend().capabilities.actions.includes(op),
    test: (title: string, fn: TestFn, ops: ActionOp[] = [], condition?: () => string | undefined) =>
      void registerCase(site, title, ops, condition, () => it(title, fn)),
    tmp: () => (scratch ||= realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-conformance-')))),
  };

  /** Every case runs on each path the backend has: off the event loop (the default) and, if it differs, on it. */
  const paths: [label: string, start: Options][] = backend().capabilities.deferredPid
    ? [
        [' (started off the event loop)', {}],
        [' (started on the event loop)', { startOffLoop: false }],
      ]
    : [['', {}]];
  for (const [label, start] of paths)
    describe(`forkexec conformance: ${name}${label}`, () => allCases(conformanceContext(shared, label, start)));

  if (typeof (globalThis as { afterAll?: unknown }).afterAll === 'function')
    (globalThis as unknown as { afterAll: (fn: () => void) => void }).afterAll(
      () => scratch && rmSync(scratch, { recursive: true, force: true }),
    );
}

function allCases(ctx: ConformanceContext): void {
  exitCases(ctx);
  stdioCases(ctx);
  envCases(ctx);
  actionCases(ctx);
  errorCases(ctx);
  programLookupCases(ctx);
  hygieneCases(ctx);
}
