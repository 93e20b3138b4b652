import { chmodSync, copyFileSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ActionOp } from '../actions.js';
import type { Backend } from '../backend.js';
import { forkBeforeExec } from '../fork-before-exec.js';
import type { Subprocess } from '../subprocess.js';
import { registerCase, suiteSite } from './cases.js';
import { probePath } from './probe.js';
import {
  DEFAULT_COUNTS,
  SMALL_COUNTS,
  type Counts,
  type ReliabilityContext,
  type ReliabilityOptions,
  type TestFn,
} from './reliability-context.js';
import { faultCases } from './reliability-faults.js';
import { hostileCases } from './reliability-hostile.js';
import { hygieneCases } from './reliability-hygiene.js';
import { loadCases } from './reliability-load.js';
import { modelCases } from './reliability-model.js';
import { printReportAtEnd, tallyFor } from './reliability-report.js';
import { windowsCases } from './reliability-windows.js';

export type { ReliabilityOptions };
export { formatReport } from './reliability-report.js';

/**
 * Counts the environment asks for: FORKEXEC_RELIABILITY_SCALE=small runs a quick pass (for development; CI runs the
 * full counts), FORKEXEC_RELIABILITY_RUNS=N sets the random sequences per property for a longer hunt.
 */
function countsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Counts> {
  return {
    ...(env.FORKEXEC_RELIABILITY_SCALE === 'small' ? SMALL_COUNTS : {}),
    ...(env.FORKEXEC_RELIABILITY_RUNS ? { propertyRuns: Number(env.FORKEXEC_RELIABILITY_RUNS) } : {}),
  };
}

/** The options (then the environment) with every count filled in, and what differs from a full run (for the report). */
function resolveCounts(options: ReliabilityOptions): { counts: Counts; scale?: string } {
  const counts = { ...DEFAULT_COUNTS };
  const changed: string[] = [];
  const fromEnv = countsFromEnv();
  for (const key of Object.keys(DEFAULT_COUNTS) as (keyof Counts)[]) {
    const value = options[key] ?? fromEnv[key];
    if (value === undefined || value === DEFAULT_COUNTS[key]) continue;
    counts[key] = value;
    changed.push(`${key} ${value} (full run: ${DEFAULT_COUNTS[key]})`);
  }
  return { counts, scale: changed.length ? changed.join(', ') : undefined };
}

/**
 * Faults, load and hostile input on real processes, for one backend: nothing may be lost or
 * leaked, and every failure is a typed error. Call it at the top level of a test file; the
 * counts of every suite in the file print as one report at the end (and are appended to the
 * file named by FORKEXEC_RELIABILITY_REPORT). Counts not given in `options` come from
 * FORKEXEC_RELIABILITY_SCALE=small (a quick pass) and FORKEXEC_RELIABILITY_RUNS, else a full run.
 */
export function runReliabilitySuite(
  backendOrFactory: Backend | (() => Backend),
  options: ReliabilityOptions = {},
): void {
  const { describe, it, backend } = suiteSite(backendOrFactory, options);
  const name = backend().name;
  const tally = tallyFor(name);
  const { counts, scale } = resolveCounts(options);
  if (scale) tally.scale = scale;
  const supports = (op: ActionOp) => backend().capabilities.actions.includes(op);
  const site = { it, backend, skip: options.skip };

  const test = (
    title: string,
    fn: TestFn,
    ops: ActionOp[] = [],
    condition?: () => string | undefined,
    timeout?: number,
  ) => {
    tally.cases++;
    const counted = async () => {
      try {
        await fn();
        tally.passed++;
      } catch (error) {
        tally.failed++;
        throw error;
      }
    };
    if (!registerCase(site, title, ops, condition, () => it(title, counted, timeout))) tally.skipped++;
  };

  let scratch = '';
  const tmp = () => (scratch ||= realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-reliability-'))));
  // A private copy: probePath() rebuilds the shared binary whenever probe.c changes, even mid-run.
  let probeCopy = '';
  const probe = () => {
    if (!probeCopy) {
      probeCopy = path.join(tmp(), path.basename(probePath())); // fxprobe.exe on Windows
      copyFileSync(probePath(), probeCopy);
      chmodSync(probeCopy, 0o755);
    }
    return probeCopy;
  };
  const spawnProbe = (args: string[], opts = {}) => {
    tally.spawns++;
    return forkBeforeExec(probe(), args, { backend: backend(), ...opts });
  };
  const ctx: ReliabilityContext = {
    options: { ...options, ...counts },
    backend,
    name,
    tally,
    supports,
    test,
    tmp,
    probe,
    run: (args, opts) => spawnProbe(args, opts) as Subprocess<string>,
    runBuffer: (args, opts) => spawnProbe(args, { ...opts, encoding: 'buffer' }) as unknown as Subprocess<Buffer>,
  };

  const afterAll = options.afterAll ?? (globalThis as { afterAll?: (fn: () => void) => void }).afterAll;
  printReportAtEnd(afterAll);
  describe(`forkexec reliability: ${name}`, () => {
    describe('load and volume', () => loadCases(ctx));
    describe('faults', () => faultCases(ctx));
    describe('hostile input', () => hostileCases(ctx));
    describe('fd hygiene', () => hygieneCases(ctx));
    describe('action sequences against a reference model', () => modelCases(ctx));
    if (process.platform === 'win32')
      describe('Windows: termination, hostile input, handle hygiene and action sequences', () => windowsCases(ctx));
  });

  afterAll?.(() => scratch && rmSync(scratch, { recursive: true, force: true }));
}
