import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ProjectFacts } from '../frontends/c/facts.js';
import { C_EXTENSIONS } from '../scan/analyze-file.js';
import { findSourceFiles, withProjectFacts } from '../scan/files.js';

/**
 * What each C file's project declares (never-returning functions, fork and exec macros, helpers), by absolute file
 * path: the projects are the scan's (a folder that is a project, else each folder directly under it). Files named by
 * a glob get none: their analysis reads only their own text.
 */
export function projectFactsByFile(paths: string[], cwd: string): Map<string, ProjectFacts> {
  const roots = paths.map((p) => path.resolve(cwd, p)).filter((p) => existsSync(p));
  const byFile = new Map<string, ProjectFacts>();
  for (const t of withProjectFacts(findSourceFiles(roots, C_EXTENSIONS))) if (t.facts) byFile.set(t.file, t.facts);
  return byFile;
}
