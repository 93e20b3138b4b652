import { EXEC_CALLS, FORK_CALLS } from './operations.js';

/**
 * What one C project says about its functions and macros, read from the text of all its files (headers declare what
 * sources call): the functions that never return, and the macros that stand for a fork or an exec call.
 * Plain data, so it crosses worker threads.
 */
export interface ProjectFacts {
  noreturn: string[];
  /** Macro name → the fork or exec call its body is (`#define do_fork() fork()` → fork). */
  aliases: Record<string, string>;
}

export const NO_FACTS: ProjectFacts = { noreturn: [], aliases: {} };

const NORETURN_MARK = /\b(?:_Noreturn|noreturn|__noreturn__|__dead2?|[A-Z_]*NORETURN[A-Z_]*|NO_RETURN)\b/;
const ATTRIBUTE = /__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)|\[\[[^\]]*\]\]|__declspec\s*\([^)]*\)/g;
const KEYWORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'defined', '__typeof__', 'typeof']);

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** `#define` lines, continuation lines joined: [name, parameters or null, body]. */
function defines(text: string): [string, string | null, string][] {
  const out: [string, string | null, string][] = [];
  const re = /^[ \t]*#[ \t]*define[ \t]+(\w+)(\([^)]*\))?((?:[^\n\\]|\\\r?\n|\\.)*)/gm;
  for (const m of text.matchAll(re)) out.push([m[1], m[2] ?? null, m[3].replace(/\\\r?\n/g, ' ').trim()]);
  return out;
}

/** The facts of one file's text; merge several with mergeFacts. */
export function factsOf(source: string): ProjectFacts {
  const text = withoutComments(source);
  const aliases: Record<string, string> = {};
  for (const [name, , body] of defines(text)) {
    const call = /^\(?\s*(\w+)\s*\(/.exec(body)?.[1];
    // only a body that is that one call: anything more is code that only its expansion shows
    if (call && (FORK_CALLS.has(call) || EXEC_CALLS.has(call)) && /\)\s*\)?$/.test(body) && !/[;{]/.test(body))
      aliases[name] = call;
  }
  const noreturn = new Set<string>();
  const code = text.replace(/^[ \t]*#(?:[^\n\\]|\\\r?\n|\\.)*/gm, ' ');
  for (const chunk of code.split(/[;{}]/)) {
    if (!NORETURN_MARK.test(chunk)) continue;
    const bare = chunk.replace(ATTRIBUTE, ' ');
    for (const m of bare.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
      if (KEYWORDS.has(m[1]) || NORETURN_MARK.test(m[1])) continue;
      noreturn.add(m[1]);
      break;
    }
  }
  return { noreturn: [...noreturn], aliases };
}

export function mergeFacts(all: ProjectFacts[]): ProjectFacts {
  const noreturn = new Set<string>();
  const aliases: Record<string, string> = {};
  for (const f of all) {
    f.noreturn.forEach((n) => noreturn.add(n));
    Object.assign(aliases, f.aliases);
  }
  return { noreturn: [...noreturn], aliases };
}
