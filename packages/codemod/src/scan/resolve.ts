import { readFileSync } from 'node:fs';
import { execThroughHelper, type FunctionIndex, indexFunctions } from '../frontends/c/classify.js';
import type { FileResult } from './analyze-file.js';
import { summarizeFile } from './analyze-file.js';

const FOLLOWABLE = new Set(['fork-only', 'wrapper', 'unresolved']);

function escape(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '');
}

/**
 * Follows C children's calls into functions defined in other files of the same project: a site whose child calls a
 * helper that execs one or two calls deep becomes exec-via-helper. Depth two can pass through a file that names
 * neither fork nor exec (and so was not parsed): such files are parsed here, only when their text both names a
 * called helper and calls an exec-ing function.
 */
export async function resolveHelpers(results: FileResult[]): Promise<void> {
  const byProject = new Map<string, FileResult[]>();
  for (const r of results) if (r.language === 'c') byProject.set(r.project, [...(byProject.get(r.project) ?? []), r]);
  for (const files of byProject.values()) {
    const pending = files
      .flatMap((r) => r.sites.map((site, i) => ({ site, calls: r.childCalls[i] ?? [] })))
      .filter((p) => FOLLOWABLE.has(p.site.class) && !/macro/.test(p.site.reason ?? '') && p.calls.length);
    if (!pending.length) continue;
    const index: FunctionIndex = indexFunctions(files.flatMap((r) => r.functions));
    const execing = [...index].filter(([, f]) => f.execs).map(([name]) => escape(name));
    const unknown = [...new Set(pending.flatMap((p) => p.calls))].filter((n) => !index.has(n)).map(escape);
    if (execing.length && unknown.length) {
      const names = new RegExp(`\\b(?:${unknown.join('|')})\\s*\\(`);
      const targets = new RegExp(`\\b(?:${execing.join('|')})\\s*\\(`);
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
      const helper = execThroughHelper(calls, index);
      if (!helper) continue;
      site.class = 'exec-via-helper';
      site.exec = helper.exec;
      site.reason = `the child execs through ${helper.helper}() (${helper.depth === 1 ? 'one call' : 'two calls'} deep)`;
    }
  }
}
