import { readFileSync } from 'node:fs';
import {
  execThroughHelper,
  type FunctionIndex,
  indexFunctions,
  throughHelper,
  withWrapperMacros,
} from '../frontends/c/classify.js';
import { mergeFacts, NO_FACTS, type ProjectFacts } from '../frontends/c/facts.js';
import { FORK_CALLS } from '../frontends/c/operations.js';
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

/**
 * The project's fork wrappers, once helpers in other files are followed: functions whose own fork call's child
 * returns to the caller, then functions whose call of one of those returns the same way, and macros that are one call
 * of one. A file's first pass may
 * have taken a function for a wrapper because the helper its child execs through is in another file.
 */
function wrappersOf(files: FileResult[], declared: ProjectFacts): Set<string> {
  const sites = files.flatMap((r) => r.sites).filter((s) => s.class === 'wrapper' && s.function);
  const direct = (call: string) => forksItself(call, declared);
  const wrappers = new Set(sites.filter((s) => direct(s.call)).map((s) => s.function!));
  for (let grew = true; grew;) {
    grew = false;
    withWrapperMacros(wrappers, declared.macroCalls);
    for (const s of sites) if (!wrappers.has(s.function!) && wrappers.has(s.call)) grew = !!wrappers.add(s.function!);
  }
  return wrappers;
}

/** A fork call, or a macro the project made one (`do_fork()`, `XVFORK()`), not a call of a wrapper function. */
function forksItself(call: string, declared: ProjectFacts): boolean {
  return FORK_CALLS.has(declared.aliases[call] ?? call) || Object.hasOwn(declared.wrappedForks ?? {}, call);
}

/** Drops the sites of calls of functions that turned out to be no wrapper. */
function dropFalseWrapperCalls(files: FileResult[], wrappers: Set<string>, declared: ProjectFacts): void {
  for (const r of files) {
    const keep = r.sites.map((s) => forksItself(s.call, declared) || wrappers.has(s.call));
    if (keep.every(Boolean)) continue;
    r.sites = r.sites.filter((_, i) => keep[i]);
    r.childCalls = r.childCalls.filter((_, i) => keep[i]);
  }
}

const callOf = (names: Iterable<string>) => new RegExp(`\\b(?:${[...names].map(escape).join('|')})\\s*\\(`);

/**
 * Calls of a fork wrapper defined in another file of the same project are fork sites: the files that call one are
 * analysed again knowing the project's wrappers (a wrapper of a wrapper found so is followed too, three rounds at
 * most), and calls of what is no wrapper once helpers are followed are dropped. Run after resolveHelpers. facts: what
 * each project declares, as the first pass knew it.
 */
export async function addWrapperCalls(results: FileResult[], facts: Record<string, ProjectFacts>): Promise<void> {
  for (const [project, files] of cProjects(results)) {
    const declared = facts[project] ?? NO_FACTS;
    let known = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const wrappers = wrappersOf(files, declared);
      dropFalseWrapperCalls(files, wrappers, declared);
      if ([...wrappers].every((w) => known.has(w))) break;
      known = wrappers;
      const calls = callOf(wrappers);
      const childReturns = Object.assign({}, ...files.map((r) => r.childReturns)) as Record<string, string>;
      const withWrappers = mergeFacts([declared, { ...NO_FACTS, wrappers: [...wrappers], childReturns }]);
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
      await resolveHelpers(files, facts);
    }
    dropFalseWrapperCalls(files, wrappersOf(files, declared), declared);
  }
}

/**
 * Follows C children's calls into functions defined in other files of the same project: a site whose child calls a
 * helper that execs (up to HELPER_DEPTH calls deep, not through a function that forks) becomes exec-via-helper. The
 * chain can pass through a file that names neither fork nor exec (and so was not parsed): such files are parsed here,
 * only when their text both names a called helper and calls an exec-ing function. facts: what each project declares (its fork macros).
 */
export async function resolveHelpers(results: FileResult[], facts: Record<string, ProjectFacts> = {}): Promise<void> {
  for (const [project, files] of cProjects(results)) {
    const pending = files
      .flatMap((r) => r.sites.map((site, i) => ({ site, calls: r.childCalls[i] ?? [] })))
      .filter((p) => FOLLOWABLE.has(p.site.class) && !/macro/.test(p.site.reason ?? '') && p.calls.length);
    if (!pending.length) continue;
    const index: FunctionIndex = indexFunctions(files.flatMap((r) => r.functions));
    const wrappers = wrappersOf(files, facts[project] ?? NO_FACTS);
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
