import { CHILD_PROCESS, FLOOR } from './methods.js';
import type { BenchReport, ResultRow } from './report.js';
import { formatBytes } from './sizes.js';
import type { Summary } from './stats.js';

interface SizeTable {
  /** `1 GiB (parent at 1.02 GiB)` */
  title: string;
  header: string[];
  rows: string[][];
}

const HEADER = [
  'method',
  'forks',
  'median ms',
  'p99 ms',
  'b2b ms',
  'sync ms',
  'busy ms',
  'lag ms',
  'pid ms',
  'spawns/s',
  'vs child_process',
  'vs C floor',
];

/** Milliseconds with three significant digits where it matters: 0.274, 3.25, 67.3, 204. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value >= 1 ? value.toFixed(2) : value.toFixed(3);
}

export function ratio(value: number | null): string {
  if (value === null) return '—';
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(2)}x`;
}

const median = (s: Summary | null) => ms(s?.median);

function cells(row: ResultRow, forks: boolean | null | undefined): string[] {
  const fork = forks === null || forks === undefined ? '?' : forks ? 'yes' : 'no';
  if (row.error) return [row.method, fork, `failed: ${row.error}`, ...HEADER.slice(3).map(() => '')];
  return [
    row.method,
    fork,
    median(row.latencyMs),
    ms(row.latencyMs?.p99),
    median(row.backToBackMs),
    median(row.syncMs),
    median(row.busyMs),
    median(row.lagMs),
    median(row.pidMs),
    row.spawnsPerSecond === null ? '—' : row.spawnsPerSecond.toFixed(0),
    row.method === CHILD_PROCESS
      ? 'reference'
      : row.speedupVsChildProcess === null
        ? '—'
        : row.speedupVsChildProcess >= 1
          ? `${ratio(row.speedupVsChildProcess)} faster`
          : `${ratio(1 / row.speedupVsChildProcess)} slower`,
    row.method === FLOOR ? 'floor' : ratio(row.vsFloor),
  ];
}

/** The report as one table per parent RSS, cells already formatted. */
export function sizeTables(report: BenchReport): SizeTable[] {
  return report.settings.rssBytes.map((size) => {
    const rows = report.results.filter((r) => r.rssBytes === size);
    const reached = rows[0]?.parentRssBytes;
    return {
      title: `parent RSS ${formatBytes(size)}${reached && Math.abs(reached - size) > size * 0.05 ? ` (reached ${formatBytes(reached)})` : ''}`,
      header: HEADER,
      rows: rows.map((row) => cells(row, report.methods.find((m) => m.name === row.method)?.forks)),
    };
  });
}

/** Skipped and failed methods, one line each. */
export function notes(report: BenchReport): string[] {
  return report.methods.filter((m) => m.status !== 'measured').map((m) => `${m.status} ${m.name}: ${m.reason}`);
}

/** Plain-text tables for the terminal. */
export function renderText(report: BenchReport): string {
  const out: string[] = [];
  for (const table of sizeTables(report)) {
    const all = [table.header, ...table.rows];
    const widths = table.header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
        .join('  ')
        .trimEnd();
    out.push(table.title, line(table.header), ...table.rows.map(line), '');
  }
  out.push(...notes(report));
  return `${out.join('\n').trimEnd()}\n`;
}
