import type { Node } from './syntax-tree.js';
import { CANCEL } from './action-entry.js';
import type { Planner } from './recorder.js';
import { plainFormat } from './format-wrapper.js';
import { callArgs, calleeName, identifiers, unparen } from './syntax.js';
import { baseName } from './child-statements.js';

// Allocations in the child's computations (`argv[2] = xstrdup(cmd);`, `sasprintf(&display, ":%d", n);`): the parent
// makes them in front of the fork with the C library's call, into a variable of the recording's own (fx_alloc…), and
// frees it after fork_before_exec returns. A C library allocation that fails returns NULL (or -1) and changes nothing
// else: the parent then cancels, and the slow path runs the child's own call as written (which ends the program, or
// goes on with NULL, as it did). A project's allocator is taken only when its body is such a call whose failure is
// the only way to its other code (i3's `sstrdup`/`sasprintf`, openssh's `xstrdup` through `xmalloc`): on success it
// returns what the C library's call returns. Allocators that abort the whole program when memory runs out (GLib's
// g_strdup_printf, g_strsplit…) are not taken: in the parent, the parent would end.

/** What a project function is on success: the C library allocation its body makes. via: the project's malloc-or-end
 * function the body gets its memory from (openssh's xstrdup through xmalloc), itself an EndingAllocator `malloc`. */
export interface EndingAllocator {
  libc: 'strdup' | 'strndup' | 'asprintf' | 'malloc';
  via?: string;
}

/** The C library's allocations the parent may make for the child: the call returns fresh memory or fails. */
const LIBC_ALLOCATIONS = new Set(['strdup', 'strndup', 'asprintf']);

/** GLib's allocations: they abort the program when memory runs out. */
const ABORTING_ALLOCATIONS =
  /^g_(?:strdup|strndup|strdup_printf|strdup_vprintf|strsplit|strjoin|strjoinv|strconcat|malloc0?|new0?|build_filename|build_path)$/;

const ID = '([A-Za-z_]\\w*)';
/** A failure branch: one statement or one block without nested blocks. */
const BRANCH = '(?:\\{[^{}]*\\}|[^;{}]*;)';

/**
 * The allocator a definition's body (literals blanked, comments gone) is, or null. Shapes, whatever the failure
 * branch does (it only runs when the C library's call failed):
 * - `T *r = strdup(s); if (r == NULL) …; return r;` (also `!r`, strndup(s, n));
 * - `va_list ap; int r; va_start(ap, fmt); if ((r = vasprintf(p, fmt, ap)) == -1) …; va_end(ap); return r;` (`< 0`);
 * - `void *p; if (size == 0) …; p = malloc(size); if (p == NULL) …; return p;` (a malloc its callers may use);
 * - `size_t len; char *cp; len = strlen(s) + 1; cp = M(len); return memcpy(cp, s, len);` with M such a malloc.
 */
export function endingAllocatorOf(params: string, body: string): EndingAllocator | null {
  const names = params.split(',').map((p) => p.trim());
  const own = names.map((p) => (p === '...' ? '...' : (/([A-Za-z_]\w*)\s*$/.exec(p)?.[1] ?? '')));
  const b = body.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
  const isNull = (r: string) => `(?:${r} == NULL|NULL == ${r}|!${r}|${r} == 0)`;
  const dup = new RegExp(
    `^\\{ (?:[A-Za-z_][\\w ]*\\*+ ?${ID}; )?(?:[A-Za-z_][\\w ]*\\*+ ?)?${ID} = (strn?dup)\\(([^()]*)\\); ` +
      `if \\((.*?)\\) ${BRANCH} return ${ID}; \\}$`,
  ).exec(b);
  if (dup) {
    const [, declared, r, call, args, cond, ret] = dup;
    const passed = args.split(',').map((a) => a.trim());
    const wanted = call === 'strdup' ? 1 : 2;
    if ((declared && declared !== r) || ret !== r || !new RegExp(`^${isNull(r)}$`).test(cond)) return null;
    if (passed.length !== wanted || own.length !== wanted || passed.some((a, i) => a !== own[i])) return null;
    return { libc: call as 'strdup' | 'strndup' };
  }
  const printf = new RegExp(
    `^\\{ va_list ${ID}; int ${ID}; va_start\\(${ID}, ?${ID}\\); if \\(\\(${ID} = vasprintf\\(${ID}, ?${ID}, ?${ID}\\)\\) (?:== -1|< 0)\\) ${BRANCH} ` +
      `va_end\\(${ID}\\); return ${ID}; \\}$`,
  ).exec(b);
  if (printf) {
    const [, ap, r, ap2, fmt, r2, strp, fmt2, ap3, ap4, ret] = printf;
    if ([ap2, ap3, ap4].some((a) => a !== ap) || [r2, ret].some((x) => x !== r) || fmt2 !== fmt) return null;
    if (own.length !== 3 || own[0] !== strp || own[1] !== fmt || own[2] !== '...') return null;
    return { libc: 'asprintf' };
  }
  const malloc = new RegExp(
    `^\\{ void \\*${ID}; if \\(${ID} == 0\\) ${BRANCH} ${ID} = malloc\\(${ID}\\); if \\((.*?)\\) ${BRANCH} return ${ID}; \\}$`,
  ).exec(b);
  if (malloc) {
    const [, p, size, p2, size2, cond, ret] = malloc;
    if (own.length !== 1 || [size, size2].some((s) => s !== own[0]) || [p2, ret].some((x) => x !== p)) return null;
    return new RegExp(`^${isNull(p)}$`).test(cond) ? { libc: 'malloc' } : null;
  }
  const copy = new RegExp(
    `^\\{ size_t ${ID}; char \\*${ID}; ${ID} = strlen\\(${ID}\\) \\+ 1; ${ID} = ${ID}\\(${ID}\\); return memcpy\\(${ID}, ?${ID}, ?${ID}\\); \\}$`,
  ).exec(b);
  if (copy) {
    const [, len, cp, len2, s, cp2, via, len3, cp3, s2, len4] = copy;
    if ([len2, len3, len4].some((x) => x !== len) || [cp2, cp3].some((x) => x !== cp) || s2 !== s) return null;
    return own.length === 1 && own[0] === s ? { libc: 'strdup', via } : null;
  }
  return null;
}

/** The C library call a call of name stands for on success, or null (a project allocator through another that is no
 * malloc-or-end). */
function libcOf(p: Planner, name: string): EndingAllocator['libc'] | null {
  if (LIBC_ALLOCATIONS.has(name)) return name as EndingAllocator['libc'];
  const a = p.endingAllocators.get(name);
  if (!a || a.libc === 'malloc') return null;
  if (a.via && p.endingAllocators.get(a.via)?.libc !== 'malloc') return null;
  return a.libc;
}

/** Is name an allocation the parent could make for the child (this module), so a refusal should not call it a
 * computation with another result? And why a known one cannot be. */
export function allocationRefusal(name: string): string | null {
  if (ABORTING_ALLOCATIONS.test(name))
    return `${name}() allocates with GLib, which aborts the program when memory runs out: made in the parent, the parent would end instead of the child`;
  if (name === 'getpwnam' || name === 'getpwuid' || name === 'getgrnam' || name === 'getgrgid')
    return `${name}() returns a static buffer the parent may hold an earlier result in: asked in the parent, it would overwrite it`;
  return null;
}

/** The next fx_alloc name, declared by the hoisted text. */
function allocName(p: Planner): string {
  const n = ++p.allocations;
  return n === 1 ? 'fx_alloc' : `fx_alloc${n}`;
}

/**
 * `target = F(args);` (target a local the child declares, or an element of one) or `F(&target, fmt, …);` for an
 * asprintf, with F an allocation this module knows: hoisted as the C library's call into fx_alloc, freed after the
 * call, with a cancel when it failed. False when call is no such allocation (nothing recorded or refused).
 */
export function hoistAllocation(p: Planner, stmt: Node, call: Node, target: Node | null): boolean {
  const name = calleeName(call);
  const libc = name && libcOf(p, name);
  if (!libc || p.vfork || p.subst.size) return false;
  const args = callArgs(call);
  let into = target;
  if (libc === 'asprintf') {
    const out = args[0] && unparen(args[0]);
    if (target || out?.type !== 'pointer_expression' || out.child(0)?.type !== '&') return false;
    into = out.childForFieldName('argument');
    if (!plainFormat(args[1])) {
      p.block(`${name}() with a format that is not a literal without %n: it could write in the parent`);
      return true;
    }
  }
  // a declarator (`*s` of `char *s = …`), the local itself or an element of a local array
  const declared = stmt.type === 'declaration';
  const plain = ['identifier', 'subscript_expression', ...(declared ? ['pointer_declarator'] : [])];
  if (!into || !plain.includes(into.type)) return false;
  const values = libc === 'asprintf' ? args.slice(1) : args;
  // what the call reads the parent computes without effect; the memory it writes is the child's local
  if (!values.every((v) => p.pure(v)) || (!declared && !p.reads(into, false))) return true;
  const base = declared ? identifiers(into)[0] : baseName(into);
  if (!base || !p.locals.has(base)) return false;
  const blockers = p.blockers.length;
  p.writeLocal(base, stmt);
  if (p.blockers.length > blockers) return true;
  const fx = allocName(p);
  const text = values.map((v) => v.text).join(', ');
  // asprintf as two snprintf calls (the same formatting), which every C library declares without _GNU_SOURCE
  const made =
    libc === 'asprintf'
      ? `char *${fx} = NULL;\nint ${fx}_n = snprintf(NULL, 0, ${text});\n` +
        `if (${fx}_n >= 0 && (${fx} = malloc((size_t)${fx}_n + 1)) != NULL) ` +
        `snprintf(${fx}, (size_t)${fx}_n + 1, ${text});`
      : `char *${fx} = ${libc}(${text});`;
  // the statement as written, the call replaced by the parent's result (`argv[2] = fx_alloc;`, `char *s = fx_alloc;`)
  const written =
    libc === 'asprintf'
      ? `${into.text} = ${fx};`
      : stmt.text.slice(0, call.startIndex - stmt.startIndex) + fx + stmt.text.slice(call.endIndex - stmt.startIndex);
  p.rewritten.set(stmt, `${made}\n${written}`);
  p.frees.push(fx);
  if (declared || into.type === 'identifier') p.allocated.add(base);
  p.actions.push({ condition: `${fx} == NULL`, then: [CANCEL], otherwise: [] });
  return true;
}
