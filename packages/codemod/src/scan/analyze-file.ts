import { readFileSync } from 'node:fs';
import { scanTree } from '../frontends/c/index.js';
import { type FunctionSummary, mentionsForkOrExec, summarizeFunctions } from '../frontends/c/classify.js';
import type { ProjectFacts } from '../frontends/c/facts.js';
import { parseC } from '../frontends/c/parser.js';
import type { ForkSite } from '../model.js';

/** What the census keeps of one file; plain data, so it crosses worker threads. */
export interface FileResult {
  file: string;
  project: string;
  language: 'c' | 'js' | null;
  sites: ForkSite[];
  /** Per site, the names its child calls (C): followed into other files' functions. */
  childCalls: string[][];
  /** Functions of a C file that mentions exec or fork: the start of the helper chains. */
  functions: FunctionSummary[];
  /** Wrappers of the file whose child returns a constant of its own (`return FORK_CHILD;`): the constant. */
  childReturns?: Record<string, string>;
  error?: string;
}

export interface FileTask {
  file: string;
  project: string;
  /** What the whole project declares: never-returning functions, fork and exec macros. */
  facts?: ProjectFacts;
}

/** C, and C++ read with the C grammar (function bodies parse; classes and templates become error nodes). */
export const C_EXTENSIONS = ['.c', '.h', '.cc', '.cpp', '.cxx', '.hpp', '.hh', '.hxx'];

export function isC(file: string): boolean {
  return C_EXTENSIONS.some((ext) => file.toLowerCase().endsWith(ext));
}

const forkingNames = new WeakMap<ProjectFacts, RegExp | null>();

/** Whether the text calls a name the project made a fork: a fork or exec macro, a wrapped fork, a fork wrapper. */
function callsForkingName(facts: ProjectFacts | undefined, source: string): boolean {
  if (!facts) return false;
  if (!forkingNames.has(facts)) {
    const names = [...Object.keys(facts.aliases), ...Object.keys(facts.wrappedForks ?? {}), ...(facts.wrappers ?? [])];
    forkingNames.set(facts, names.length ? new RegExp(`\\b(?:${names.join('|')})\\s*\\(`) : null);
  }
  return forkingNames.get(facts)?.test(source) ?? false;
}

/** Parses and classifies one file. C files that mention neither fork nor exec (nor call a macro or wrapper the
 * project made a fork or an exec) are not parsed: they hold no site and no exec, and the census only reads them again when a
 * child's helper may be defined there. */
export async function analyzeFile(task: FileTask): Promise<FileResult> {
  const result: FileResult = {
    file: task.file,
    project: task.project,
    language: null,
    sites: [],
    childCalls: [],
    functions: [],
  };
  try {
    const source = readFileSync(task.file, 'utf8');
    if (isC(task.file)) {
      result.language = 'c';
      const mentions = mentionsForkOrExec(source);
      if (!mentions.fork && !mentions.exec && !callsForkingName(task.facts, source)) return result;
      const tree = await parseC(source);
      try {
        const analysis = scanTree(tree, source, task.file, undefined, task.facts);
        result.functions = analysis.functions;
        result.sites = analysis.sites.map((a) => a.site);
        result.childCalls = analysis.sites.map((a) => a.childCalls);
        const own = analysis.sites.filter((a) => a.childReturns && a.site.function);
        if (own.length) result.childReturns = Object.fromEntries(own.map((a) => [a.site.function!, a.childReturns!]));
      } finally {
        tree.delete();
      }
      return result;
    }
    if (!/\bfork\b/.test(source)) return result;
    // Loaded on the first JS/TS file only: Babel and recast take longer to load than a C census takes to run.
    const { frontendFor } = await import('../frontends/index.js');
    const frontend = frontendFor(task.file);
    if (!frontend) return result;
    result.language = 'js';
    result.sites = await frontend.scan(source, task.file);
    result.childCalls = result.sites.map(() => []);
  } catch (error) {
    result.error = (error as Error).message.split('\n')[0];
  }
  return result;
}

/** Function summaries of a C file, for following helpers. */
export async function summarizeFile(file: string): Promise<FunctionSummary[]> {
  const source = readFileSync(file, 'utf8');
  const tree = await parseC(source);
  try {
    return summarizeFunctions(tree.rootNode);
  } finally {
    tree.delete();
  }
}
