import type { Node } from './syntax-tree.js';
import { failureTests } from './actions.js';
import { type ActionEntry, CANCEL } from './action-entry.js';
import { branchOn, recordPath } from './branch-recording.js';
import { baseName } from './child-statements.js';
import { pureCondition } from './parent-answers.js';
import type { Planner } from './recorder.js';
import {
  blockStatements,
  calledNames,
  callArgs,
  calleeName,
  identifiers,
  parameterList,
  statementCall,
  unparen,
} from './syntax.js';

// A project function the child calls, recorded as its statements with the parameters bound to the arguments.

/**
 * A function of p file that the child calls: its statements are the child's, with the parameters bound to the
 * arguments, when they are only actions, conditions and loops (no memory of its own, no early return).
 */
/** How the child tests a helper's result: `== -1` (failure is -1), or `if (h())` (success is 0). */
export type HelperTest = 'minus-one' | 'nonzero';

export function inlineHelper(
  p: Planner,
  name: string,
  def: Node,
  args: Node[],
  tested: HelperTest | false = false,
): void {
  const params = parameterList(def);
  if (!params || params.length !== args.length)
    return p.block(`${name}() in the child: its parameters do not match the call`);
  if (args.some((a) => calledNames(a).length || !p.reads(a)))
    return p.block(`${name}() in the child: its arguments call functions`);
  const body = blockStatements(def.childForFieldName('body')!);
  const last = body.at(-1)?.type === 'return_statement' ? body.pop()! : null;
  const returned = last?.namedChild(0) ?? null;
  const early = body.find((st) => leavesOutsideFailureBranches(st, true));
  if (early)
    return p.block(
      `${name}() in the child returns early (${firstLine(early)}): only its straight-line actions can be recorded`,
    );
  if (returned && calledNames(returned).length)
    return p.block(`${name}() in the child returns what a call computes: only its actions can be recorded`);
  const locals = helperLocals(body, returned);
  if (!locals) return p.block(`${name}() in the child computes memory of its own`);
  const unset = locals.signals
    .filter((l) => !l.zeroed)
    .map((l) => ({ name: l.name, use: firstUseUnset(body, l.name) }))
    .find((l) => l.use);
  if (unset)
    return p.block(
      `${name}() uses ${unset.name} before it sets it (${unset.use}): the copy would hold other indeterminate bytes`,
    );
  if (p.vfork && locals.signals.length)
    return p.block(`${name}() builds a ${locals.signals[0].type} in a vfork child, on the stack it shares`);
  const success = returned ? successValue(returned, locals.values, body) : NaN;
  if (tested === 'minus-one' && !(success >= 0))
    return p.block(`${name}()'s result is tested in the child: the rewrite cannot show it is not -1 on success`);
  if (tested === 'nonzero' && success !== 0)
    return p.block(`${name}()'s result is tested in the child: the rewrite cannot show it is 0 on success`);
  // the helper's own names (its locals and parameters) mean nothing after it: their state is the caller's again
  const own = [...locals.names, ...locals.signals.map((l) => l.name), ...params];
  const before = own.map((n) => [n, p.known.get(n), p.changed.get(n)] as const);
  const savedSubst = p.subst;
  const hoisted = p.hoisted.length;
  p.subst = new Map(params.map((param, i) => [param, p.text(args[i])]));
  for (const local of locals.names) {
    p.helperLocals.add(local);
    p.known.delete(local);
    p.changed.set(local, `a local of ${name}()`);
  }
  // its struct sigaction and sigset_t: the recording's own copies, written as the helper writes them
  const shadowed = locals.signals.map((l) => [l.name, p.shadows.get(l.name)] as const);
  for (const l of locals.signals) {
    const copy = `fx_sig${++p.signalCopies}`;
    p.declarations.push(`${l.type} ${copy}${l.zeroed ? ` = ${l.zeroed}` : ''};`);
    p.helperCopies.add(l.name);
    p.shadows.set(l.name, copy);
    p.changed.delete(l.name);
  }
  p.inlining.push(name);
  recordBody(
    p,
    name,
    body.filter((st) => !locals.declarations.includes(st)),
    tested,
  );
  p.inlining.pop();
  p.subst = savedSubst;
  for (const local of locals.names) p.helperLocals.delete(local);
  for (const [local, before] of shadowed) {
    p.helperCopies.delete(local);
    if (before === undefined) p.shadows.delete(local);
    else p.shadows.set(local, before);
  }
  for (const [n, known, changed] of before) {
    if (known === undefined) p.known.delete(n);
    else p.known.set(n, known);
    if (changed === undefined) p.changed.delete(n);
    else p.changed.set(n, changed);
  }
  if (p.hoisted.length !== hoisted) p.block(`${name}() in the child computes memory of its own`);
}

/**
 * The helper's statements, an early return (`if (to == from) return 0;`) recorded as a branch on its condition: the
 * parent evaluates it as the child would (it reads only the parameters and memory the child shares), and on that
 * branch records what the caller does with the value returned; the rest of the body is the other branch.
 */
function recordBody(p: Planner, name: string, list: Node[], tested: HelperTest | false): void {
  const i = list.findIndex((st) => earlyReturn(st) !== null);
  if (i < 0) return p.statements(list);
  p.statements(list.slice(0, i));
  const early = earlyReturn(list[i])!;
  const then = callerReaction(p, name, early.value, tested);
  if (!then || !pureCondition(p, early.condition)) return;
  const otherwise = recordPath(
    p,
    () => recordBody(p, name, list.slice(i + 1), tested),
    `${name}() in the child computes memory after an early return`,
  );
  // nothing to do on the early return's side (a success the caller goes on from): the rest under the negation
  if (then.length) branchOn(p, p.text(early.condition), then, otherwise);
  else branchOn(p, `!(${p.text(early.condition)})`, otherwise, []);
}

/**
 * `if (cond) return v;` (no else) whose condition is no failure test: the helper's path ends there with v. Null for
 * any other statement.
 */
function earlyReturn(st: Node): { condition: Node; value: Node | null } | null {
  if (st.type !== 'if_statement' || st.childForFieldName('alternative')) return null;
  const condition = unparen(st.childForFieldName('condition')!);
  if (failureTests(condition)) return null;
  let then = st.childForFieldName('consequence')!;
  if (then.type === 'compound_statement') {
    const inner = blockStatements(then);
    if (inner.length !== 1) return null;
    then = inner[0];
  }
  return then.type === 'return_statement' ? { condition, value: then.namedChild(0) } : null;
}

/**
 * What the caller does when the helper returns value: nothing when it ignores the result, or when its test of the
 * result (`== -1` or `< 0`; `if (h())`) is false; its failure branch, which the slow path runs as written (a
 * cancel), when the test is true. Null, refused, when the value is not a number that decides the test.
 */
function callerReaction(
  p: Planner,
  name: string,
  value: Node | null,
  tested: HelperTest | false,
): ActionEntry[] | null {
  if (!tested) return [];
  const text = value ? unparen(value).text.replace(/\s+/g, '') : '';
  const n = /^-?[0-9]+$/.test(text) ? Number(text) : NaN;
  if (tested === 'minus-one' && (n === -1 || n >= 0)) return n === -1 ? [CANCEL] : [];
  if (tested === 'nonzero' && Number.isInteger(n)) return n === 0 ? [] : [CANCEL];
  p.block(`${name}() returns ${text || 'nothing'} early, which the child tests: the rewrite cannot tell its outcome`);
  return null;
}

/** Does st leave the function, other than inside the branch of a failure test (which only the slow path runs) or as
 * an early return at the top of its body (recordBody)? */
function leavesOutsideFailureBranches(st: Node, top = false): boolean {
  if (top && earlyReturn(st)) return false;
  if (st.type === 'return_statement' || st.type === 'goto_statement') return true;
  if (
    st.type === 'if_statement' &&
    !st.childForFieldName('alternative') &&
    failureTests(st.childForFieldName('condition')!)
  )
    return false;
  return st.namedChildren.some((n) => !!n && leavesOutsideFailureBranches(n));
}

/**
 * A helper's own locals that are not copied in front: declarations without a value (an fd an open() stores) or with a
 * number (the value it returns). Null: it declares something else, memory of its own.
 */
function helperLocals(
  body: Node[],
  returned: Node | null,
): { names: string[]; values: Map<string, string>; declarations: Node[]; signals: SignalLocal[] } | null {
  const names: string[] = [];
  const values = new Map<string, string>();
  const signals: SignalLocal[] = [];
  const declarations = body.filter((st) => st.type === 'declaration');
  for (const st of declarations) {
    const type = st.childForFieldName('type')!.text.replace(/\s+/g, ' ');
    if (!SIGNAL_TYPES.has(type) || st.text.includes('const') || st.text.includes('static')) continue;
    for (const d of st.childrenForFieldName('declarator')) {
      const value = d?.type === 'init_declarator' ? d.childForFieldName('value')! : null;
      const target = value ? d!.childForFieldName('declarator')! : d;
      if (target?.type !== 'identifier' || (value && !ZEROED.test(value.text))) return null;
      signals.push({ name: target.text, type, zeroed: value?.text ?? null });
    }
  }
  for (const d of declarations
    .filter((st) => !SIGNAL_TYPES.has(st.childForFieldName('type')!.text.replace(/\s+/g, ' ')))
    .flatMap((st) => st.childrenForFieldName('declarator'))) {
    if (d?.type === 'identifier') names.push(d.text);
    else if (d?.type === 'init_declarator' && d.childForFieldName('declarator')?.type === 'identifier') {
      const value = d.childForFieldName('value')!;
      if (!/^-?[0-9]+$/.test(value.text.replace(/\s+/g, ''))) return null;
      names.push(d.childForFieldName('declarator')!.text);
      values.set(names.at(-1)!, value.text.replace(/\s+/g, ''));
    } else return null;
  }
  if (returned && identifiers(returned).some((id) => !names.includes(id) && !/^[A-Z_][A-Z0-9_]*$/.test(id)))
    return null;
  return { names, values, declarations, signals };
}

/** An initializer that clears the whole local, but a handler it names (nnn's `{.sa_handler = SIG_DFL}`): the copy,
 * declared with it, holds what the child's does. */
const ZEROED = /^\{\s*(?:0?|\.sa_handler\s*=\s*SIG_(?:DFL|IGN)\s*,?)\s*\}$/;

/** The local types a helper may build for its signal calls (mutt_sig_reset_child_signals' `struct sigaction`). */
const SIGNAL_TYPES = new Set(['struct sigaction', 'sigset_t']);

interface SignalLocal {
  name: string;
  type: string;
  /** Its initializer, `{ 0 }` or `{ .sa_handler = SIG_DFL }`, when it has one. */
  zeroed: string | null;
}

/**
 * Is local set before anything reads it, on the helper's straight path: its first statement that names it, at the
 * top of the body, is `memset(&x, 0, …)`, `sigemptyset(&x)`/`sigfillset(&x)` or a write of a field; and a struct
 * sigaction's flags are set (or it is cleared whole) before a call reads it. The copy then holds what the child's does.
 * Null when it is; otherwise the first statement that reads it unset (finit's `DFLSIG(sa, i, 0)`, a macro in a loop).
 */
function firstUseUnset(body: Node[], local: string): string | null {
  const names = (st: Node) => identifiers(st).includes(local);
  let cleared = false;
  let flags = false;
  let handler = false;
  for (const st of body) {
    if (st.type === 'declaration' || !names(st)) continue;
    const call = statementCall(st);
    const callee = call && calleeName(call);
    const first = call && unparen(callArgs(call)[0] ?? call).text.replace(/\s+/g, '');
    const e = !call && st.type === 'expression_statement' ? unparen(st.namedChild(0)!) : null;
    if ((callee === 'memset' || callee === 'sigemptyset' || callee === 'sigfillset') && first === `&${local}`) {
      cleared = true;
      continue;
    }
    if (callee === 'sigemptyset' || callee === 'sigfillset' || callee === 'sigaddset' || callee === 'sigdelset') {
      if (first === `&${local}.sa_mask` || (first === `&${local}` && cleared)) continue;
      return firstLine(st);
    }
    if (e?.type === 'assignment_expression') {
      const left = e.childForFieldName('left')!;
      if (left.type === 'field_expression' && left.childForFieldName('argument')?.text === local) {
        flags ||= left.childForFieldName('field')?.text === 'sa_flags';
        handler ||= left.childForFieldName('field')?.text === 'sa_handler';
        continue;
      }
    }
    // any other statement that names it reads it: a struct sigaction needs its flags, a sigset_t all of it
    if (!cleared && !(flags && handler)) return firstLine(st);
  }
  return null;
}

/**
 * What the helper returns when none of its actions failed: `return 0;`, or `return ret;` where ret starts as a number
 * and is assigned only in failure branches (which the fast path never runs). NaN when it cannot tell.
 */
function successValue(returned: Node, values: Map<string, string>, body: Node[]): number {
  const r = unparen(returned);
  if (/^-?[0-9]+$/.test(r.text.replace(/\s+/g, ''))) return Number(r.text.replace(/\s+/g, ''));
  if (r.type !== 'identifier' || !values.has(r.text)) return NaN;
  const outside = (n: Node): boolean => {
    if (
      n.type === 'if_statement' &&
      !n.childForFieldName('alternative') &&
      failureTests(n.childForFieldName('condition')!)
    )
      return false;
    if (
      (n.type === 'assignment_expression' && baseName(n.childForFieldName('left')!) === r.text) ||
      (n.type === 'update_expression' && baseName(n.childForFieldName('argument')!) === r.text) ||
      (n.type === 'pointer_expression' &&
        n.child(0)?.type === '&' &&
        baseName(n.childForFieldName('argument')!) === r.text)
    )
      return true;
    return n.namedChildren.some((c) => !!c && outside(c));
  };
  return body.some(outside) ? NaN : Number(values.get(r.text));
}

/** A statement as a reason quotes it: its first line. */
function firstLine(st: Node): string {
  return st.text.split('\n')[0].trim();
}
