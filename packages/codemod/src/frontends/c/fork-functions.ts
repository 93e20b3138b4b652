import type { TopLevelBody } from './facts.js';
import { FORK_CALLS } from './operations.js';

/** One definition of a function that calls fork(), read from its file's text (comments removed). */
export interface ForkFunction {
  /** Its file (set by the scan, '' from factsOf). */
  file: string;
  /** The definition, from its return type to its closing brace. */
  text: string;
  /** It lies inside an #if of its file: code added next to it would need the same condition. */
  conditional: boolean;
  /** Declared static: calls in other files are of another function of that name. */
  local: boolean;
}

/** A text that calls one of the fork calls. */
export const FORKS = new RegExp(`\\b(?:${[...FORK_CALLS].join('|')})\\s*\\(`);
const OPENS = /^[ \t]*#[ \t]*if(?:n?def)?\b/gm;
const CLOSES = /^[ \t]*#[ \t]*endif\b/gm;

/** The top-level functions of a file's text whose body calls fork() (or vfork(), forkpty()…): name → its definitions. bodies: the text's
 * top-level bodies (facts.ts). */
export function forkFunctionsOf(text: string, bodies: Iterable<TopLevelBody>): Record<string, ForkFunction[]> {
  const out: Record<string, ForkFunction[]> = {};
  for (const { masked, head, headStart, open, close } of bodies) {
    if (!FORKS.test(masked.slice(open, close + 1))) continue;
    const sig = /(?:^|[\s*])([A-Za-z_]\w*)\s*\(([^()]*)\)\s*$/.exec(head);
    if (!sig || /=|\b(?:if|while|for|switch|return|sizeof)\s*\($/.test(head)) continue;
    // the head starts at its first character that is no blank or directive (masked text blanks directives)
    const start = headStart + (/\S/.exec(head)?.index ?? 0);
    const before = text.slice(0, start);
    const depth = (before.match(OPENS)?.length ?? 0) - (before.match(CLOSES)?.length ?? 0);
    (out[sig[1]] ??= []).push({
      file: '',
      text: text.slice(start, close + 1),
      conditional: depth > 0,
      local: /\bstatic\b/.test(head),
    });
  }
  return out;
}
