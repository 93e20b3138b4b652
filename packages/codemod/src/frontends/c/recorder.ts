import type { Node } from './syntax-tree.js';
import type { ExecStart } from './plan.js';
import { actionFor, type FailureTest, failureTest, failureTests, isNullPointer } from './actions.js';
import { CHANGED_BY, type GuardedMacro, SAME_IN_PARENT } from './facts.js';
import { openIdiom } from './open-idiom.js';
import { signalWrapper } from './signal-wrapper.js';
import { EXEC_CALLS, EXIT_CALLS, NORETURN_CALLS, operationOf, STRING_WRITES } from './operations.js';
import {
  blockStatements,
  callArgs,
  calledNames,
  calleeName,
  callsUnder,
  identifiers,
  parameterList,
  preprocStatements,
  statementCall,
  unparen,
} from './syntax.js';

// Records, in the parent, what a fork's child does up to its exec: the action list of the fast path.

/** A forkexec_* call, a branch on a condition whose value the parent knows just as well, or a loop of its own. */
export type ActionEntry =
  | string
  | { exec: Node; start?: ExecStart }
  | { condition: string; then: ActionEntry[]; otherwise: ActionEntry[] }
  | { loop: string; body: ActionEntry[] }
  | { preprocessor: { directive: string; body: ActionEntry[] }[] };

/** untilExec's answer when the child execs in each branch of an `if`: the exec entries are in the action list. */
export const BRANCHED = 'branched';

/** The cancel entry: this path of the child does not reach the exec, so only the slow path can run it. */
const CANCEL = 'forkexec_cancel(fx)';
const HOISTABLE_ALLOC = new Set(['malloc', 'calloc', 'strdup', 'strndup']);
/** Memory-only calls whose first argument is the memory they write. */
const WRITES_FIRST_ARG = new Set([...STRING_WRITES, 'sigemptyset', 'sigfillset', 'sigaddset', 'sigdelset']);
/** The names the recording code declares. */
const OWN_NAMES = /^(?:fx|fx_argv|fx_pid|fx_fd[0-9]*)$/;

/** The variable at the root of an lvalue: `args[i]` → args, `&set` → set, `rl.rlim_cur` → rl, `*p` → p. */
function baseName(node: Node): string | null {
  let n = unparen(node);
  for (;;) {
    if (n.type === 'identifier') return n.text;
    if (n.type === 'subscript_expression' || n.type === 'field_expression' || n.type === 'pointer_expression')
      n = unparen(n.childForFieldName('argument')!);
    else return null;
  }
}

/** Does this statement end the child's path here (exit, return, jump, a call that never returns)? */
function leaves(stmt: Node, noreturn: Set<string>): boolean {
  if (stmt.type === 'compound_statement') {
    const list = blockStatements(stmt);
    return list.length > 0 && leaves(list.at(-1)!, noreturn);
  }
  if (['return_statement', 'goto_statement', 'break_statement', 'continue_statement'].includes(stmt.type)) return true;
  const name = statementCall(stmt) && calleeName(statementCall(stmt)!);
  return !!name && (EXIT_CALLS.has(name) || NORETURN_CALLS.has(name) || noreturn.has(name));
}

/** Walks the child's statements before the exec; `blockers` says why they cannot be recorded exactly. */
export class Planner {
  readonly blockers: string[] = [];
  readonly hoisted: Node[] = [];
  readonly frees: string[] = [];
  actions: ActionEntry[] = [];
  /** Locals the child declares, whose computation is copied in front. */
  readonly locals = new Set<string>();
  /** Variables the child changed without the copy seeing it: nothing recorded may read them. */
  readonly changed = new Map<string, string>();
  /** Child locals that recorded actions already read: a later change would reach them too early. */
  readonly read = new Set<string>();
  usesEnvActions = false;
  /** The kinds of action recorded so far (`dup2`, `chdir`…), on any path. */
  readonly performed = new Set<string>();
  /** While a helper of the file is inlined: its parameters → the caller's arguments (as C text, checked on entry). */
  subst = new Map<string, string>();
  readonly inlining: string[] = [];
  /** Child variables whose value the parent knows as C text (the fd an open() returns: fx_fd). */
  readonly known = new Map<string, string>();
  /** Locals of an inlined helper that are not copied (its fd, its return value): nothing else may read them. */
  readonly helperLocals = new Set<string>();
  /** Declarations of the recording's own variables (fx_fd). */
  readonly declarations: string[] = [];

  constructor(
    readonly vfork: boolean,
    readonly noreturn: Set<string>,
    forkVariable: string | null,
    readonly helpers: Map<string, Node>,
    /** Functions that may be signal wrappers (signal-wrapper.ts). */
    readonly signalWrappers: Map<string, Node>,
    /** Macros that stand for calls (facts.ts): name → the functions they call, or null. */
    readonly callMacros: Map<string, string[] | null> = new Map(),
    /** Macros that act only under a condition (facts.ts): name → parameters and condition, or null. */
    readonly guardedMacros: Map<string, GuardedMacro | null> = new Map(),
    /** Macros whose body is a bare `if` (facts.ts). */
    readonly danglingMacros: Set<string> = new Set(),
  ) {
    const pid = forkVariable && /^[A-Za-z_]\w*/.exec(forkVariable)?.[0];
    if (pid) this.changed.set(pid, 'the pid the fork returned');
  }

  block(why: string): void {
    if (!this.blockers.includes(why)) this.blockers.push(why);
  }

  /** The parent reads node in front of the fork: it must see what the child would. byAction: an action reads it (the
   * copied computations all run before the actions, so a later change of a local would reach the action too early). */
  reads(node: Node, byAction = true): boolean {
    return this.readsNames(identifiers(node), node.text, byAction);
  }

  readsNames(ids: string[], what: string, byAction = true): boolean {
    const first = what.split('\n')[0];
    for (const id of ids) {
      if (this.subst.has(id)) continue; // the argument was read where the helper was called
      // an action's text names the parent's value (text()); copied code runs as written, where the child's is not
      if (this.known.has(id) && byAction) continue;
      if (this.known.has(id)) {
        this.block(`${first} reads ${id}, the fd the child's open() returns: only an action may`);
        return false;
      }
      const why = this.changed.get(id);
      if (why !== undefined) {
        this.block(`${first} reads ${id}, ${why}: the parent would see another value`);
        return false;
      }
      if (OWN_NAMES.test(id)) {
        this.block(`the child uses ${id}, a name the rewrite declares`);
        return false;
      }
      if (byAction && this.locals.has(id)) this.read.add(id);
    }
    return true;
  }

  /** The C text of a node, with an inlined helper's parameters replaced by the caller's arguments. */
  text(node: Node): string {
    if (!this.subst.size && !this.known.size) return node.text;
    const ids = (node.type === 'identifier' ? [node] : node.descendantsOfType('identifier').map((n) => n!))
      .filter((n) => this.subst.has(n.text) || this.known.has(n.text))
      .sort((x, y) => y.startIndex - x.startIndex);
    let out = node.text;
    for (const id of ids) {
      const arg = this.subst.get(id.text) ?? this.known.get(id.text)!;
      const value = /^(?:[A-Za-z_]\w*|[0-9]+|"(?:[^"\\]|\\.)*")$/.test(arg) ? arg : `(${arg})`;
      const at = id.startIndex - node.startIndex;
      out = out.slice(0, at) + value + out.slice(at + id.text.length);
    }
    return out;
  }

  /**
   * A function of this file that the child calls: its statements are the child's, with the parameters bound to the
   * arguments, when they are only actions, conditions and loops (no memory of its own, no early return).
   */
  inline(name: string, def: Node, args: Node[], tested = false): void {
    const params = parameterList(def);
    if (!params || params.length !== args.length)
      return this.block(`${name}() in the child: its parameters do not match the call`);
    if (args.some((a) => calledNames(a).length || !this.reads(a)))
      return this.block(`${name}() in the child: its arguments call functions`);
    const body = blockStatements(def.childForFieldName('body')!);
    const last = body.at(-1)?.type === 'return_statement' ? body.pop()! : null;
    const returned = last?.namedChild(0) ?? null;
    if (body.some((st) => leavesOutsideFailureBranches(st)))
      return this.block(`${name}() in the child returns early: only its straight-line actions can be recorded`);
    if (returned && calledNames(returned).length)
      return this.block(`${name}() in the child returns what a call computes: only its actions can be recorded`);
    const locals = helperLocals(body, returned);
    if (!locals) return this.block(`${name}() in the child computes memory of its own`);
    if (tested && !(returned && successValue(returned, locals.values, body) >= 0))
      return this.block(`${name}()'s result is tested in the child: the rewrite cannot show it is not -1 on success`);
    // the helper's own names (its locals and parameters) mean nothing after it: their state is the caller's again
    const own = [...locals.names, ...params];
    const before = own.map((n) => [n, this.known.get(n), this.changed.get(n)] as const);
    const savedSubst = this.subst;
    const hoisted = this.hoisted.length;
    this.subst = new Map(params.map((p, i) => [p, this.text(args[i])]));
    for (const local of locals.names) {
      this.helperLocals.add(local);
      this.known.delete(local);
      this.changed.set(local, `a local of ${name}()`);
    }
    this.inlining.push(name);
    this.statements(body.filter((st) => !locals.declarations.includes(st)));
    this.inlining.pop();
    this.subst = savedSubst;
    for (const local of locals.names) this.helperLocals.delete(local);
    for (const [n, known, changed] of before) {
      if (known === undefined) this.known.delete(n);
      else this.known.set(n, known);
      if (changed === undefined) this.changed.delete(n);
      else this.changed.set(n, changed);
    }
    if (this.hoisted.length !== hoisted) this.block(`${name}() in the child computes memory of its own`);
  }

  /** Can this expression be evaluated in the parent, in front of the fork, with the same value and no effect? */
  pure(expr: Node): boolean {
    for (const name of calledNames(expr)) {
      if (!HOISTABLE_ALLOC.has(name) && !Object.hasOwn(SAME_IN_PARENT, name)) {
        this.block(`${name}() in the child's computations: its result may differ in the parent`);
        return false;
      }
    }
    if (!callsUnder(expr).every((c) => HOISTABLE_ALLOC.has(calleeName(c) ?? '') || this.sameInParent(c))) return false;
    if (expr.descendantsOfType(['assignment_expression', 'update_expression']).length) {
      this.block(`${expr.text.split('\n')[0]} changes memory inside an expression`);
      return false;
    }
    if (/\b(?:errno|getpid)\b/.test(identifiers(expr).join(' '))) {
      this.block(`${expr.text.split('\n')[0]} reads errno or the pid, which differ in the parent`);
      return false;
    }
    return this.reads(expr, false);
  }

  /** A write to a child local is copied in front, unless an action already read the local. */
  writeLocal(base: string, stmt: Node): void {
    if (this.read.has(base))
      return this.block(
        `the child changes ${base} after an action used it: computed in the parent first, the action would see the new value`,
      );
    this.hoisted.push(stmt);
  }

  /** A write to memory the child shares with no one (fork) or with the parent (vfork). */
  writeOther(base: string | null, stmt: Node): void {
    const target = stmt.text.split('\n')[0];
    if (this.subst.size) return this.block(`${target} in ${this.inlining.at(-1)}(): the helper writes memory`);
    if (this.vfork || !base) return this.block(`${target}: a vfork child writes the parent's memory`);
    // The fast path skips it (exec discards the child's memory); nothing recorded later may read it.
    this.changed.set(base, `which the child changed (${target})`);
  }

  declaration(stmt: Node): void {
    for (const d of stmt.childrenForFieldName('declarator')) {
      if (!d) continue;
      const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
      const target = d.type === 'init_declarator' ? d.childForFieldName('declarator')! : d;
      const name = identifiers(target)[0];
      if (!name) return this.block(`declaration ${stmt.text.split('\n')[0]} in the child`);
      const opened = value && unparen(value);
      if (opened?.type === 'call_expression' && calleeName(opened) === 'open' && target.type === 'identifier') {
        if (stmt.childrenForFieldName('declarator').length !== 1)
          return this.block(`${stmt.text.split('\n')[0]}: an open() among other declarations`);
        // not a copied local: the declaration stays the child's, and a later write of it is the child's alone
        return this.openOntoNext(target, opened, true);
      }
      if (value && !this.pure(value)) return;
      this.locals.add(name);
      this.changed.delete(name);
      if (value?.type === 'call_expression' && HOISTABLE_ALLOC.has(calleeName(value) ?? '')) this.frees.push(name);
    }
    this.hoisted.push(stmt);
  }

  statements(list: Node[]): void {
    for (let i = 0; i < list.length;) {
      const used = openIdiom(this, list, i);
      if (!used) this.statement(list[i]);
      i += used || 1;
    }
  }

  /** A child statement before the exec. */
  statement(stmt: Node): void {
    if (stmt.type === 'declaration') return this.declaration(stmt);
    if (stmt.type === 'compound_statement') return this.statements(blockStatements(stmt));
    if (['preproc_if', 'preproc_ifdef'].includes(stmt.type)) return this.preprocessor(stmt);
    if (stmt.type.startsWith('preproc_')) return this.block(`${stmt.text.split('\n')[0]} in the child`);
    if (stmt.type === 'for_statement') return this.loop(stmt);
    if (['while_statement', 'do_statement'].includes(stmt.type))
      return this.block('a while loop in the child: its actions depend on run-time data');
    if (stmt.type === 'if_statement') return this.conditional(stmt);
    if (stmt.type !== 'expression_statement') return this.block(`a ${stmt.type.replace(/_/g, ' ')} in the child`);
    const call = statementCall(stmt);
    if (call) return this.call(call, stmt);
    const e = unparen(stmt.namedChild(0)!);
    if (e.type === 'assignment_expression' || e.type === 'update_expression') {
      const target = e.childForFieldName(e.type === 'assignment_expression' ? 'left' : 'argument')!;
      const base = baseName(target);
      const right = e.type === 'assignment_expression' ? unparen(e.childForFieldName('right')!) : null;
      if (right?.type === 'call_expression' && calleeName(right) === 'open' && e.child(1)?.type === '=')
        return this.openOntoNext(target, right);
      if (base) this.known.delete(base);
      if (base && this.locals.has(base)) {
        if (!right || this.pure(right)) this.writeLocal(base, stmt);
        return;
      }
      if (right && calledNames(right).length)
        return this.block(`${stmt.text.split('\n')[0]} in the child calls a function`);
      return this.writeOther(base, stmt);
    }
    this.block(`statement ${stmt.text.split('\n')[0]} in the child`);
  }

  /**
   * Runs list's statements into a fresh action list; a path that leaves before the exec cancels the fast path, and so
   * does a path with something the parent cannot record (`if (debug) fprintf(stderr, …);`): the parent knows which
   * path the child takes, and on that one the slow path runs the original code, so nothing of it is recorded.
   */
  branch(node: Node | null | undefined, why: string): ActionEntry[] {
    const before = this.snapshot();
    const list = this.sub(() => {
      if (node && leaves(node, this.noreturn)) this.actions.push(CANCEL);
      else if (node) this.statements(statementsOf(node));
    }, why);
    if (this.blockers.length === before.blockers) return list;
    this.restore(before);
    return [CANCEL];
  }

  /** What recording a path may change, so a cancelled path leaves no trace: copied code, locals, blockers. */
  snapshot() {
    return {
      blockers: this.blockers.length,
      hoisted: this.hoisted.length,
      frees: this.frees.length,
      declarations: this.declarations.length,
      locals: new Set(this.locals),
      changed: new Map(this.changed),
      usesEnvActions: this.usesEnvActions,
    };
  }

  /** Back to a snapshot, keeping what only refuses more (variables the path changed, state it read or acted on). */
  restore(s: ReturnType<Planner['snapshot']>): void {
    this.blockers.length = s.blockers;
    this.hoisted.length = s.hoisted;
    this.frees.length = s.frees;
    this.declarations.length = s.declarations;
    for (const name of [...this.locals]) if (!s.locals.has(name)) this.locals.delete(name);
    for (const [name, why] of s.changed) if (!this.changed.has(name)) this.changed.set(name, why);
    this.usesEnvActions = s.usesEnvActions;
  }

  /**
   * Runs record into a fresh action list, one path's: what it copies in front would run on every path, so that
   * blocks with why; an fd it opens is known on that path only (after it, the variable may hold another value).
   */
  sub(record: () => void, why: string): ActionEntry[] {
    const saved = this.actions;
    const hoisted = this.hoisted.length;
    const known = new Set(this.known.keys());
    this.actions = [];
    record();
    const list = this.actions;
    this.actions = saved;
    if (this.hoisted.length !== hoisted) this.block(why);
    for (const name of [...this.known.keys()].filter((k) => !known.has(k))) {
      this.known.delete(name);
      this.changed.set(name, 'the fd an open() on one path of the child returned');
    }
    return list;
  }

  /**
   * `for (fd = 3; fd < getdtablesize(); fd++) close(fd);` is closefrom(3). `for (int i = 0; i < n; i++) close(fds[i]);`,
   * with its own counter and a body of actions, is the same loop run by the parent over the action list.
   */
  loop(stmt: Node): void {
    const init = stmt.childForFieldName('initializer');
    const cond = stmt.childForFieldName('condition');
    const update = stmt.childForFieldName('update');
    const body = stmt.childForFieldName('body')!;
    const bodyStmts = body.type === 'compound_statement' ? blockStatements(body) : [body];
    const counter = update?.type === 'update_expression' ? update.childForFieldName('argument')?.text : undefined;
    const single = bodyStmts.length === 1 ? statementCall(bodyStmts[0]) : null;
    if (counter && cond && single && calleeName(single) === 'close' && callArgs(single)[0]?.text === counter) {
      const start = /^(?:int\s+)?(\w+)\s*=\s*([0-9]+)\s*;?$/.exec(init?.text ?? '');
      const limit =
        cond.type === 'binary_expression' &&
        cond.childForFieldName('left')?.text === counter &&
        cond.childForFieldName('operator')?.type === '<'
          ? cond.childForFieldName('right')!.text.replace(/\s+/g, '')
          : '';
      if (
        start?.[1] === counter &&
        update!.text.includes('++') &&
        /^(?:getdtablesize\(\)|sysconf\(_SC_OPEN_MAX\)|OPEN_MAX)$/.test(limit)
      ) {
        if (!this.locals.has(counter)) this.writeOther(counter, stmt);
        this.record(`forkexec_closefrom(fx, ${start[2]})`);
        return;
      }
    }
    const declared = init?.type === 'declaration' ? init.descendantsOfType('identifier')[0]?.text : undefined;
    const steps = new RegExp(`^(?:(?:\\+\\+|--)${declared}|${declared}(?:\\+\\+|--)|${declared}\\s*[-+]=\\s*[0-9]+)$`);
    const ownCounter =
      !!declared &&
      !!update &&
      steps.test(update.text.trim()) &&
      !cond?.descendantsOfType(['assignment_expression', 'update_expression']).length;
    const impure = [init, cond, update].some(
      (n) => n && (n.descendantsOfType('call_expression').length > 0 || /\b(?:errno|environ)\b/.test(n.text)),
    );
    const headerNames = [init, cond, update].flatMap((n) => (n ? identifiers(n) : []));
    if (!ownCounter || impure || !init || this.subst.size || headerNames.some((id) => this.known.has(id)))
      return this.block(
        'a loop in the child over run-time state (a call, or a counter the parent would see change): its actions depend on it',
      );
    if (![cond, init.childForFieldName('declarator')].every((n) => !n || this.reads(n))) return;
    const header = stmt.text
      .slice(stmt.child(1)!.endIndex - stmt.startIndex, body.startIndex - stmt.startIndex)
      .replace(/\)\s*$/, '');
    this.locals.add(declared);
    const list = this.branch(body, 'a loop in the child computes memory: only actions may repeat');
    this.locals.delete(declared);
    if (list.includes(CANCEL)) return this.block('a loop in the child leaves before exec');
    this.actions.push({ loop: header, body: list });
  }

  /**
   * `if (fd != 1) { dup2(fd, 1); close(fd); }`: when the condition reads only memory (no calls, no writes, nothing the
   * child's earlier steps change), the parent evaluates it while it builds the actions, with the same result.
   * `if (chdir(dir) < 0) …` is the action; its failure takes the slow path, which runs the check as written.
   */
  conditional(stmt: Node): void {
    const condition = unparen(stmt.childForFieldName('condition')!);
    const alternative = stmt.childForFieldName('alternative')?.namedChildren.at(-1);
    const failing = failureTests(condition);
    if (failing && !alternative) return failing.forEach((t) => this.failureTestCall(t));
    if (this.danglingElse(stmt)) return;
    if (!this.pureCondition(condition)) return;
    const why = 'a conditional in the child computes memory: only actions may depend on a condition';
    const then = this.branch(stmt.childForFieldName('consequence'), why);
    const otherwise = this.branch(alternative, why);
    this.branchOn(this.text(condition), then, otherwise);
  }

  /**
   * `if (x) M(); else …` with a macro M whose body is a bare `if`: the else is the macro's, so the statement has
   * other paths than written. Refused outright (a cancelled path would not cover it).
   */
  danglingElse(stmt: Node): boolean {
    const consequence = stmt.childForFieldName('consequence');
    const call = consequence && statementCall(consequence);
    const name = call && calleeName(call);
    if (!stmt.childForFieldName('alternative') || !name) return false;
    if (this.danglingMacros.has(name))
      this.block(`${name}() before an else: the else binds to the if inside the macro`);
    // a name from outside the project may be such a macro too: only a known function's path may be cancelled
    else if (!this.knownFunction(name))
      this.block(`${name}() before an else: a macro of another project's header could take that else`);
    else return false;
    return true;
  }

  /** A function (or call-like macro) the rewrite knows: the C library's, the project's, or a macro for calls. */
  knownFunction(name: string): boolean {
    return (
      operationOf(name) !== null ||
      EXEC_CALLS.has(name) ||
      EXIT_CALLS.has(name) ||
      NORETURN_CALLS.has(name) ||
      this.noreturn.has(name) ||
      this.helpers.has(name) ||
      this.signalWrappers.has(name) ||
      Object.hasOwn(SAME_IN_PARENT, name) ||
      !!this.callMacros.get(name) ||
      !!this.guardedMacros.get(name)
    );
  }

  /** A call of a failure test: recorded as an action (its failure takes the slow path), under its guards. */
  failureTestCall({ call, guards, target }: FailureTest): void {
    if (!guards.length) return this.call(call, null, target);
    if (!guards.every((g) => this.pureCondition(g))) return;
    const then = this.sub(() => this.call(call, null, target), 'a guarded call in the child computes memory');
    this.branchOn(guards.map((g) => this.text(g)).join(' && '), then, []);
  }

  /** Records a branch the parent takes as the child would; a helper's flag bound to a number needs no `if (1)`. */
  branchOn(condition: string, then: ActionEntry[], otherwise: ActionEntry[]): void {
    const parts = condition.split(' && ');
    if (parts.every((p) => /^\(?\s*[0-9]+\s*\)?$/.test(p)))
      this.actions.push(...(parts.every((p) => /[1-9]/.test(p)) ? then : otherwise));
    else this.actions.push({ condition, then, otherwise });
  }

  /**
   * `fd = open(path, flags)` whose fd the child then uses (`dup2(fd, 0)`, `if (fd > 2) close(fd)`): open() returns
   * the lowest fd free in the child, which the parent computes from its own table and the actions so far
   * (forkexec_next_fd); the open is recorded onto that fd, and the child's uses of fd read the parent's number.
   */
  openOntoNext(target: Node, open: Node, declared = false): void {
    const name = target.type === 'identifier' ? target.text : null;
    const args = callArgs(open);
    if (!name || args.length < 2 || args.length > 3)
      return this.block(`${open.text.split('\n')[0]}: an open() whose fd the rewrite cannot name`);
    if (this.vfork && !declared && !this.locals.has(name) && !this.helperLocals.has(name))
      return this.block(`${name} = open(...): a vfork child writes the parent's memory`);
    if (/\bO_EXCL\b/.test(args[1].text))
      return this.block('open() with O_EXCL: its second run would fail where the first succeeded');
    if (args.some((a) => calledNames(a).length || !this.reads(a)))
      return this.block(`${name} = open(...) calls a function in its arguments`);
    const [path, flags, mode] = args.map((a) => this.text(a));
    const fd = this.openNext(path, flags, mode);
    this.known.set(name, fd);
    this.changed.delete(name);
  }

  /**
   * Records an open() onto the fd it returns in the child, the lowest free one there, which the parent computes from
   * its own table and the actions so far: `fx_fd = forkexec_next_fd(fx)` (fx_fd2… for later opens). Returns the name.
   */
  openNext(path: string, flags: string, mode = '0'): string {
    const fd = this.declarations.length ? `fx_fd${this.declarations.length + 1}` : 'fx_fd';
    this.declarations.push(`int ${fd} = -1;`);
    this.actions.push(`${fd} = forkexec_next_fd(fx)`);
    this.record(`forkexec_open(fx, ${fd}, ${path}, ${flags}, ${mode})`);
    return fd;
  }

  /** `#ifdef X … #else … #endif` in the child: the same directives around what each configuration records. */
  preprocessor(stmt: Node): void {
    const parts: { directive: string; body: ActionEntry[] }[] = [];
    const why = 'the child computes memory under #if: the copy in front would need the same directives';
    for (let n: Node | null = stmt; n; n = n.childForFieldName('alternative')) {
      const name = n.childForFieldName('name') ?? n.childForFieldName('condition');
      const directive = n.type === 'preproc_else' ? '#else' : `${n.child(0)!.text.trim()} ${name?.text ?? ''}`.trim();
      const part = n;
      parts.push({ directive, body: this.sub(() => this.statements(preprocStatements(part)), why) });
    }
    this.actions.push({ preprocessor: parts });
  }

  /** A condition the parent can evaluate with the child's result: it reads memory nothing changed, or calls that the
   * parent answers as the child would (facts.ts: SAME_IN_PARENT). */
  pureCondition(condition: Node): boolean {
    if (
      condition.descendantsOfType(['assignment_expression', 'update_expression']).length > 0 ||
      /\b(?:errno|environ)\b/.test(identifiers(condition).join(' '))
    ) {
      this.block('a conditional in the child tests run-time state (a write, errno, environ): its actions depend on it');
      return false;
    }
    return callsUnder(condition).every((c) => this.sameInParent(c)) && this.reads(condition);
  }

  /** A call the parent makes in front of the fork with the child's answer: no effect, and it reads only state that no
   * action recorded before it changes. */
  sameInParent(call: Node): boolean {
    const name = calleeName(call) ?? call.childForFieldName('function')!.text;
    const calls = this.callMacros.get(name);
    // `MY_GID(pw)` for `getgid()`: the parent expands the same macro, so it answers as the calls it stands for
    if (calls && !Object.hasOwn(SAME_IN_PARENT, name)) return calls.every((c) => this.answersInParent(c));
    return this.answersInParent(name);
  }

  answersInParent(name: string): boolean {
    const state = Object.hasOwn(SAME_IN_PARENT, name) ? SAME_IN_PARENT[name] : undefined;
    if (!state) {
      this.block(
        `a conditional in the child calls ${name}(), which has an effect or may answer otherwise in the parent`,
      );
      return false;
    }
    const changer = CHANGED_BY[state].find((a) => this.performed.has(a));
    if (changer) {
      this.block(`${name}() in the child reads its ${state} after its ${changer}(): the parent would answer before it`);
      return false;
    }
    return true;
  }

  /**
   * `DEBUG("x");` of a macro that acts only when its condition holds (`do { if (debug) { fprintf(…); } } while (0)`):
   * with the condition false it does nothing; with it true the slow path runs it. The condition, the parameters bound
   * to the call's arguments, must read only memory the parent sees as the child does.
   */
  guardedMacro(name: string, guard: GuardedMacro, call: Node): void {
    if (this.subst.size) return this.block(`${name}() in ${this.inlining.at(-1)}(): a macro that acts on a condition`);
    const args = callArgs(call).map((a) => this.text(a));
    const named = guard.params.filter((p) => p !== '...');
    let condition = guard.condition;
    for (const [i, p] of named.entries())
      condition = condition.replace(new RegExp(`\\b${p}\\b`, 'g'), () =>
        /^(?:[A-Za-z_]\w*|[0-9]+)$/.test(args[i] ?? '') ? args[i] : `(${args[i] ?? ''})`,
      );
    const code = condition.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
    const callIn = [...code.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)].find((m) => m[1] !== 'sizeof');
    if (callIn) return this.block(`${name}() in the child acts when ${condition}, which calls ${callIn[1]}()`);
    if (/(?:^|[^=!<>])=(?!=)|\+\+|--/.test(code))
      return this.block(`${name}() in the child acts when ${condition}, which changes memory`);
    const ids = [...code.matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b/g)].filter((m) => !m[1]).map((m) => m[2]);
    if (ids.includes('errno')) return this.block(`${name}() in the child acts when ${condition}, which reads errno`);
    if (
      !this.readsNames(
        ids.filter((id) => id !== 'sizeof'),
        `${name}()`,
        false,
      )
    )
      return;
    this.branchOn(condition, [CANCEL], []);
  }

  /** Appends an action and notes its kind, so that later conditions know what the child has changed by then. */
  record(action: string): void {
    this.performed.add(/^forkexec_(\w+)/.exec(action)![1]);
    this.actions.push(action);
  }

  /** A call in the child before exec; stmt is null for a call whose failure the child tests (target: where its
   * result is stored, `(fd = open(...)) == -1`). */
  call(call: Node, stmt: Node | null, target: Node | null = null): void {
    let name = calleeName(call);
    if (name === 'open' && target) return this.openOntoNext(target, call);
    if (target) return this.block(`${target.text} = ${name}(...) in the child: its result is the child's`);
    if (!name) return this.block(`a call through ${call.childForFieldName('function')!.text} in the child`);
    const guard = stmt ? this.guardedMacros.get(name) : undefined;
    if (guard) return this.guardedMacro(name, guard, call);
    let args = callArgs(call);
    if (WRITES_FIRST_ARG.has(name) && stmt) {
      const base = args[0] && baseName(args[0]);
      if (!args.slice(1).every((a) => this.pure(a))) return;
      if (base && this.locals.has(base)) return this.writeLocal(base, stmt);
      return this.writeOther(base, stmt);
    }
    if (name === 'free' && stmt) return this.writeOther(args[0] && baseName(args[0]), stmt);
    // an argument's call runs in the parent: only one that answers there as in the child (setgid(getgid()))
    // setpgid(0, getpid()) is the child's own pid, which actionFor writes as 0; anywhere else getpid() is the parent's
    const inner = args.flatMap((a) => callsUnder(a)).filter((c) => name !== 'setpgid' || c.text !== 'getpid()');
    const effect = inner.find(
      (c) => !Object.hasOwn(SAME_IN_PARENT, calleeName(c) ?? '') && !this.callMacros.get(calleeName(c) ?? ''),
    );
    if (effect)
      return this.block(
        `${name}() calls ${calleeName(effect) ?? effect.text}() in its arguments: it would run in the parent`,
      );
    if (!inner.every((c) => this.sameInParent(c))) return;
    if ((name === 'sigprocmask' || name === 'pthread_sigmask') && this.keepsOldMask(name, args)) return;
    if (name === 'close' && !stmt)
      return this.block('a checked close(): the child fails on EBADF, where the action ignores a closed fd');
    const wrapper = this.signalWrappers.get(name);
    const params = wrapper && stmt ? signalWrapper(wrapper) : null;
    const helper = this.helpers.get(name);
    if (params && /^SIG_(?:DFL|IGN)$/.test(args[params.handler]?.text ?? '')) {
      name = 'signal';
      args = [args[params.signal], args[params.handler]];
    } else if (helper && this.inlining.length < 2 && !this.inlining.includes(name))
      return this.inline(name, helper, args, !stmt);
    const mapped = actionFor(
      name,
      args.map((a) => this.text(a)),
    );
    if ('blocker' in mapped)
      return this.block(
        /printf|puts|write|perror|syslog|log|warn|err/.test(name)
          ? `${name}() writes before the exec: the fast path would not write it`
          : mapped.blocker,
      );
    if (!args.every((a) => a.text === 'getpid()' || this.reads(a))) return;
    if (name === 'setenv' || name === 'unsetenv') this.usesEnvActions = true;
    this.record(mapped.action);
  }

  /**
   * `sigprocmask(how, set, &old)`: the child writes its old mask into its own memory, which its exec discards; the
   * fast path does not write it, so nothing recorded after may read it. A NULL set only reads the mask: no action.
   * False: no old mask is asked for, the call is an action like any other.
   */
  keepsOldMask(name: string, args: Node[]): boolean {
    const old = args[2];
    if (!old || isNullPointer(old.text)) return false;
    const base = baseName(old);
    if (!base || this.subst.size || (this.vfork && !this.locals.has(base))) {
      this.block(`${name}() keeps the old mask in ${old.text}, which the child shares with the parent or a caller`);
      return true;
    }
    if (!isNullPointer(args[1].text)) {
      const mapped = actionFor(name, [args[0].text, this.text(args[1])]);
      if ('blocker' in mapped) {
        this.block(mapped.blocker);
        return true;
      }
      if (!this.reads(args[1])) return true;
      this.record(mapped.action);
    }
    this.changed.set(base, `which the child's ${name}() wrote (the old mask)`);
    return true;
  }

  /**
   * `if (full) execlp(a…); else execlp(b…);`: an exec in each branch, under a condition the parent evaluates as the
   * child would. Each branch records its own actions and ends in its own fork_before_exec (an exec entry).
   */
  execInBoth(condition: Node, consequence: Node, alternative: Node): typeof BRANCHED | null {
    if (!this.pureCondition(condition)) return null;
    const branch = (node: Node): ActionEntry[] =>
      this.sub(() => {
        const found = this.untilExec(statementsOf(node));
        if (found && found !== BRANCHED) this.actions.push({ exec: found });
      }, 'a conditional in the child computes memory: only actions may depend on a condition');
    const then = branch(consequence);
    const otherwise = branch(alternative);
    this.actions.push({ condition: this.text(condition), then, otherwise });
    return BRANCHED;
  }

  /**
   * Records the child's statements up to its first exec and returns that exec call. An exec inside one branch of an
   * `if` on memory (`if (!log) { …; execvp(…); }`) is recorded under the same condition; the other branch cancels.
   */
  untilExec(list: Node[]): Node | typeof BRANCHED | null {
    const i = list.findIndex(hasExec);
    if (i < 0) return null;
    this.statements(list.slice(0, i));
    const s = list[i];
    const exec = leadingExec(s);
    if (exec) return exec;
    if (s.type === 'compound_statement') return this.untilExec(blockStatements(s));
    const consequence = s.type === 'if_statement' ? s.childForFieldName('consequence') : null;
    const alternative = s.childForFieldName('alternative')?.namedChildren.at(-1);
    const condition = s.type === 'if_statement' ? unparen(s.childForFieldName('condition')!) : null;
    const inThen = !!consequence && hasExec(consequence);
    if (s.type === 'if_statement' && this.danglingElse(s)) return null;
    if (condition && inThen && alternative && hasExec(alternative) && !hasExec(condition) && !failureTest(condition))
      return this.execInBoth(condition, consequence!, alternative);
    if (!condition || hasExec(condition) || (inThen && alternative && hasExec(alternative)) || failureTest(condition)) {
      this.block(
        s.type.startsWith('preproc_')
          ? 'the exec sits inside #if/#ifdef: each configuration needs its own rewrite'
          : "the child's exec is not the first thing its statement does",
      );
      return null;
    }
    if (!this.pureCondition(condition)) return null;
    let found: Node | typeof BRANCHED | null = null;
    const recorded = this.sub(() => {
      found = this.untilExec(statementsOf(inThen ? consequence! : alternative!));
    }, 'a conditional in the child computes memory: only actions may depend on a condition');
    this.actions.push({
      condition: this.text(condition),
      then: inThen ? recorded : [CANCEL],
      otherwise: inThen ? [CANCEL] : recorded,
    });
    return found;
  }
}

/** Does st leave the function, other than inside the branch of a failure test (which only the slow path runs)? */
function leavesOutsideFailureBranches(st: Node): boolean {
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
): { names: string[]; values: Map<string, string>; declarations: Node[] } | null {
  const names: string[] = [];
  const values = new Map<string, string>();
  const declarations = body.filter((st) => st.type === 'declaration');
  for (const d of declarations.flatMap((st) => st.childrenForFieldName('declarator'))) {
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
  return { names, values, declarations };
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

/** The statements of a branch. */
function statementsOf(node: Node): Node[] {
  return node.type === 'compound_statement' ? blockStatements(node) : [node];
}

function hasExec(node: Node): boolean {
  return callsUnder(node).some((c) => EXEC_CALLS.has(calleeName(c) ?? ''));
}

/** The exec call a statement starts with: the statement itself, `x = exec(...)`, `(void)`, `if (exec(...) < 0)`,
 * `return exec(...)`. The exec must be the first thing the statement does. */
export function leadingExec(stmt: Node): Node | null {
  let e: Node | null = null;
  if (stmt.type === 'expression_statement' || stmt.type === 'return_statement') e = stmt.namedChild(0);
  else if (stmt.type === 'if_statement') e = stmt.childForFieldName('condition');
  for (let n = e; n;) {
    n = unparen(n);
    if (n.type === 'call_expression') return EXEC_CALLS.has(calleeName(n) ?? '') ? n : null;
    if (n.type === 'cast_expression') n = n.childForFieldName('value');
    else if (n.type === 'assignment_expression') n = n.childForFieldName('right');
    else if (n.type === 'unary_expression' && n.child(0)?.type === '!') n = n.childForFieldName('argument');
    else if (n.type === 'binary_expression' && ['<', '==', '!=', '<=', '>', '>='].includes(n.child(1)?.type ?? ''))
      n = n.childForFieldName('left');
    else return null;
  }
  return null;
}
