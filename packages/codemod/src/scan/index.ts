import type { ProjectFacts } from '../frontends/c/facts.js';
import { FRONTENDS } from '../frontends/index.js';
import { C_EXTENSIONS, type FileResult } from './analyze-file.js';
import { findSourceFiles, withProjectFacts } from './files.js';
import { analyzeAll } from './pool.js';
import { buildReport, type ScanReport } from './report.js';
import { addWrapperCalls, resolveHelpers } from './resolve.js';
import { filesOfShard, readShards, SHARD_FORMAT, type Shard, type ShardOutput } from './shard.js';

export { buildReport, formatReport, type ProjectRow, type ScanReport } from './report.js';
export { parseShard, type Shard, type ShardOutput } from './shard.js';
export type { FileResult } from './analyze-file.js';

export interface ScanOptions {
  /** Worker threads (default: one per core; 0: this thread). */
  jobs?: number;
  onProgress?: (done: number, total: number, sites: number) => void;
}

/** Every file's own analysis; with a shard, only that shard's files, each still knowing its whole project's facts. */
async function analyzePaths(paths: string[], options: ScanOptions, shard?: Shard) {
  const extensions = [...new Set([...C_EXTENSIONS, ...FRONTENDS.flatMap((f) => f.extensions)])];
  const tasks = withProjectFacts(findSourceFiles(paths.length ? paths : ['.'], extensions));
  const mine = shard ? filesOfShard(tasks, shard) : tasks;
  const results = await analyzeAll(mine, options);
  const facts: Record<string, ProjectFacts> = {};
  for (const t of mine) if (t.facts) facts[t.project] ??= t.facts;
  return { results, totalFiles: tasks.length, facts };
}

/** Wrappers' calls in other files and helpers in other files followed over all results, then the tables. */
async function report(
  results: FileResult[],
  facts: Record<string, ProjectFacts>,
  elapsedMs: number,
): Promise<ScanReport> {
  await resolveHelpers(results, facts);
  await addWrapperCalls(results, facts);
  return buildReport(results, elapsedMs);
}

/** The fork census over files and directories: every fork site of the C and JS/TS sources, classified. */
export async function runScan(paths: string[], options: ScanOptions = {}): Promise<ScanReport> {
  const started = performance.now();
  const { results, facts } = await analyzePaths(paths, options);
  return report(results, facts, performance.now() - started);
}

/** One shard of the census (`forkexec scan --shard I/N`), as JSON-ready data for `mergeScanShards`. */
export async function runScanShard(paths: string[], shard: Shard, options: ScanOptions = {}): Promise<ShardOutput> {
  const started = performance.now();
  const { results, totalFiles, facts } = await analyzePaths(paths, options, shard);
  return { format: SHARD_FORMAT, shard, totalFiles, elapsedMs: performance.now() - started, facts, results };
}

/** The census of all shards' JSON files: the report an unsharded run gives (its time is the shards' sum). Files that
 * call a fork wrapper of another file are analysed again, and a helper chain through a file naming neither fork nor
 * exec is followed by reading that file: merge where the scanned tree is, at the same path. */
export async function mergeScanShards(files: string[]): Promise<ScanReport> {
  const shards = readShards(files);
  const results = shards.flatMap((s) => s.results).sort((a, b) => (a.file < b.file ? -1 : 1));
  const facts = Object.assign({}, ...shards.map((s) => s.facts)) as Record<string, ProjectFacts>;
  return report(
    results,
    facts,
    shards.reduce((t, s) => t + s.elapsedMs, 0),
  );
}
