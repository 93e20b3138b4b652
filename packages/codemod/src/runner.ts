/**
 * The codemod runner behind `forkexec codemod`: finds the files, rewrites each through the
 * frontend for its language (in parallel, atomic writes), and reports per file: converted,
 * unchanged, skipped sites with reasons, errors. A file that does not parse is an error at
 * file:line; the other files are still processed.
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { FRONTENDS, frontendFor } from './frontends/index.js';
import { addCompanions } from './runner/companions.js';
import { findFiles } from './runner/find-files.js';
import { projectFactsByFile } from './runner/project-facts.js';
import { processFile, type FileReport, type FileStatus } from './runner/process-file.js';
import { WorkerPool, workerScript } from './runner/worker-pool.js';

export type { FileReport, FileStatus };

export interface RunOptions {
  /** Files, folders or globs; default the current folder. */
  paths?: string[];
  cwd?: string;
  /** Write nothing; print a unified diff instead. */
  dry?: boolean;
  /** Print the machine-readable report instead of the summary. */
  json?: boolean;
  /** Exit 1 when a fork site is left unconverted. */
  failOnUnconverted?: boolean;
  /** More modules whose fork/exec* count in JS/TS files, besides @forkexec/core/posix. */
  modules?: string[];
  /** Files processed at once; default the number of CPUs. */
  concurrency?: number;
  /** From this many files on, worker threads parse them (each costs a module load); default 64. */
  workerThreshold?: number;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export interface RunReport {
  files: FileReport[];
  totals: {
    files: number;
    converted: number;
    unchanged: number;
    skipped: number;
    errors: number;
    sitesConverted: number;
    sitesUnconverted: number;
  };
  /** Inputs that matched no file. */
  missing: string[];
  /** Worker threads used (0: all on the main thread). */
  workers: number;
  exitCode: 0 | 1 | 2;
}

/** Runs `work` over `items` with at most `limit` at once; results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

function where(file: string, line?: number, column?: number): string {
  return line ? `${file}:${line}${column ? `:${column}` : ''}` : file;
}

/** The errors, one line each (for stderr): paths that name nothing, files that could not be parsed. */
export function formatErrors(report: RunReport): string {
  const lines = report.missing.map((input) => `error      ${input}: no such file, folder, or matching file`);
  for (const f of report.files)
    if (f.status === 'error')
      lines.push(`error      ${where(f.file, f.error?.line, f.error?.column)}: ${f.error?.message}`);
  return lines.map((line) => `${line}\n`).join('');
}

/** The human summary: one line per file with something to say, then the totals. */
export function formatSummary(report: RunReport, dry: boolean): string {
  const lines: string[] = [];
  for (const f of report.files) {
    if (f.status === 'converted') {
      const n = f.sites.filter((s) => s.converted).length;
      const what = n ? `${n} site${n === 1 ? '' : 's'}` : 'recording twins for other files';
      lines.push(`${dry ? 'would convert ' : 'converted  '}${f.file} (${what})`);
    }
    for (const s of f.sites)
      if (!s.converted)
        lines.push(`skipped    ${where(f.file, s.line, s.column)} ${s.class}: ${s.reason ?? 'not converted'}`);
      else if (s.note) lines.push(`note       ${where(f.file, s.line, s.column)}: ${s.note}`);
  }
  const t = report.totals;
  lines.push(
    `${t.files} file${t.files === 1 ? '' : 's'}: ${t.converted} ${dry ? 'would be converted' : 'converted'}, ` +
      `${t.unchanged} unchanged, ${t.skipped} skipped, ${t.errors} error${t.errors === 1 ? '' : 's'}; ` +
      `${t.sitesConverted} fork site${t.sitesConverted === 1 ? '' : 's'} converted, ${t.sitesUnconverted} left`,
  );
  return `${lines.join('\n')}\n`;
}

export async function runCodemod(options: RunOptions = {}): Promise<RunReport> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const out = options.stdout ?? ((text: string) => process.stdout.write(text));
  const err = options.stderr ?? ((text: string) => process.stderr.write(text));
  const extensions = [...new Set(FRONTENDS.flatMap((f) => f.extensions))];
  const found = await findFiles(options.paths?.length ? options.paths : ['.'], cwd, extensions);
  const missing = found.missing;
  // Found by a folder or glob: only files some frontend handles (not .d.ts); named files are always reported.
  const files = found.files.filter((f) => found.explicit.has(f) || frontendFor(f));
  const dry = options.dry ?? false;
  const concurrency = options.concurrency ?? availableParallelism();
  const facts = projectFactsByFile(options.paths?.length ? options.paths : ['.'], cwd);
  const task = (file: string) => ({ file, cwd, dry, modules: options.modules, facts: facts.get(file) });
  // Parsing is CPU work: worker threads when there is enough of it (and the built worker exists).
  const script = workerScript();
  const pool =
    script && concurrency > 1 && files.length >= (options.workerThreshold ?? 64)
      ? new WorkerPool(script, Math.min(concurrency, files.length))
      : null;
  let reports: FileReport[];
  try {
    reports = await mapLimit(files, pool ? pool.size : concurrency, (file) =>
      pool ? pool.run(task(file)) : processFile(task(file)),
    );
  } finally {
    await pool?.close();
  }
  await addCompanions(reports, cwd, dry);

  const count = (status: FileStatus) => reports.filter((r) => r.status === status).length;
  const sites = reports.flatMap((r) => r.sites);
  const totals = {
    files: reports.length,
    converted: count('converted'),
    unchanged: count('unchanged'),
    skipped: count('skipped'),
    errors: count('error'),
    sitesConverted: sites.filter((s) => s.converted).length,
    sitesUnconverted: sites.filter((s) => !s.converted).length,
  };
  const exitCode =
    totals.errors > 0 || missing.length > 0 ? 2 : options.failOnUnconverted && totals.sitesUnconverted > 0 ? 1 : 0;
  const report: RunReport = { files: reports, totals, missing, workers: pool?.size ?? 0, exitCode };

  if (options.json) {
    out(`${JSON.stringify(report, null, 2)}\n`);
    return report;
  }
  const errors = formatErrors(report);
  if (errors) err(errors);
  if (dry) {
    for (const r of reports) if (r.diff) out(r.diff);
    err(formatSummary(report, true));
  } else out(formatSummary(report, false));
  return report;
}
