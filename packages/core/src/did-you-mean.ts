import { distance } from 'fastest-levenshtein';
import { InvalidArgumentError } from './errors.js';
import { describe } from './validate-options.js';

/** The known name `given` is most likely a typo of (case aside, a third of its letters at most), or undefined. */
export function didYouMean(given: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = distance(given.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** ` (did you mean "x"?)` when `given` looks like a typo of a known name, else ''. */
export function suggestion(given: string, known: readonly string[]): string {
  const guess = didYouMean(given, known);
  return guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`;
}

/**
 * What is wrong with an options object that allows only the `known` keys (a typo would otherwise go
 * unnoticed), phrased to follow its name ("must be an object, ...", "has an unknown key ..."), or undefined.
 */
export function unknownKeyProblem(options: unknown, known: readonly string[]): string | undefined {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    return `must be an object, got ${describe(options)}`;
  const key = Object.keys(options).find((k) => !known.includes(k));
  return key === undefined
    ? undefined
    : `has an unknown key ${describe(key)}${suggestion(key, known)}; known keys: ${known.join(', ') || 'none'}`;
}

/** Refuses (FORKEXEC_INVALID_ARGUMENT) an options object with a key outside `known`, naming `where` and the key. */
export function refuseUnknownKeys(options: unknown, known: readonly string[], where: string): void {
  const problem = unknownKeyProblem(options, known);
  if (problem) throw new InvalidArgumentError(`${where} ${problem}`);
}
