/**
 * Counts what the reliability suite did per backend, and prints them as one table at the end of the test file.
 * Under Jest, scripts/reliability-reporter.cjs (in the repo) joins the tables of every test file into one.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { wineVersion } from './win32-parent-handles.js';

export interface Tally {
  backend: string;
  /** Children the suite started (or tried to start). */
  spawns: number;
  /** Faults the suite caused on purpose: signals, aborts, timeouts, exhausted limits, overflows. */
  faults: number;
  /** Hostile or random inputs handed to forkBeforeExec. */
  inputs: number;
  cases: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Milliseconds per spawn in the sequential load case. */
  msPerSpawn?: number;
  /** The counts of a run scaled down from the defaults (a quick run, Windows under Wine), printed under the table. */
  scale?: string;
}

/** Where the report comes from, when it is Windows: e.g. "win32 under Wine 8.0". */
function origin(): string | undefined {
  if (process.platform !== 'win32') return undefined;
  const wine = wineVersion();
  return `win32${wine ? ` under Wine ${wine}` : ''}`;
}

const tallies = new Map<string, Tally>();

export function tallyFor(backend: string): Tally {
  let tally = tallies.get(backend);
  if (!tally)
    tallies.set(
      backend,
      (tally = { backend, spawns: 0, faults: 0, inputs: 0, cases: 0, passed: 0, failed: 0, skipped: 0 }),
    );
  return tally;
}

/** The report as a Markdown table, one row per backend plus a total. */
export function formatReport(rows: Tally[] = [...tallies.values()]): string {
  const header =
    '| backend | cases passed | failed | skipped | spawns | faults injected | inputs tried | ms/spawn (sequential) |';
  const line = (t: Tally) =>
    `| ${t.backend} | ${t.passed}/${t.cases} | ${t.failed} | ${t.skipped} | ${t.spawns} | ${t.faults} | ${t.inputs} | ${t.msPerSpawn?.toFixed(2) ?? '-'} |`;
  const sum = (key: 'spawns' | 'faults' | 'inputs' | 'cases' | 'passed' | 'failed' | 'skipped') =>
    rows.reduce((n, t) => n + t[key], 0);
  const total: Tally = {
    backend: '**all**',
    spawns: sum('spawns'),
    faults: sum('faults'),
    inputs: sum('inputs'),
    cases: sum('cases'),
    passed: sum('passed'),
    failed: sum('failed'),
    skipped: sum('skipped'),
  };
  const scaled = rows.filter((t) => t.scale).map((t) => `- ${t.backend}: scaled run: ${t.scale}`);
  return [
    `forkexec reliability report${origin() ? ` (${origin()})` : ''}`,
    '',
    header,
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(line),
    ...(rows.length > 1 ? [line(total)] : []),
    ...(scaled.length ? ['', ...scaled] : []),
  ].join('\n');
}

let scheduled = false;

/**
 * Prints the report once, after every suite of the test file has run; appends it to the file
 * named by FORKEXEC_RELIABILITY_REPORT too (for the README and CI artifacts). When a Jest
 * reporter joins the test files' reports (it names a directory in FORKEXEC_RELIABILITY_ROWS),
 * the rows go there instead, as JSON, and the reporter appends the joined table.
 */
export function printReportAtEnd(afterAll = (globalThis as { afterAll?: (fn: () => void) => void }).afterAll): void {
  if (scheduled || typeof afterAll !== 'function') return;
  scheduled = true;
  afterAll(() => {
    const report = formatReport();
    console.log(report);
    const rows = process.env.FORKEXEC_RELIABILITY_ROWS;
    if (rows) writeFileSync(path.join(rows, `${randomUUID()}.json`), JSON.stringify([...tallies.values()]));
    else if (process.env.FORKEXEC_RELIABILITY_REPORT)
      appendFileSync(process.env.FORKEXEC_RELIABILITY_REPORT, `${report}\n\n`);
  });
}
