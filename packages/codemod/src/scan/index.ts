import { FRONTENDS } from '../frontends/index.js';
import { C_EXTENSIONS } from './analyze-file.js';
import { findSourceFiles, withProjectFacts } from './files.js';
import { analyzeAll } from './pool.js';
import { buildReport, type ScanReport } from './report.js';
import { resolveHelpers } from './resolve.js';

export { buildReport, formatReport, type ProjectRow, type ScanReport } from './report.js';
export type { FileResult } from './analyze-file.js';

export interface ScanOptions {
  /** Worker threads (default: one per core; 0: this thread). */
  jobs?: number;
  onProgress?: (done: number, total: number, sites: number) => void;
}

/** The fork census over files and directories: every fork site of the C and JS/TS sources, classified. */
export async function runScan(paths: string[], options: ScanOptions = {}): Promise<ScanReport> {
  const started = performance.now();
  const extensions = [...new Set([...C_EXTENSIONS, ...FRONTENDS.flatMap((f) => f.extensions)])];
  const tasks = withProjectFacts(findSourceFiles(paths.length ? paths : ['.'], extensions));
  const results = await analyzeAll(tasks, options);
  await resolveHelpers(results);
  return buildReport(results, performance.now() - started);
}
