/**
 * The one small model of a fork site that every frontend (Babel for JS/TS, tree-sitter for C)
 * produces, and that the runner, the census (`forkexec scan`) and the reports consume.
 */

import type { ProjectFacts } from './frontends/c/facts.js';

/**
 * How a fork site relates to exec: `fork+exec` (the child execs), `exec-via-helper` (the child calls
 * a function of the file that execs), `wrapper` (`return fork()`, or the child returns to the
 * caller), `fork-only` (the child never execs), `unresolved` (the codemod cannot tell).
 */
export type SiteClass = 'fork+exec' | 'exec-via-helper' | 'fork-only' | 'wrapper' | 'unresolved';

export interface ForkSite {
  file: string;
  /** 1-based line and column of the fork call. */
  line: number;
  column: number;
  /** Enclosing function name, or null at top level. */
  function: string | null;
  /** The forking call as written: fork, vfork, forkpty, or a wrapper's name. */
  call: string;
  class: SiteClass;
  /** Every child statement maps to an action and the exec is provable: the rewrite may convert it. */
  convertible: boolean;
  /** The rewrite converted it (only in transform results). */
  converted?: boolean;
  /** Child-side operations before exec, in source order (dup2, close, open, chdir, setsid, log, malloc, ...). */
  operations: string[];
  /** The exec variant (execvp, execl, ...), when one is found. */
  exec?: string;
  /** Why the site was not converted, in one sentence. */
  reason?: string;
  /** The child operations that block a conversion. */
  blockers?: string[];
  /** For a converted site: what the rewritten call needs at run time (a backend that carries out its actions). */
  note?: string;
}

export interface TransformResult {
  code: string;
  changed: boolean;
  sites: ForkSite[];
  /** Source map of the rewrite, where the frontend makes one. */
  map?: unknown;
  /** Code the rewrite needs in other files of the project (a C recording twin, next to the function it records):
   * the runner adds each once (addTwins), also when several files ask for it. */
  companions?: Companion[];
}

export interface Companion {
  /** The other file, as the project's scan read it (absolute). */
  file: string;
  /** The function of that file the code goes after. */
  after: string;
  /** The code's name, defined once per file. */
  name: string;
  text: string;
}

/** A language frontend: finds and classifies fork sites, and rewrites the convertible ones. */
export interface Frontend {
  language: 'js' | 'c';
  /** File endings it handles, with the dot: ['.js', '.ts', ...] or ['.c', '.h']. */
  extensions: string[];
  scan(source: string, file: string): ForkSite[] | Promise<ForkSite[]>;
  /** project: what the file's C project declares elsewhere (the C frontend's facts), when the runner read it. */
  transform(source: string, file: string, project?: ProjectFacts): TransformResult | Promise<TransformResult>;
}

/** One line about a site left unconverted: `file:line:col class: reason`. */
/** One line about what a converted site needs at run time: `file:line:col: note`. */
export function describeNote(site: ForkSite): string {
  return `${site.file}:${site.line}:${site.column}: ${site.note}`;
}

export function describeSite(site: ForkSite): string {
  return `${site.file}:${site.line}:${site.column} ${site.class}: ${site.reason ?? 'not converted'}`;
}
