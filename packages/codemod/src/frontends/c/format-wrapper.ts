import type { Node } from './syntax-tree.js';
import { CANCEL } from './action-entry.js';
import { baseName } from './child-statements.js';
import type { Planner } from './recorder.js';

// A project's snprintf that ends the program on truncation (htop's xSnprintf): `va_start`, `n = vsnprintf(buf,
// len, fmt, ap)`, `va_end`, `if (n < 0 || (size_t)n >= len) fail();`, `return n;`. While the text fits it is
// snprintf; when it does not, the parent records a cancel and the slow path runs the wrapper as written.

/** Which parameters a format wrapper takes the buffer, its size and the format in (the rest are the format's). */
export interface FormatWrapper {
  buffer: number;
  size: number;
  format: number;
}

/**
 * The format wrapper a definition's text is, or null. The body (literals blanked, comments gone) is exactly: an
 * optional `assert(len > 0)` (len 0 truncates, which cancels), an optional clamp `len = MIN(INT_MAX, len)` (a
 * buffer the caller sizes is smaller), `va_list ap; va_start(ap, fmt);`, `[int] n = vsnprintf(buf, len, fmt,
 * ap);`, `va_end(ap);`, an `if` true only when n is negative or not below len, whatever it does, and `return n;`.
 */
export function formatWrapperOf(params: string, body: string): FormatWrapper | null {
  const names = params.split(',').map((p) => p.trim());
  if (names.at(-1) !== '...') return null;
  const own = names.slice(0, -1).map((p) => /([A-Za-z_]\w*)\s*$/.exec(p)?.[1] ?? '');
  const b = body.replace(/\s+/g, ' ').trim();
  const id = '([A-Za-z_]\\w*)';
  const m = new RegExp(
    `^\\{ (?:assert\\( ?${id} ?(?:> ?0 ?)?\\); )?(?:${id} = (?:MIN|MINIMUM|min)\\( ?(?:INT_MAX, ?${id}|${id}, ?INT_MAX) ?\\); )?` +
      `va_list ${id}; va_start\\( ?${id}, ?${id} ?\\); (?:int ${id}; )?(?:int )?${id} = vsnprintf\\( ?${id}, ?${id}, ?${id}, ?${id} ?\\); ` +
      `va_end\\( ?${id} ?\\); if \\((.*?)\\) (?:\\{[^{}]*\\}|[^;{}]*;) return ${id}; \\}$`,
  ).exec(b);
  if (!m) return null;
  const [, asserted, clamped, clampA, clampB, ap, ap2, fmt, decl, n, buf, len, fmt2, ap3, ap4, cond, ret] = m;
  const clampOf = clampA ?? clampB;
  if ([ap2, ap3, ap4].some((a) => a !== ap) || fmt2 !== fmt || ret !== n || (decl && decl !== n)) return null;
  if ((asserted && asserted !== len) || (clamped && (clamped !== len || clampOf !== len))) return null;
  const c = cond.replace(/\s+/g, '');
  const big = [`${n}>=${len}`, `(size_t)${n}>=${len}`, `(size_t)${n}>=(size_t)${len}`];
  if (!big.some((x) => c === x || c === `${n}<0||${x}` || c === `${x}||${n}<0`)) return null;
  const at = (name: string) => own.indexOf(name);
  if ([buf, len, fmt].some((x) => at(x) < 0) || new Set([n, ap, buf, len, fmt]).size !== 5) return null;
  // the format's arguments are the `...`
  if (at(fmt) !== own.length - 1) return null;
  return { buffer: at(buf), size: at(len), format: at(fmt) };
}

/** Is this format argument a string literal without `%n` (which would write through an argument in the parent)? */
export function plainFormat(format: Node | undefined): boolean {
  const parts = format?.type === 'concatenated_string' ? format.namedChildren : [format];
  return parts.every((s) => s?.type === 'string_literal' && !/%[-+ #0-9.*'lhjztqL]*n/.test(s.text));
}

/** `xSnprintf(buffer, sizeof(buffer), "%d", pid);` into a buffer the child declares (or a shadow): `fx_len =
 * snprintf(…)` in the actions' order, and a cancel when it would not fit. */
export function recordFormatWrapper(p: Planner, name: string, wrapper: FormatWrapper, args: Node[]): void {
  const into = args[wrapper.buffer] && baseName(args[wrapper.buffer]);
  if (!into || !(p.locals.has(into) || p.shadows.has(into)) || p.subst.size)
    return p.block(`${name}() writes ${args[wrapper.buffer]?.text ?? 'memory'}, not a buffer the child declares`);
  if (!plainFormat(args[wrapper.format]))
    return p.block(`${name}() with a format that is not a literal without %n: it could write in the parent`);
  const rest = args.filter((_, i) => i !== wrapper.buffer);
  if (!rest.every((a) => p.pure(a, true)) || !p.reads(args[wrapper.buffer])) return;
  if (!p.declarations.includes('int fx_len = 0;')) p.declarations.push('int fx_len = 0;');
  const text = (i: number) => p.text(args[i]);
  const call = ['snprintf(' + text(wrapper.buffer), text(wrapper.size), text(wrapper.format)]
    .concat(args.slice(wrapper.format + 1).map((a) => p.text(a)))
    .join(', ');
  p.actions.push(`fx_len = ${call})`);
  p.actions.push({
    condition: `fx_len < 0 || (size_t)fx_len >= (size_t)(${text(wrapper.size)})`,
    then: [CANCEL],
    otherwise: [],
  });
  if (p.locals.has(into)) p.orderedLocals.add(into);
}
