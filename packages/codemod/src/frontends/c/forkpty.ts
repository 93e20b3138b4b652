import type { Node } from './syntax-tree.js';
import type { Planner } from './recorder.js';
import { callArgs, same, unparen } from './syntax.js';

// forkpty(&master, name, termios, winsize) is, in glibc and musl, openpty() in the parent, fork(), then in the child
// close(master) and login_tty(slave): setsid(), ioctl(slave, TIOCSCTTY, 0), dup2(slave, 0/1/2), close(slave) when
// it is above 2; the parent closes the slave, and both when the fork failed. The rewrite opens the pty once in the
// parent, records login_tty as the fast child's first actions, and has the slow path's fork() run close + login_tty
// on the same pty before the original child code: forkpty itself is never called again (a second pty would differ).

/** What a forkpty site's rewrite needs: where the master goes, openpty's other arguments, and under which
 * preprocessor condition the system's forkpty is declared (null: always). */
export interface PtyStart {
  /** The lvalue forkpty writes the master to, in the parent only (`&m` → `m`, `p` → `*p`). */
  master: string;
  /** name, termios, winsize as written. */
  args: string[];
  guard: string | null;
  /** `#include <pty.h>` directives: login_tty's <utmp.h> goes after each (glibc, musl). */
  ptyIncludes: Node[];
}

/** glibc's and musl's <pty.h> (login_tty in <utmp.h>), the BSDs' <libutil.h>, macOS's and the other BSDs' <util.h>
 * (forkpty, openpty and login_tty all in one). */
const PTY_HEADERS = new Set(['<pty.h>', '<util.h>', '<libutil.h>']);
const BRANCHES = new Set(['preproc_if', 'preproc_ifdef', 'preproc_elif', 'preproc_elifdef', 'preproc_else']);

/** The pty of a forkpty call, or why it cannot be rewritten. */
export function ptyStart(call: Node): PtyStart | string {
  const args = callArgs(call);
  if (args.length !== 4) return 'forkpty() is not called with its four arguments';
  // the arguments are read once by forkpty; the rewrite reads the master's lvalue again after the fork
  if (args.some((a) => a.descendantsOfType(['call_expression', 'assignment_expression', 'update_expression']).length))
    return 'an argument of forkpty() calls or writes: the rewrite reads its master pointer after the fork';
  const m = unparen(args[0]);
  const master =
    m.type === 'pointer_expression' && m.child(0)?.type === '&'
      ? m.childForFieldName('argument')!.text
      : m.type === 'identifier'
        ? `*${m.text}`
        : `*(${m.text})`;
  const declared = ptyDeclarations(call.tree.rootNode);
  if (typeof declared === 'string') return declared;
  return { master, args: args.slice(1).map((a) => a.text), ...declared };
}

/** Where the file includes a header of the system's forkpty (and openpty, login_tty): the condition under which one
 * is included, when every one is under an #if (abduco: <pty.h>, <libutil.h> or <util.h> by platform, its own
 * forkpty for AIX and Solaris). Refused when none is included: a project's header may declare a forkpty of its own. */
function ptyDeclarations(root: Node): Pick<PtyStart, 'guard' | 'ptyIncludes'> | string {
  const includes = root
    .descendantsOfType('preproc_include')
    .filter((n): n is Node => !!n && PTY_HEADERS.has(n.childForFieldName('path')?.text ?? ''));
  if (!includes.length)
    return "forkpty() is not declared by <pty.h>, <util.h> or <libutil.h> in this file: it may be a project's own";
  const ptyIncludes = includes.filter((n) => n.childForFieldName('path')!.text === '<pty.h>');
  const disjuncts: string[][] = [];
  for (const include of includes) {
    const parts = branchCondition(include);
    if (!parts.length) return { guard: null, ptyIncludes };
    // `A || (!A && B)` is `A || B`: a later branch of the same chain drops the negation of an earlier one
    disjuncts.push(parts.filter((p) => !disjuncts.some((d) => d.length === 1 && p === `!${d[0]}`)));
  }
  const guard = disjuncts.map((d) => d.join(' && ')).join(' || ');
  return { guard, ptyIncludes };
}

/** The conditions under which the preprocessor keeps node, innermost first: the branch it is in, the negations of
 * the branches before that one in its chain, and the same for the branches around them. */
function branchCondition(node: Node): string[] {
  const parts: string[] = [];
  for (let n = node; n.parent; n = n.parent) {
    const p = n.parent;
    if (!BRANCHES.has(p.type)) continue;
    const own = ownCondition(p);
    if (same(p.childForFieldName('alternative'), n)) {
      if (own) parts.push(`!${own}`);
    } else if (own) parts.push(own);
  }
  return parts;
}

function ownCondition(branch: Node): string | null {
  if (branch.type === 'preproc_else') return null;
  const directive = branch.child(0)!.text.trim();
  const name = branch.childForFieldName('name');
  if (name) return directive.endsWith('ndef') ? `!defined(${name.text})` : `defined(${name.text})`;
  return `(${branch.childForFieldName('condition')!.text.trim()})`;
}

/** The fast child's login_tty, after close(master): exactly glibc's and musl's steps (setsid's failure ignored, as
 * there; the fast child is never a group leader). fx_ptm and fx_pts are the rewrite's openpty results. */
export function recordLoginTty(p: Planner): void {
  p.record('forkexec_close(fx, fx_ptm)');
  p.record('forkexec_setsid(fx)');
  p.record('forkexec_setctty(fx, fx_pts, 0)');
  for (const fd of [0, 1, 2]) p.record(`forkexec_dup2(fx, fx_pts, ${fd})`);
  p.actions.push({ condition: 'fx_pts > 2', then: ['forkexec_close(fx, fx_pts)'], otherwise: [] });
}
