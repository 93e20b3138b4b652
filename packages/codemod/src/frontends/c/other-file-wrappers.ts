import type { Node, Tree } from './syntax-tree.js';
import { analyzeTree } from './classify.js';
import type { ProjectFacts } from './facts.js';
import { FORK_CALLS } from './operations.js';
import { parseC } from './parser.js';
import { functionName } from './syntax.js';

// A fork wrapper of another file of the project (anacron's `xfork()` in main.c, called in runjob.c): its calls are
// fork sites of the caller's file, converted as those of a wrapper of the file (wrapper-call.ts) when its child side
// does nothing; its parent side, which may name statics of its own file, runs through a companion written there.

/** A wrapper of another file a call may convert through: its definition parsed, or why the call cannot. */
export type OtherFileWrapper = { def: Node; file: string; conditional: boolean } | string;

export interface OtherFileWrappers {
  /** The caller's facts with those wrappers added (classify.ts makes sites of their calls). */
  facts: ProjectFacts | undefined;
  byName: Map<string, OtherFileWrapper>;
  /** The parsed definitions, to delete once the file is done. */
  trees: Tree[];
}

/**
 * The fork wrappers of other files of the project that source calls, itself or through a macro that is one call of
 * one (sudo's `#define sudo_debug_fork() sudo_debug_fork_v1()`): each definition parsed and read as a file of its own
 * would be, with the project's facts; a function is a wrapper when one of its fork calls is a wrapper's. macros: the
 * project's and the file's own.
 */
export async function otherFileWrappers(
  source: string,
  facts: ProjectFacts | undefined,
  macros: Pick<ProjectFacts, 'macroCalls' | 'callMacros'> = facts ?? {},
): Promise<OtherFileWrappers> {
  const byName = new Map<string, OtherFileWrapper>();
  const trees: Tree[] = [];
  const calls = (name: string) => new RegExp(`\\b${name}\\s*\\(`).test(source);
  const throughMacro = new Set(
    Object.entries(macros.macroCalls ?? {}).flatMap(([macro, m]) => (m.call && calls(macro) ? [m.call] : [])),
  );
  for (const [name, all] of Object.entries(facts?.forkFunctions ?? {})) {
    // a static function of another file is not the one the caller's name means
    const defs = all.filter((d) => !d.local);
    if (!defs.length || !(calls(name) || throughMacro.has(name)) || FORK_CALLS.has(name)) continue;
    const parsed: { def: Node; file: string; conditional: boolean }[] = [];
    let wrapper = false;
    for (const d of defs) {
      const tree = await parseC(d.text);
      trees.push(tree);
      const def = tree.rootNode.descendantsOfType('function_definition').find((f) => f && functionName(f) === name);
      if (!def) continue;
      parsed.push({ def, file: d.file, conditional: d.conditional });
      wrapper ||= analyzeTree(tree, d.file, undefined, facts).sites.some(
        (s) => s.site.function === name && s.site.class === 'wrapper' && FORK_CALLS.has(s.site.call),
      );
    }
    if (!wrapper) continue;
    const files = [...new Set(defs.map((d) => d.file.split(/[\\/]/).pop() || 'one file'))];
    byName.set(
      name,
      parsed.length === 1 && defs.length === 1
        ? parsed[0]
        : files.length === 1
          ? `${name}() is defined ${defs.length} times in ${files[0]}, under #if: which one its build compiles is not visible at the call`
          : `${name}() is defined in ${files.join(', ')}: which one the caller's program links is not visible at the call`,
    );
  }
  const wrappers = [...byName.keys()];
  // a macro that is the call of one, without arguments, stands for it
  for (const [macro, m] of Object.entries(macros.callMacros ?? {}))
    if (m && !m.params.length && !m.args.length && byName.has(m.call) && calls(macro))
      byName.set(macro, byName.get(m.call)!);
  const withWrappers =
    facts && wrappers.length ? { ...facts, wrappers: [...new Set([...(facts.wrappers ?? []), ...wrappers])] } : facts;
  return { facts: withWrappers, byName, trees };
}
