/** Finds every fork bound to the POSIX module in a program, classifies it, and rewrites the provable ones. */
import type { NodePath } from '@babel/traverse';
import type * as t from '@babel/types';
import type { ForkSite } from '../../model.js';
import { importedName, pruneUnused, referencedImports } from './bindings.js';
import { FS_MODULES } from './child.js';
import { analyseSite } from './site.js';

export const POSIX_MODULE = '@forkexec/core/posix';

export interface JsOptions {
  /** More modules whose `fork` and `exec*` count, besides `@forkexec/core/posix`. */
  modules?: string[];
}

function moduleSet(options: JsOptions = {}): Set<string> {
  return new Set([POSIX_MODULE, ...(options.modules ?? [])]);
}

/**
 * Sites of the program, in source order; with `rewrite`, the convertible ones are rewritten
 * ('recast' when the result is printed by recast, see ChildBranch.remove).
 */
export function processProgram(
  program: NodePath<t.Program>,
  file: string,
  options: JsOptions,
  rewrite: false | 'babel' | 'recast',
): { sites: ForkSite[]; changed: boolean } {
  const modules = moduleSet(options);
  const forks: NodePath<t.CallExpression>[] = [];
  program.traverse({
    CallExpression(path) {
      if (importedName(path, path.node.callee, modules) === 'fork') forks.push(path);
    },
  });
  if (forks.length === 0) return { sites: [], changed: false };
  // Imports the rewrite may leave unused: the POSIX module's fork/exec*, and openSync.
  const pruned = new Set([...modules, ...FS_MODULES]);
  const before = rewrite ? referencedImports(program, pruned) : new Set<string>();
  const added = new Map<t.Node, Map<string, string>>();
  const sites: ForkSite[] = [];
  let changed = false;
  for (const fork of forks) {
    if (fork.removed || !fork.node) continue;
    const { site, apply } = analyseSite(fork, file, program, modules, added);
    if (rewrite && apply) {
      apply(rewrite === 'recast');
      changed = true;
    }
    sites.push(site);
  }
  if (changed) pruneUnused(program, pruned, before);
  return { sites, changed };
}
