import type { ForkSite, Frontend, TransformResult } from '../../model.js';
import type { Node, Tree } from './syntax-tree.js';
import { analyzeTree, type FileAnalysis, type FunctionIndex, type SiteAnalysis } from './classify.js';
import { factsOf, mergeFacts, NO_FACTS, type ProjectFacts } from './facts.js';
import type { CppChecks } from './cpp.js';
import { transformCpp } from './cpp.js';
import { parseC } from './parser.js';
import { planConversion, type ProjectFunctions } from './plan.js';
import { applyEdits, type Edit, includeEdits, overlaps, siteEdits } from './rewrite.js';
import type { Twin } from './recording-twin.js';
import { functionName } from './syntax.js';
import { isWrapperCall } from './wrapper-call.js';
import { guardedLogFacts } from './guarded-log.js';
import { otherFileWrappers } from './other-file-wrappers.js';

export {
  analyzeTree,
  execThroughHelper,
  type FileAnalysis,
  type FunctionIndex,
  type FunctionSummary,
  indexFunctions,
  mentionsForkOrExec,
} from './classify.js';
export { parseC } from './parser.js';

function countErrors(root: { descendantsOfType(t: string): unknown[] }): number {
  return root.descendantsOfType('ERROR').length;
}

/** Decides whether a site converts, recording why not on the site; returns the edits when it does. */
function judge(
  source: string,
  a: SiteAnalysis,
  project?: ProjectFunctions,
  cpp?: CppChecks,
): { edits: Edit[]; frees: boolean; ptyIncludes: Node[]; twins: Twin[] } | null {
  const cppRefusal = cpp?.child(a);
  const result = cppRefusal ? { blockers: [cppRefusal] } : planConversion(a, project);
  // a wrapper's call says what of the wrapper, or of its caller's child, keeps it
  const wrapper = isWrapperCall(a) ? a.site.call : null;
  if (wrapper && 'blockers' in result) a.site.reason = `forks through wrapper ${wrapper}(): ${result.blockers[0]}`;
  if (wrapper && 'plan' in result) delete a.site.reason;
  if ('blockers' in result) {
    if (a.site.class === 'fork+exec') {
      a.site.blockers = result.blockers;
      a.site.reason ??= `not convertible: ${result.blockers[0]}`;
    }
    return null;
  }
  const planned = siteEdits(source, a, result.plan);
  const edits = typeof planned !== 'string' && cpp ? (cpp.edits(planned) ?? planned) : planned;
  if (typeof edits === 'string') {
    a.site.blockers = [edits];
    a.site.reason = `not convertible: ${edits}`;
    return null;
  }
  a.site.convertible = true;
  return {
    edits,
    frees: result.plan.frees.length > 0,
    ptyIncludes: result.plan.pty?.ptyIncludes ?? [],
    twins: result.plan.twins ?? [],
  };
}

/** Finds and classifies the fork sites of a parsed C file; `index` adds functions defined elsewhere in the codebase,
 * `facts` what the project declares (never-returning functions, fork and exec macros). */
export function scanTree(
  tree: Tree,
  source: string,
  file: string,
  index?: FunctionIndex,
  facts?: ProjectFacts,
): FileAnalysis {
  const analysis = analyzeTree(tree, file, index, facts);
  for (const a of analysis.sites) judge(source, a);
  return analysis;
}

export async function scanC(source: string, file: string, index?: FunctionIndex): Promise<ForkSite[]> {
  const tree = await parseC(source);
  try {
    return scanTree(tree, source, file, index).sites.map((a) => a.site);
  } finally {
    tree.delete();
  }
}

/** Converts the convertible fork+exec sites of one C file; facts: what its project declares in other files; cpp: the
 * checks of a C++ file (cpp.ts). */
export async function transformC(
  source: string,
  file: string,
  facts?: ProjectFacts,
  cpp?: CppChecks,
): Promise<TransformResult> {
  const tree = await parseC(source);
  // the file's own macros and the project's
  const merged = mergeFacts([factsOf(source), facts ?? NO_FACTS]);
  const [helperTree, wrapperTree, twinTree] = await parseHelpers(source, facts, merged.callMacros);
  // calls of the project's fork wrappers of other files are sites too (the scan finds them in its second pass)
  const others = await otherFileWrappers(source, facts, merged);
  try {
    const { sites } = analyzeTree(tree, file, undefined, others.facts);
    const project = {
      otherWrappers: others.byName,
      helpers: definitions(helperTree),
      signalWrappers: definitions(wrapperTree),
      callMacros: new Map(
        Object.entries(merged.macroCalls ?? {}).flatMap(([name, m]) =>
          m.calls === undefined ? [] : [[name, m.calls]],
        ),
      ),
      guardedMacros: new Map(Object.entries(merged.guardedMacros ?? {})),
      danglingMacros: new Set(merged.danglingMacros ?? []),
      refusedHelpers: new Map(Object.entries(facts?.refusedHelpers ?? {})),
      pureReads: new Map(Object.entries(merged.pureReads ?? {})),
      formatWrappers: new Map(Object.entries(merged.formatWrappers ?? {})),
      closeWalks: new Map(Object.entries(merged.closeWalks ?? {})),
      twinHelpers: twinDefinitions(twinTree, facts),
      twinMacros: new Map(
        Object.entries(merged.callMacros ?? {}).flatMap(([name, m]) =>
          m && facts?.twinHelpers?.[m.call] ? [[name, m]] : [],
        ),
      ),
      endingAllocators: new Map(Object.entries(merged.endingAllocators ?? {})),
      openWrappers: new Map(Object.entries(merged.openWrappers ?? {})),
      ...guardedLogFacts(facts, merged.callMacros),
    };
    const edits: Edit[] = [];
    const twins = new Map<string, Twin>();
    let frees = false;
    const ptyIncludes: Node[] = [];
    for (const a of sites) {
      const judged = judge(source, a, project, cpp);
      if (!judged) continue;
      if (overlaps([...edits, ...judged.edits])) {
        a.site.convertible = false;
        a.site.reason = "not convertible: its rewrite overlaps another site's";
        a.site.blockers = ["its rewrite overlaps another site's"];
        continue;
      }
      edits.push(...judged.edits);
      frees ||= judged.frees;
      for (const twin of judged.twins) twins.set(twin.name, twin);
      ptyIncludes.push(...judged.ptyIncludes);
      a.site.converted = true;
    }
    const companions = [...twins.values()].map((t) => ({
      file: t.file,
      after: t.helper,
      name: t.name,
      text: t.definition,
    }));
    const result = (code: string): TransformResult => ({
      code,
      changed: code !== source,
      sites: sites.map((s) => s.site),
      ...(code !== source && companions.length ? { companions } : {}),
    });
    const converted = sites.filter((s) => s.site.converted);
    if (!converted.length) return result(source);
    const first = Math.min(...edits.map((e) => e.start));
    // a helper's struct sigaction cleared on the recording's copy (helper-inlining.ts) needs memset's declaration, an
    // array's copy (shadow-locals.ts) memcpy's
    // an allocation made with the C library's call (ending-allocators.ts) strdup's or snprintf's
    const stringCalls = edits.some((e) => /\bmem(?:set|cpy)\s*\(|\bfx_alloc\d* = strn?dup\(/.test(e.text));
    const stdio = edits.some((e) => /\bsnprintf\s*\(NULL, 0,/.test(e.text));
    const headers = [
      '"forkexec.h"',
      ...(frees ? ['<stdlib.h>'] : []),
      ...(stringCalls ? ['<string.h>'] : []),
      ...(stdio ? ['<stdio.h>'] : []),
    ];
    const prototypes = [...twins.values()]
      .filter((t) => !new RegExp(`\\b${t.name}\\s*\\(`).test(source))
      .map((t) => t.prototype);
    edits.push(...includeEdits(tree, source, headers, first, prototypes), ...loginTtyIncludes(source, ptyIncludes));
    const code = applyEdits(source, edits);
    // The rewrite must leave the file as parseable as it found it; otherwise nothing changes.
    const reparse = cpp?.parse ?? parseC;
    const [check, original] = await Promise.all([reparse(code), cpp ? reparse(source) : null]);
    const broken = countErrors(check.rootNode) > countErrors((original ?? tree).rootNode);
    check.delete();
    original?.delete();
    if (!broken) return result(code);
    for (const s of converted) {
      s.site.converted = false;
      s.site.convertible = false;
      s.site.reason = 'not convertible: the rewritten file did not parse, so the file is left unchanged';
      s.site.blockers = ['the rewritten file did not parse'];
    }
    return result(source);
  } finally {
    tree.delete();
    helperTree?.delete();
    wrapperTree?.delete();
    twinTree?.delete();
    for (const t of others.trees) t.delete();
  }
}

/** login_tty's <utmp.h> (glibc, musl) after each `#include <pty.h>` a converted forkpty site relies on, under the same
 * #if: where the system declares forkpty in <util.h> or <libutil.h>, login_tty is there too. */
function loginTtyIncludes(source: string, ptyIncludes: Node[]): Edit[] {
  if (/#\s*include\s*<utmp\.h>/.test(source)) return [];
  const at = [...new Set(ptyIncludes.map((n) => n.endIndex))];
  return at.map((end) => ({ start: end, end, text: `#include <utmp.h>${source.includes('\r\n') ? '\r\n' : '\n'}` }));
}

/** The project's helpers and signal wrappers (facts.ts) that this source calls, parsed: one tree for each kind. */
async function parseHelpers(
  source: string,
  facts?: ProjectFacts,
  callMacros: ProjectFacts['callMacros'] = {},
): Promise<[Tree | null, Tree | null, Tree | null]> {
  // a twin's function may be called through a macro that is one call of it (sig_uncatch(s) for sig_catch(…))
  const calls = (name: string) => new RegExp(`\\b${name}\\s*\\(`).test(source);
  const throughMacros = new Set(
    Object.entries(callMacros).flatMap(([name, m]) =>
      m && facts?.twinHelpers?.[m.call] && calls(name) ? [m.call] : [],
    ),
  );
  const twins = Object.fromEntries(Object.entries(facts?.twinHelpers ?? {}).map(([n, t]) => [n, t?.text ?? null]));
  const parse = (defs: Record<string, string | null> = {}, called = calls) => {
    const found = Object.entries(defs).filter(
      // a macro of this file by that name is what its calls expand to, not the helper
      ([name, text]) => text && called(name) && !new RegExp(`#\\s*define\\s+${name}\\b`).test(source),
    );
    return found.length ? parseC(found.map(([, text]) => text).join('\n\n')) : null;
  };
  return Promise.all([
    parse(facts?.helpers),
    parse(facts?.signalWrappers),
    parse(twins, (name) => calls(name) || throughMacros.has(name)),
  ]);
}

/** The functions a recording twin may record, parsed (twinTree), with their files. */
function twinDefinitions(tree: Tree | null, facts?: ProjectFacts): Map<string, { def: Node; file: string }> {
  const out = new Map<string, { def: Node; file: string }>();
  for (const [name, def] of definitions(tree)) {
    const file = facts?.twinHelpers?.[name]?.file;
    if (file) out.set(name, { def, file });
  }
  return out;
}

/** The functions a tree defines, by name. */
function definitions(tree: Tree | null): Map<string, Node> {
  const map = new Map<string, Node>();
  for (const def of tree?.rootNode.descendantsOfType('function_definition') ?? [])
    if (def && functionName(def)) map.set(functionName(def)!, def);
  return map;
}

export const cFrontend: Frontend = {
  language: 'c',
  extensions: ['.c', '.h'],
  scan: (source, file) => scanC(source, file),
  // a header may be C++'s: its children are checked as a C++ file's (cpp.ts)
  transform: (source, file, facts) =>
    file.toLowerCase().endsWith('.h')
      ? transformCpp(source, file, facts, transformC, true)
      : transformC(source, file, facts),
};

/** C++ files: their C-like sites through the C frontend, checked with tree-sitter-cpp (cpp.ts). */
export const cppFrontend: Frontend = {
  language: 'c',
  extensions: ['.cc', '.cpp', '.cxx', '.hpp', '.hh', '.hxx'],
  scan: async (source, file) => (await transformCpp(source, file, undefined, transformC)).sites,
  transform: (source, file, facts) => transformCpp(source, file, facts, transformC),
};
