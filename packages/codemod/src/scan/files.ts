import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '@forkexec/core';
import { ACTION_CALL, factsOf, mergeFacts, type ProjectFacts } from '../frontends/c/facts.js';
import { FORKS } from '../frontends/c/fork-functions.js';
import { type FileTask, isC } from './analyze-file.js';
import { fileOf, guardedLogsOf } from '../frontends/c/guarded-log.js';

const SKIP_DIRS = new Set(['.git', '.hg', '.svn', 'node_modules', '.turbo']);
const PROJECT_MARKERS = [
  '.git',
  'configure',
  'configure.ac',
  'Makefile',
  'CMakeLists.txt',
  'meson.build',
  'package.json',
  'Cargo.toml',
];

function isProjectRoot(dir: string): boolean {
  return PROJECT_MARKERS.some((m) => existsSync(path.join(dir, m)));
}

/**
 * The source files under the given paths, each with the project it belongs to: a path that is itself a project
 * (it has .git, a Makefile, configure...) is one project; otherwise each directory directly under it is one.
 */
export function findSourceFiles(roots: string[], extensions: string[]): FileTask[] {
  const tasks: FileTask[] = [];
  const seen = new Set<string>();
  const wanted = (name: string) =>
    extensions.some((ext) => name.toLowerCase().endsWith(ext)) && !/\.d\.[mc]?ts$/.test(name);
  for (const root of roots) {
    if (!existsSync(root)) throw new InvalidArgumentError(`forkexec scan: no such file or directory: ${root}`);
    const abs = path.resolve(root);
    if (statSync(abs).isFile()) {
      if (!seen.has(abs)) tasks.push({ file: abs, project: path.basename(path.dirname(abs)) });
      seen.add(abs);
      continue;
    }
    const single = isProjectRoot(abs);
    const stack = [abs];
    while (stack.length) {
      const dir = stack.pop()!;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue; // unreadable directory: skipped like the rest of the tree's noise
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (!SKIP_DIRS.has(e.name)) stack.push(full);
        } else if (e.isFile() && wanted(e.name) && !seen.has(full)) {
          seen.add(full);
          const rel = path.relative(abs, full).split(path.sep);
          const project = single || rel.length === 1 ? path.basename(abs) : rel[0];
          tasks.push({ file: full, project });
        }
      }
    }
  }
  return tasks.sort((a, b) => (a.file < b.file ? -1 : 1));
}

/** Reads every C file of each project once for what the project declares (never-returning functions, fork and exec
 * macros, helpers the codemod may inline), so each file's analysis knows what its headers and other files say. */
export function withProjectFacts(tasks: FileTask[]): FileTask[] {
  const byProject = new Map<string, ProjectFacts[]>();
  for (const t of tasks) {
    if (!isC(t.file)) continue;
    let text = '';
    try {
      text = readFileSync(t.file, 'utf8');
    } catch {
      continue; // reported when the file is analysed
    }
    // every file: a function two files define differently, one of them ending in an exit, may return
    const helpers = t.file.endsWith('.c') && (ACTION_CALL.test(text) || FORKS.test(text));
    const facts = factsOf(text, helpers);
    // a twin is written into the helper's own file (recording-twin.ts)
    for (const twin of Object.values(facts.twinHelpers ?? {})) if (twin) twin.file = t.file;
    if (t.file.endsWith('.c')) facts.guardedLogs = fileOf(guardedLogsOf(text), t.file);
    // so are a fork wrapper's companions (other-file-wrappers.ts)
    for (const defs of Object.values(facts.forkFunctions ?? {})) for (const d of defs) d.file = t.file;
    byProject.set(t.project, [...(byProject.get(t.project) ?? []), facts]);
  }
  const merged = new Map([...byProject].map(([project, all]) => [project, mergeFacts(all)]));
  return tasks.map((t) => (merged.has(t.project) ? { ...t, facts: merged.get(t.project) } : t));
}
