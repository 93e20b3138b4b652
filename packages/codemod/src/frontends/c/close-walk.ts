import type { Node } from './syntax-tree.js';
import { answersInParent } from './parent-answers.js';
import type { Planner } from './recorder.js';

// A project function that closes every fd from a number up to the fd limit but one it is given (screen's
// `closeallfiles(except)`, in misc.c): recorded as forkexec_close_range, from the same number to the limit the parent
// reads as the child (getdtablesize(), a pure read of RLIMIT_NOFILE), sparing the fd the call names.

/** What a close walk's definition says: its parameters, the first fd it closes, the bound it reads, and which
 * parameter names the fd it spares (-1: none). */
export interface CloseWalk {
  params: number;
  low: number;
  bound: string;
  keep: number;
}

/**
 * The close walk a definition's text is, or null. The body (literals blanked, comments gone) is exactly screen's poll
 * walk, whatever its names and chunk size K:
 *
 *   struct pollfd P[K]; int M, I, F, R, Z;  (in any order)
 *   I = LOW; M = getdtablesize();            (or sysconf(_SC_OPEN_MAX))
 *   while (I < M) {
 *     memset(P, 0, sizeof(P)); Z = 0;
 *     for (F = I; F < M && F < I + K; F++) P[Z++].fd = F;
 *     R = poll(P, F - I, 0); if (R < 0) fail(…);
 *     Z = 0;
 *     for (F = I; F < M && F < I + K; F++) if (!(P[Z++].revents & POLLNVAL) && F != E) close(F);
 *     I = F;
 *   }
 *
 * Each round puts the n = min(K, M - I) fds from I in P (cleared first: what P held before does not matter), and a
 * poll without timeout marks exactly the ones not open with POLLNVAL; every other one but E is closed, and the next
 * round starts at I + n. So the walk closes every open fd from LOW to M - 1 but E, and closing one that is not open
 * changes nothing: close_range(LOW, M - 1) sparing E, fds at or above M left open. n is at most M, the soft
 * RLIMIT_NOFILE, so poll's EINVAL cannot happen; its ENOMEM, or EINTR for a signal arriving in the child, would make
 * the original fail (screen's Panic) where the fast path closes the fds: the only difference, a failure of the
 * kernel's, as a fork's own ENOMEM.
 */
export function closeWalkOf(params: string, body: string): CloseWalk | null {
  const own = params.split(',').map((p) => /([A-Za-z_]\w*)\s*$/.exec(p.trim())?.[1] ?? '');
  // whitespace only between two words: `struct pollfd pfd[1024];int maxfd,i,…`
  const b = body
    .replace(/\s+/g, ' ')
    .replace(/ ?([^\w ]) ?/g, '$1')
    .trim();
  const id = '[A-Za-z_]\\w*';
  const m = new RegExp(
    [
      `^\\{(?<decls>(?:(?:struct pollfd ${id}\\[[0-9]+\\]|int [\\w,]+);)+)`,
      `(?<I>${id})=(?<low>[0-9]+);(?<M>${id})=(?<bound>getdtablesize\\(\\)|sysconf\\(_SC_OPEN_MAX\\));`,
      `while\\(\\k<I><\\k<M>\\)\\{memset\\((?<P>${id}),0,sizeof\\(?\\k<P>\\)?\\);(?<Z>${id})=0;`,
      `for\\((?<F>${id})=\\k<I>;\\k<F><\\k<M>&&\\k<F><\\k<I>\\+(?<K>[0-9]+);\\k<F>\\+\\+\\)\\k<P>\\[\\k<Z>\\+\\+\\]\\.fd=\\k<F>;`,
      `(?<R>${id})=poll\\(\\k<P>,\\k<F>-\\k<I>,0\\);if\\(\\k<R><0\\)${id}\\([^;{}]*\\);\\k<Z>=0;`,
      `for\\(\\k<F>=\\k<I>;\\k<F><\\k<M>&&\\k<F><\\k<I>\\+\\k<K>;\\k<F>\\+\\+\\)`,
      `if\\(!\\(\\k<P>\\[\\k<Z>\\+\\+\\]\\.revents&POLLNVAL\\)(?:&&\\k<F>!=(?<E>${id}))?\\)close\\(\\k<F>\\);\\k<I>=\\k<F>;\\}\\}$`,
    ].join(''),
  ).exec(b)?.groups;
  if (!m) return null;
  const ints = [...m.decls.matchAll(/int ([\w,]+);/g)].flatMap((d) => d[1].split(','));
  const arrays = [...m.decls.matchAll(/struct pollfd (\w+)\[([0-9]+)\];/g)];
  if (
    !arrays.some(([, name, size]) => name === m.P && Number(size) >= Number(m.K)) ||
    new Set([m.P, m.I, m.M, m.F, m.R, m.Z]).size !== 6 ||
    ![m.I, m.M, m.F, m.R, m.Z].every((n) => ints.includes(n))
  )
    return null;
  // `F != E`, E a parameter; without it, nothing is spared
  const keep = m.E === undefined ? -1 : own.indexOf(m.E);
  if (m.E !== undefined && keep < 0) return null;
  const bound = m.bound;
  const low = m.low;
  return { params: own.filter((p) => p && p !== 'void').length, low: Number(low), bound, keep };
}

/** The call of a close walk, as its range: the parent reads the bound as the child would unless the child changed the
 * fd limit first (setrlimit); the spared fd is the call's argument, read where the call is. */
export function recordCloseWalk(p: Planner, name: string, walk: CloseWalk, args: Node[]): void {
  if (args.length !== walk.params) return p.block(`${name}() in the child: its parameters do not match the call`);
  if (!answersInParent(p, walk.bound.replace(/\(.*$/, ''))) return;
  const keep = walk.keep < 0 ? null : args[walk.keep];
  if (keep && !(p.pure(keep, true) && p.reads(keep))) return;
  const spared = keep ? `(int[]){ ${p.text(keep)} }, 1` : 'NULL, 0';
  p.record(`forkexec_close_range(fx, ${walk.low}, ${walk.bound} - 1, ${spared})`);
}
