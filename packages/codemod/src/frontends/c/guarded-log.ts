import type { Node } from './syntax-tree.js';
import { CANCEL } from './action-entry.js';
import {
  ACTION_CALL,
  type CallMacro,
  maskLiterals,
  type ProjectFacts,
  namedParameters,
  SAME_IN_PARENT,
  topLevelBodies,
  withoutComments,
} from './facts.js';
import type { Planner } from './recorder.js';
import { TWIN_SUFFIX, type Twin } from './recording-twin.js';
import { callArgs } from './syntax.js';

// A log function of another file that writes nothing while a guard on memory holds (openssh's sshlogv: `if
// (nlog_verbose == 0 && level > log_level) return;` before anything else), called in the child before its exec,
// directly or through a macro that is one call of it (`#define debug3(...) sshlog(__FILE__, …, SYSLOG_LEVEL_DEBUG3,
// NULL, __VA_ARGS__)`). The guard reads statics of its own file, so the parent asks a twin written next to the function
// in that file: while the guard holds the call does nothing and the fast path goes on; otherwise it cancels, and the
// slow path's child writes the line as written. Arguments the guard does not read are not evaluated on the fast path:
// only arguments free of effects (a read, getpid(), strerror(errno)) may be skipped so.

/** A function that returns at once while its guard holds (facts.ts: guardedLogs). */
export interface GuardedLog {
  /** Its file (set by the scan): the twin goes there, after `after`. */
  file: string;
  /** The function whose guard it is: itself, or the one it hands its va_list to (sshlog → sshlogv). */
  after: string;
  /** Its named parameters, in order, and their declarations as written. */
  names: string[];
  declarations: string[];
  variadic: boolean;
  /** The guard in its own parameters' names; true: the call writes nothing. */
  guard: string;
  /** The parameters the guard reads: the twin's. */
  reads: string[];
  /** The other names the guard reads (variables of its file). */
  globals: string[];
}

const NO_EFFECT_CALL = /\b(?![0-9])\w+\s*\(/;
const WRITE = /(?:^|[^=!<>])=(?!=)|\+\+|--/;
const C_WORDS = new Set(['sizeof', 'NULL', 'true', 'false']);

/** Calls an argument the fast path skips may make: they have no effect (they only read). */
const SKIPPABLE_CALLS = new Set(['getpid', 'getppid', 'gettid', 'strerror', ...Object.keys(SAME_IN_PARENT)]);

/** Splits at top-level commas (masked text: literals blanked). */
function splitTop(masked: string, raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (c === ',' && depth === 0) {
      out.push(raw.slice(from, i).trim());
      from = i + 1;
    }
  }
  const last = raw.slice(from).trim();
  if (last || out.length) out.push(last);
  return out;
}

/** A declaration without effect (`char tag[128], fmt2[N];`, `int forced = 0;`, `va_list args;`). */
function plainDeclaration(masked: string): boolean {
  const m = /^\s*((?:(?:const|volatile|unsigned|signed|struct|union|enum|register)\s+)*[A-Za-z_]\w*)\s*([\s\S]*)$/.exec(
    masked,
  );
  if (!m || /^(?:return|goto|break|continue|if|else|do|while|for|switch|case)$/.test(m[1].split(/\s+/).at(-1)!))
    return false;
  return splitTop(m[2], m[2]).every((d) => {
    const [target, value, more] = d.split(/(?<![=!<>])=(?!=)/);
    return (
      more === undefined &&
      /^[\s*]*[A-Za-z_]\w*\s*(?:\[[^\]]*\]\s*)*$/.test(target) &&
      (value === undefined || !(NO_EFFECT_CALL.test(value.replace(/\bsizeof\s*\(/g, '')) || /\+\+|--/.test(value)))
    );
  });
}

/** The names an expression reads (not members, not C words). */
function namesIn(masked: string): string[] {
  return [...masked.matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b/g)]
    .filter(([, member, n]) => !member && !C_WORDS.has(n))
    .map(([, , n]) => n);
}

/** `if (GUARD) return;` first (after declarations without effect) in a void function's body; null otherwise. */
function guardOf(masked: string, raw: string, params: Set<string>): { guard: string } | null {
  const open = /^\{((?:[^;{}()]*;)*?)\s*if\s*\(/.exec(masked);
  if (!open || !open[1].split(';').slice(0, -1).every(plainDeclaration)) return null;
  const start = open[0].length;
  let depth = 1;
  let end = start;
  for (; end < masked.length && depth; end++) depth += masked[end] === '(' ? 1 : masked[end] === ')' ? -1 : 0;
  if (depth || !/^\s*(?:\{\s*return\s*;\s*\}|return\s*;)/.test(masked.slice(end))) return null;
  const guard = masked.slice(start, end - 1);
  if (NO_EFFECT_CALL.test(guard.replace(/\bsizeof\s*\(/g, '')) || WRITE.test(guard) || /"|'/.test(guard)) return null;
  const names = namesIn(guard);
  // an upper-case name may be a macro hiding a call; errno is the parent's while it records
  if (names.some((n) => n === 'errno' || (/^[A-Z_][A-Z0-9_]*$/.test(n) && !params.has(n)))) return null;
  return {
    guard: raw
      .slice(start, end - 1)
      .replace(/\s+/g, ' ')
      .trim(),
  };
}

/**
 * The guarded log functions of a .c file's text: not static, returning void, whose body starts with `if (GUARD)
 * return;` (declarations without effect before it), or is `va_list ap; va_start(ap, last); G(…, ap); va_end(ap);` of
 * such a function G of the same file, G's guard reading only parameters it gets as they are. A body with #if: none.
 */
export function guardedLogsOf(source: string): Record<string, GuardedLog | null> {
  const text = withoutComments(source);
  const found = new Map<string, { head: string; masked: string; raw: string; params: string[]; variadic: boolean }>();
  for (const { masked, head, open, close } of topLevelBodies(text)) {
    const sig = /(?:^|[\s*])([A-Za-z_]\w*)\s*\(([^()]*)\)\s*$/.exec(head);
    // a function that calls actions is recorded by its twin (recording-twin.ts), which keeps its fast path
    const body = text.slice(open, close + 1);
    if (!sig || /=/.test(head) || /\n[ \t]*#/.test(body) || ACTION_CALL.test(masked.slice(open, close + 1))) continue;
    if (
      !/^void$/.test(
        head
          .slice(0, sig.index + sig[0].indexOf(sig[1]))
          .replace(/\bstatic\b|\binline\b/g, '')
          .trim(),
      )
    )
      continue;
    const params = splitTop(sig[2], sig[2]).filter((p) => p !== 'void');
    const variadic = params.at(-1) === '...';
    found.set(sig[1], {
      head,
      masked: masked.slice(open, close + 1),
      raw: body,
      params: variadic ? params.slice(0, -1) : params,
      variadic,
    });
  }
  const out: Record<string, GuardedLog | null> = {};
  const own = (f: { params: string[] }) => f.params.map((p) => [...namedParameters(p)][0] ?? '');
  for (const [name, f] of found) {
    if (/\bstatic\b/.test(f.head)) continue;
    const names = own(f);
    let entry: GuardedLog | null = null;
    const direct = guardOf(f.masked, f.raw, new Set(names));
    if (direct) entry = logEntry(name, names, f.params, f.variadic, direct.guard);
    const forward =
      /^\{\s*va_list\s+(\w+)\s*;\s*va_start\s*\(\s*\1\s*,\s*(\w+)\s*\)\s*;\s*(?:\(\s*void\s*\)\s*)?(\w+)\s*\(([^;]*)\)\s*;\s*va_end\s*\(\s*\1\s*\)\s*;\s*\}$/.exec(
        f.masked,
      );
    const target = forward && found.get(forward[3]);
    if (!entry && forward && target && f.variadic) {
      const inner = guardOf(target.masked, target.raw, new Set(own(target)));
      const at = forward.index + forward[0].indexOf(forward[4], forward[0].indexOf(forward[3]) + forward[3].length);
      const args = splitTop(forward[4], f.raw.slice(at, at + forward[4].length));
      const bound = new Map(own(target).map((p, i) => [p, args[i]]));
      // the guard's parameters bound to this function's parameters as they are, or to constants
      const plain = (a: string | undefined) =>
        a !== undefined && a !== forward[1] && /^(?:[A-Za-z_]\w*|-?[0-9]+)$/.test(a);
      if (inner && args.length === own(target).length) {
        const read = namesIn(maskLiterals(inner.guard)).filter((n) => bound.has(n));
        if (
          read.every((n) => plain(bound.get(n)) && (names.includes(bound.get(n)!) || !/^[a-z_]/.test(bound.get(n)!)))
        ) {
          const guard = inner.guard.replace(/\b[A-Za-z_]\w*\b/g, (n) => (bound.has(n) ? bound.get(n)! : n));
          entry = { ...logEntry(name, names, f.params, true, guard), after: forward[3] };
        }
      }
    }
    if (entry) out[name] = entry;
  }
  return out;
}

/** The entries with their file set (the scan's path): where the twins go. */
export function fileOf(logs: Record<string, GuardedLog | null>, file: string): Record<string, GuardedLog | null> {
  return Object.fromEntries(Object.entries(logs).map(([name, log]) => [name, log && { ...log, file }]));
}

/** What the planner needs of a project's facts: its guarded log functions, and the macros that are one call of one. */
export function guardedLogFacts(
  facts: ProjectFacts | undefined,
  callMacros: ProjectFacts['callMacros'] = {},
): { guardedLogs: Map<string, GuardedLog>; logMacros: Map<string, CallMacro> } {
  const logs = Object.entries(facts?.guardedLogs ?? {}).flatMap(([n, l]) => (l ? [[n, l] as const] : []));
  const guardedLogs = new Map(logs);
  const logMacros = new Map(
    Object.entries(callMacros).flatMap(([n, m]) => (m && guardedLogs.has(m.call) ? [[n, m] as const] : [])),
  );
  return { guardedLogs, logMacros };
}

function logEntry(name: string, names: string[], declarations: string[], variadic: boolean, guard: string): GuardedLog {
  const read = namesIn(maskLiterals(guard));
  return {
    file: '',
    after: name,
    names,
    declarations,
    variadic,
    guard,
    reads: names.filter((n) => read.includes(n)),
    globals: [...new Set(read.filter((n) => !names.includes(n)))].sort(),
  };
}

const twins = new Map<string, Twin>();

/** The twin of a guarded log function: `NAME__forkexec_record(fx, …the parameters its guard reads)`. */
function guardTwin(name: string, log: GuardedLog): Twin {
  const key = `${log.file}\0${name}`;
  const made = twins.get(key);
  if (made) return made;
  const twinName = `${name}${TWIN_SUFFIX}`;
  const params = ['forkexec_actions *fx', ...log.reads.map((r) => log.declarations[log.names.indexOf(r)])];
  const head = `void\n${twinName}(${params.join(', ')})`;
  const twin: Twin = {
    helper: log.after,
    file: log.file,
    name: twinName,
    prototype: `void ${twinName}(${params.join(', ')});`,
    definition: [
      `/* ${name}() as the fork's child runs it (forkexec codemod): it writes nothing while its guard holds, so the`,
      ` * fast path goes on; otherwise the slow path's child writes it. */`,
      head,
      '{',
      `\tif (${log.guard})`,
      '\t\treturn;',
      `\t${CANCEL};`,
      '}',
    ].join('\n'),
    performs: [],
    reads: log.globals,
    writes: [],
    asks: false,
    integer: false,
  };
  twins.set(key, twin);
  return twin;
}

/** `(x)` unless a name or a number. */
function parenthesized(text: string): string {
  return /^(?:[A-Za-z_]\w*|-?[0-9]+)$/.test(text) ? text : `(${text})`;
}

/** The function's arguments as a macro that is one call of it writes them, its parameters bound to the call's
 * (`__VA_ARGS__` for the rest); null: the call does not fit the macro. */
function expand(macro: CallMacro, texts: string[]): string[] | null {
  const variadic = macro.params.at(-1) === '...';
  const named = variadic ? macro.params.slice(0, -1) : macro.params;
  if (variadic ? texts.length < named.length : texts.length !== named.length) return null;
  const bound = new Map(named.map((p, i) => [p, texts[i]]));
  const rest = texts.slice(named.length);
  const out: string[] = [];
  for (const a of macro.args) {
    if (/^(?:##\s*)?__VA_ARGS__$/.test(a)) out.push(...rest);
    else if (/__VA_ARGS__|#/.test(a)) return null;
    else
      out.push(
        a.replace(/(\.|->)?(\s*)\b([A-Za-z_]\w*)\b/g, (all, member, space, n) =>
          !member && bound.has(n) ? space + parenthesized(bound.get(n)!) : all,
        ),
      );
  }
  return out;
}

/** Why an argument the fast path may skip cannot be skipped (a call with an effect, a write); null: it can. */
function effectOf(p: Planner, text: string): string | null {
  const masked = maskLiterals(text);
  if (WRITE.test(masked)) return 'writes memory';
  for (const [, n] of masked.matchAll(/\b([A-Za-z_]\w*)\s*\(/g))
    if (n !== 'sizeof' && !SKIPPABLE_CALLS.has(n) && !p.pureReads.get(n)) return `calls ${n}()`;
  return null;
}

/**
 * `debug3("…", shell, args);` in the child, debug3 a macro for a guarded log function of another file (or a call of
 * one): the recording calls its twin with the arguments its guard reads. True when handled (recorded or refused).
 */
export function recordGuardedLog(p: Planner, name: string, call: Node): boolean {
  const macro = p.logMacros.get(name);
  const fn = macro ? macro.call : name;
  const log = p.guardedLogs.get(fn);
  if (!log || !log.file || p.helpers.has(fn) || p.twinHelpers.has(fn)) return false;
  const what = macro ? `${name}(), a macro for ${fn}() of another file,` : `${fn}(), a log function of another file,`;
  if (p.subst.size)
    return (p.block(`${what} in ${p.inlining.at(-1)}(): the helper's arguments are the caller's`), true);
  if (p.vfork) return (p.block(`${what} in a vfork child: its twin would run on the stack the child shares`), true);
  const written = callArgs(call).map((a) => p.text(a));
  const args = macro ? expand(macro, written) : written;
  if (!args || args.length < log.names.length || (!log.variadic && args.length !== log.names.length))
    return (p.block(`${what} in the child: its arguments do not match its parameters`), true);
  // skipped while the guard holds: each argument must be one whose evaluation changes nothing
  for (const a of args) {
    const effect = effectOf(p, a);
    if (effect)
      return (
        p.block(`${what} in the child: its argument ${a.split('\n')[0]} ${effect}, which the fast path would skip`),
        true
      );
  }
  const used = log.reads.map((r) => args[log.names.indexOf(r)]);
  for (const a of used)
    if (/\b[A-Za-z_]\w*\s*\(/.test(maskLiterals(a).replace(/\bsizeof\s*\(/g, '')))
      return (p.block(`${what} in the child: its guard reads ${a}, a call the parent would make`), true);
  if (
    !p.readsNames(
      used.flatMap((a) => namesIn(maskLiterals(a))),
      `${name}()`,
    )
  )
    return true;
  if (!p.readsNames(log.globals, `${name}(), whose guard in ${fn}()'s file`, false)) return true;
  const twin = guardTwin(fn, log);
  p.actions.push(`${twin.name}(${['fx', ...used].join(', ')})`);
  p.twins.set(twin.name, twin);
  return true;
}
