import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { frontendFor } from '../frontends/index.js';
import { createJsFrontend } from '../frontends/js/index.js';
import { SourceSyntaxError } from '../frontends/js/parse.js';
import type { ProjectFacts } from '../frontends/c/facts.js';
import type { Companion, ForkSite, Frontend } from '../model.js';
import { unifiedDiff } from './diff.js';
import { writeFileAtomic } from './write-atomic.js';

export type FileStatus = 'converted' | 'unchanged' | 'skipped' | 'error';

export interface FileReport {
  /** Relative to cwd. */
  file: string;
  /** converted: rewritten (maybe with sites left); skipped: has sites, none converted; error: not processed. */
  status: FileStatus;
  sites: ForkSite[];
  error?: { message: string; line?: number; column?: number };
  /** The unified diff, with `dry`. */
  diff?: string;
  /** Code its conversion needs in other files (recording twins): the runner adds it once all files are done. */
  companions?: Companion[];
  /** The rewritten text, with `dry` and companions: a file that gets another's companions too is diffed whole. */
  code?: string;
}

/** One file's work: plain data, so that a worker thread can take it. */
export interface FileTask {
  /** Absolute path. */
  file: string;
  cwd: string;
  dry: boolean;
  /** More modules for the JS/TS frontend. */
  modules?: string[];
  /** What the file's C project declares beyond the file. */
  facts?: ProjectFacts;
}

const jsFrontends = new Map<string, Frontend>();

function frontendOf(file: string, modules: string[] | undefined): Frontend | undefined {
  const frontend = frontendFor(file);
  if (frontend?.language !== 'js' || !modules?.length) return frontend;
  const key = modules.join('\0');
  if (!jsFrontends.has(key)) jsFrontends.set(key, createJsFrontend({ modules }));
  return jsFrontends.get(key);
}

/** Reads, rewrites through the file's frontend, and writes atomically (or diffs, with `dry`). Never throws. */
export async function processFile({ file: absolute, cwd, dry, modules, facts }: FileTask): Promise<FileReport> {
  const file = path.relative(cwd, absolute) || absolute;
  const frontend = frontendOf(absolute, modules);
  if (!frontend)
    return { file, status: 'error', sites: [], error: { message: 'no codemod frontend handles this kind of file' } };
  try {
    const source = await readFile(absolute, 'utf8');
    const result = await frontend.transform(source, file, facts);
    const sites = result.sites;
    if (!result.changed) return { file, status: sites.length ? 'skipped' : 'unchanged', sites };
    const report: FileReport = { file, status: 'converted', sites };
    if (result.companions?.length) report.companions = result.companions;
    if (!dry) await writeFileAtomic(absolute, result.code);
    else {
      report.diff = unifiedDiff(source, result.code, file.split(path.sep).join('/'));
      if (result.companions?.length) report.code = result.code;
    }
    return report;
  } catch (error) {
    if (error instanceof SourceSyntaxError)
      return {
        file,
        status: 'error',
        sites: [],
        error: { message: error.message.replace(/^.*?:\d+:\d+: /, ''), line: error.line, column: error.column },
      };
    const { line, column } = error as { line?: number; column?: number };
    return {
      file,
      status: 'error',
      sites: [],
      error: { message: (error as Error)?.message ?? String(error), ...(line ? { line, column } : {}) },
    };
  }
}
