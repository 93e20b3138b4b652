import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '@forkexec/core';
import type { ProjectFacts } from '../frontends/c/facts.js';
import type { FileResult, FileTask } from './analyze-file.js';

/** One of N parts of a census: `index` counts from 1, as Slurm's and GNU parallel's job numbers do. */
export interface Shard {
  index: number;
  count: number;
}

/** What `forkexec scan --shard I/N` prints: its files' results before helpers in other files are followed (that
 * needs every file of a project, so merge does it), and how many files the whole census has. */
export interface ShardOutput {
  format: typeof SHARD_FORMAT;
  shard: Shard;
  /** Files of the whole census (all shards): merge checks the shards came from the same tree. */
  totalFiles: number;
  elapsedMs: number;
  /** What each C project of the shard's files declares (the same in every shard): merge analyses again with it. */
  facts: Record<string, ProjectFacts>;
  results: FileResult[];
}

export const SHARD_FORMAT = 'forkexec-scan-shard/1';

/** `I/N` (1 ≤ I ≤ N), as the CLI takes it. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count)
    throw new InvalidArgumentError(
      `forkexec scan: --shard expects I/N with 1 <= I <= N (as a job array's index and size), got "${text}"`,
    );
  return { index, count };
}

/** The files of one shard: every count-th of the sorted list, so shards get alike shares of every project and each
 * file lands in exactly one shard whatever the machine. */
export function filesOfShard(tasks: FileTask[], shard: Shard): FileTask[] {
  return tasks.filter((_, i) => i % shard.count === shard.index - 1);
}

function readShard(file: string): ShardOutput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`forkexec scan merge: cannot read ${file}: ${(error as Error).message}`);
  }
  let data: Partial<ShardOutput>;
  try {
    data = JSON.parse(text) as Partial<ShardOutput>;
  } catch (error) {
    throw new InvalidArgumentError(`forkexec scan merge: ${file} is not JSON: ${(error as Error).message}`);
  }
  const valid =
    data !== null &&
    typeof data === 'object' &&
    data.format === SHARD_FORMAT &&
    Number.isInteger(data.shard?.index) &&
    Number.isInteger(data.shard?.count) &&
    Number.isInteger(data.totalFiles) &&
    typeof data.facts === 'object' &&
    data.facts !== null &&
    Array.isArray(data.results);
  if (!valid)
    throw new InvalidArgumentError(
      `forkexec scan merge: ${file} is not the output of forkexec scan --shard I/N (no "format": "${SHARD_FORMAT}")`,
    );
  return data as ShardOutput;
}

/** Reads the shards' JSON files and checks they are all N parts of one census, each once. */
export function readShards(files: string[]): ShardOutput[] {
  if (!files.length) throw new InvalidArgumentError('forkexec scan merge: no shard files given');
  const shards = files.map(readShard);
  const { count } = shards[0].shard;
  const byIndex = new Map<number, string>();
  shards.forEach((s, i) => {
    if (s.shard.count !== count || s.totalFiles !== shards[0].totalFiles)
      throw new InvalidArgumentError(
        `forkexec scan merge: ${files[i]} is shard ${s.shard.index}/${s.shard.count} of ${s.totalFiles} files, ` +
          `${files[0]} is shard ${shards[0].shard.index}/${count} of ${shards[0].totalFiles}: not the same census`,
      );
    const twin = byIndex.get(s.shard.index);
    if (twin)
      throw new InvalidArgumentError(
        `forkexec scan merge: ${twin} and ${files[i]} are both shard ${s.shard.index}/${count}`,
      );
    byIndex.set(s.shard.index, files[i]);
  });
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new InvalidArgumentError(
      `forkexec scan merge: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')}`,
    );
  const held = shards.reduce((n, s) => n + s.results.length, 0);
  if (held !== shards[0].totalFiles)
    throw new InvalidArgumentError(
      `forkexec scan merge: the shards hold ${held} files, the census has ${shards[0].totalFiles}: not the same tree`,
    );
  return shards;
}
