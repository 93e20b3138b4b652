import { readFileSync } from 'node:fs';
import { execThroughHelper, type FunctionIndex, indexFunctions, throughHelper } from '../frontends/c/classify.js';
import { mergeFacts, NO_FACTS, type ProjectFacts } from '../frontends/c/facts.js';
import { analyzeFile, type FileResult, summarizeFile } from './analyze-file.js';

const FOLLOWABLE = new Set(['fork-only', 'wrapper', 'unresolved']);

function escape(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '');
}

function cProjects(results: FileResult[]): Map<string, FileResult[]> {
  const byProject = new Map<string, FileResult[]>();
  for (const r of results) if (r.language === 'c') byProject.set(r.project, [...(byProject.get(r.project) ?? []), r]);
  return byProject;
}

/** The project's fork wrappers: functions with a fork site whose child returns to the caller. */
function wrappersOf(files: FileResult[]): Set<string> {
  return new Set(
    files.flatMap((r) => r.sites.filter((s) => s.class === 'wrapper' && s.function).map((s) => s.function!)),
  );
}

const callOf = (names: Iterable<string>) => new RegExp(`\\b(?:${[...names].map(escape).join('|')})\\s*\\(`);

/**
 * Calls of a fork wrapper defined in another file of the same project are fork sites: the files that call one are
 * analysed again knowing the project's wrappers (a wrapper of a wrapper found so is followed too, three rounds at
 * most). Run after resolveHelpers: a child that execs through another file's helper does not return. facts: what each
 * project declares, as the first pass knew it.
 */
export async function addWrapperCalls(results: FileResult[], facts: Record<string, ProjectFacts>): Promise<void> {
  for (const [project, files] of cProjects(results)) {
    let known = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const wrappers = wrappersOf(files);
      if ([...wrappers].every((w) => known.has(w))) break;
      known = wrappers;
      const calls = callOf(wrappers);
      const withWrappers = mergeFacts([facts[project] ?? NO_FACTS, { ...NO_FACTS, wrappers: [...wrappers] }]);
      for (const r of files) {
        let text: string;
        try {
          text = readFileSync(r.file, 'utf8');
        } catch {
          continue; // reported by the first pass, or gone since: the first pass's answer stands
        }
        if (r.error || !calls.test(text)) continue;
        const again = await analyzeFile({ file: r.file, project, facts: withWrappers });
        if (!again.error) Object.assign(r, again);
      }
      // what is a wrapper once other files' helpers are followed (a child that execs through one is not)
      await resolveHelpers(files);
    }
  }
}

/**
 * Follows C children's calls into functions defined in other files of the same project: a site whose child calls a
 * helper that execs (up to HELPER_DEPTH calls deep, not through a function that forks) becomes exec-via-helper. Depth two can pass through a file that names
 * neither fork nor exec (and so was not parsed): such files are parsed here, only when their text both names a
 * called helper and calls an exec-ing function.
 */
export async function resolveHelpers(results: FileResult[]): Promise<void> {
  for (const files of cProjects(results).values()) {
    const pending = files
      .flatMap((r) => r.sites.map((site, i) => ({ site, calls: r.childCalls[i] ?? [] })))
      .filter((p) => FOLLOWABLE.has(p.site.class) && !/macro/.test(p.site.reason ?? '') && p.calls.length);
    if (!pending.length) continue;
    const index: FunctionIndex = indexFunctions(files.flatMap((r) => r.functions));
    const wrappers = wrappersOf(files);
    const execing = [...index].filter(([, f]) => f.execs).map(([name]) => name);
    const unknown = [...new Set(pending.flatMap((p) => p.calls))].filter((n) => !index.has(n));
    if (execing.length && unknown.length) {
      const names = callOf(unknown);
      const targets = callOf(execing);
      for (const r of files) {
        if (r.functions.length || r.error) continue;
        let text: string;
        try {
          text = readFileSync(r.file, 'utf8');
        } catch {
          continue;
        }
        if (names.test(text) && targets.test(text)) indexFunctions(await summarizeFile(r.file), index);
      }
    }
    for (const { site, calls } of pending) {
      const helper = execThroughHelper(calls, index, wrappers);
      if (!helper) continue;
      site.class = 'exec-via-helper';
      site.exec = helper.exec;
      site.reason = throughHelper(helper);
    }
  }
}
