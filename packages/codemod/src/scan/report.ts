import type { ForkSite, SiteClass } from '../model.js';
import type { FileResult } from './analyze-file.js';

const CLASSES: SiteClass[] = ['fork+exec', 'exec-via-helper', 'wrapper', 'fork-only', 'unresolved'];

export interface ProjectRow {
  project: string;
  files: number;
  sites: number;
  convertible: number;
  classes: Record<SiteClass, number>;
}

export interface ScanReport {
  files: number;
  /** Files parsed (those that mention fork or exec). */
  parsed: number;
  errors: { file: string; error: string }[];
  elapsedMs: number;
  projects: ProjectRow[];
  classes: { class: SiteClass; sites: number; share: number }[];
  convertible: number;
  /** Child-side operations of the sites that exec (in the child or through a helper), each counted once per site. */
  operations: { operation: string; sites: number; share: number }[];
  /** Why fork+exec sites do not convert, most frequent first. */
  blockers: { blocker: string; sites: number }[];
  sites: ForkSite[];
}

const zero = (): Record<SiteClass, number> => ({
  'fork+exec': 0,
  'exec-via-helper': 0,
  wrapper: 0,
  'fork-only': 0,
  unresolved: 0,
});

function ranked(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

export function buildReport(results: FileResult[], elapsedMs: number): ScanReport {
  const projects = new Map<string, ProjectRow>();
  const sites: ForkSite[] = [];
  for (const r of results) {
    const row = projects.get(r.project) ?? { project: r.project, files: 0, sites: 0, convertible: 0, classes: zero() };
    projects.set(r.project, row);
    row.files++;
    for (const s of r.sites) {
      row.sites++;
      row.classes[s.class]++;
      if (s.convertible) row.convertible++;
      sites.push(s);
    }
  }
  const total = sites.length || 1;
  const classCounts = zero();
  for (const s of sites) classCounts[s.class]++;
  const execing = sites.filter((s) => s.class === 'fork+exec' || s.class === 'exec-via-helper');
  const ops = new Map<string, number>();
  for (const s of execing) for (const op of new Set(s.operations)) ops.set(op, (ops.get(op) ?? 0) + 1);
  const blockers = new Map<string, number>();
  for (const s of sites)
    if (s.class === 'fork+exec' && !s.convertible)
      for (const b of new Set(s.blockers ?? [s.reason ?? 'unknown'])) blockers.set(b, (blockers.get(b) ?? 0) + 1);
  return {
    files: results.length,
    parsed: results.filter((r) => r.language === 'js' || r.functions.length || r.sites.length).length,
    errors: results.filter((r) => r.error).map((r) => ({ file: r.file, error: r.error! })),
    elapsedMs,
    projects: [...projects.values()].sort((a, b) => b.sites - a.sites || (a.project < b.project ? -1 : 1)),
    classes: CLASSES.map((c) => ({ class: c, sites: classCounts[c], share: classCounts[c] / total })),
    convertible: sites.filter((s) => s.convertible).length,
    operations: ranked(ops).map(([operation, n]) => ({ operation, sites: n, share: n / (execing.length || 1) })),
    blockers: ranked(blockers).map(([blocker, n]) => ({ blocker, sites: n })),
    sites,
  };
}

function table(header: string[], rows: (string | number)[][], rightFrom = 1): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i >= rightFrom ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** The census as text: per project, per class, child operations ranked, blockers ranked. */
export function formatReport(report: ScanReport, options: { top?: number } = {}): string {
  const top = options.top ?? 20;
  const parts: string[] = [];
  const total = report.sites.length;
  parts.push(
    `forkexec scan: ${report.files} files (${report.parsed} parsed), ${total} fork sites, ` +
      `${report.convertible} convertible, in ${(report.elapsedMs / 1000).toFixed(1)} s`,
  );
  if (!total) return `${parts[0]}\n`;
  parts.push(
    table(
      ['project', 'files', 'sites', 'fork+exec', 'convertible', 'via helper', 'wrapper', 'fork-only', 'unresolved'],
      report.projects
        .filter((p) => p.sites)
        .map((p) => [
          p.project,
          p.files,
          p.sites,
          p.classes['fork+exec'],
          p.convertible,
          p.classes['exec-via-helper'],
          p.classes.wrapper,
          p.classes['fork-only'],
          p.classes.unresolved,
        ]),
    ),
  );
  parts.push(
    table(
      ['class', 'sites', 'share'],
      report.classes.map((c) => [c.class, c.sites, pct(c.share)]),
    ),
  );
  if (report.operations.length)
    parts.push(
      table(
        ['child operation (sites that exec)', 'sites', 'share'],
        report.operations.slice(0, top).map((o) => [o.operation, o.sites, pct(o.share)]),
      ),
    );
  if (report.blockers.length)
    parts.push(
      table(
        ['why fork+exec sites do not convert', 'sites'],
        report.blockers.slice(0, top).map((b) => [b.blocker, b.sites]),
      ),
    );
  if (report.errors.length)
    parts.push(
      `${report.errors.length} files could not be read or parsed, first: ${report.errors[0].file}: ${report.errors[0].error}`,
    );
  return `${parts.join('\n\n')}\n`;
}
