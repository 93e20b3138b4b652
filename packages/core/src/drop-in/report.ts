import { appendFileSync, readFileSync } from 'node:fs';

/** The drop-in functions whose calls are counted. */
export type DropInFunction = 'spawn' | 'execFile' | 'exec' | 'fork' | 'spawnSync' | 'execFileSync' | 'execSync';

/** Which way the calls went: forkexec's backend, or Node's own child_process (and why). */
export interface DropInReport {
  /** The backend the fast path used (undefined until the first call chose one). */
  backend: string | undefined;
  /** Calls carried out by the backend, by function. */
  fast: Partial<Record<DropInFunction, number>>;
  /** Calls handed to Node's own child_process, by function and reason. */
  node: Partial<Record<DropInFunction, Record<string, number>>>;
  /** Uses of a fast-path child that forkexec refused with a typed error (Node's own would have done them), by reason. */
  refused?: Partial<Record<DropInFunction, Record<string, number>>>;
}

// One tally per process, whichever copy of core (ESM or CommonJS) counts.
const TALLY = Symbol.for('forkexec.dropInReport');
const tally: DropInReport = ((globalThis as Record<symbol, DropInReport>)[TALLY] ??= {
  backend: undefined,
  fast: {},
  node: {},
});

export function countFast(fn: DropInFunction, backend: string): void {
  tally.backend = backend;
  tally.fast[fn] = (tally.fast[fn] ?? 0) + 1;
}

export function countNode(fn: DropInFunction, reason: string): void {
  const reasons = (tally.node[fn] ??= {});
  reasons[reason] = (reasons[reason] ?? 0) + 1;
}

export function countRefused(fn: DropInFunction, reason: string): void {
  const reasons = ((tally.refused ??= {})[fn] ??= {});
  reasons[reason] = (reasons[reason] ?? 0) + 1;
}

/** A copy of the counts so far. */
export function dropInReport(): DropInReport {
  return structuredClone(tally);
}

/**
 * FORKEXEC_REGISTER_REPORT=FILE: each process appends one JSON line with its counts when it exits
 * (children started with the hook inherit the variable and add their own lines).
 */
export function writeReportOnExit(): void {
  const file = process.env.FORKEXEC_REGISTER_REPORT;
  const WRITER = Symbol.for('forkexec.dropInReportWriter');
  const registry = globalThis as Record<symbol, boolean>;
  if (!file || registry[WRITER]) return;
  registry[WRITER] = true;
  process.once('exit', () => {
    if (Object.keys(tally.fast).length === 0 && Object.keys(tally.node).length === 0) return;
    const line = JSON.stringify({ pid: process.pid, argv: process.argv.slice(1), ...tally });
    try {
      appendFileSync(file, `${line}\n`);
    } catch (error) {
      process.stderr.write(`forkexec: could not write FORKEXEC_REGISTER_REPORT=${file}: ${(error as Error).message}\n`);
    }
  });
}

/** The lines of a FORKEXEC_REGISTER_REPORT file added up: how many processes, and their calls by route. */
export interface DropInSummary extends Omit<DropInReport, 'backend'> {
  processes: number;
  backends: string[];
}

export function summarizeReportFile(file: string): DropInSummary {
  const summary: DropInSummary = { processes: 0, backends: [], fast: {}, node: {} };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const report = JSON.parse(line) as DropInReport;
    summary.processes++;
    if (report.backend && !summary.backends.includes(report.backend)) summary.backends.push(report.backend);
    for (const [fn, count] of Object.entries(report.fast) as [DropInFunction, number][])
      summary.fast[fn] = (summary.fast[fn] ?? 0) + count;
    addReasons(summary.node, report.node);
    if (report.refused) addReasons((summary.refused ??= {}), report.refused);
  }
  return summary;
}

function addReasons(into: NonNullable<DropInReport['refused']>, from: NonNullable<DropInReport['refused']>): void {
  for (const [fn, reasons] of Object.entries(from) as [DropInFunction, Record<string, number>][]) {
    const counts = (into[fn] ??= {});
    for (const [reason, count] of Object.entries(reasons)) counts[reason] = (counts[reason] ?? 0) + count;
  }
}
