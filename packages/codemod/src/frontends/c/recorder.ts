import type { Node } from './syntax-tree.js';
import { actionFor, ENDS_BEFORE_EXEC, failureTest, isNullPointer, successTests, successValue } from './actions.js';
import { type ActionEntry, BRANCHED, CANCEL } from './action-entry.js';
import { recordAssert } from './assert-check.js';
import {
  danglingElse,
  execInBoth,
  recordConditional,
  recordGuardedMacro,
  recordLoop,
  recordPath,
  recordPreprocessor,
} from './branch-recording.js';
import { baseName, hasExec, leadingExec, statementsOf } from './child-statements.js';
import { type CallMacro, type GuardedMacro, type PureRead, SAME_IN_PARENT } from './facts.js';
import { type CloseWalk, recordCloseWalk } from './close-walk.js';
import { type FormatWrapper, plainFormat, recordFormatWrapper } from './format-wrapper.js';
import { type HelperTest, inlineHelper } from './helper-inlining.js';
import { openIdiom } from './open-idiom.js';
import { recordDiscardedOpen } from './open-discarded.js';
import { recordTwin, type Twin } from './recording-twin.js';
import { type GuardedLog, recordGuardedLog } from './guarded-log.js';
import { allocationRefusal, type EndingAllocator, hoistAllocation } from './ending-allocators.js';
import { OWN_NAMES, shadowName } from './own-names.js';
import { type OpenWrapper, wrappedOpenArgs } from './open-wrapper.js';
import { execUnderPreprocessor } from './preprocessor-exec.js';
import { execInFirstRound } from './exec-retry-loop.js';
import { checkedResult } from './checked-result.js';
import { pureCondition, sameInParent } from './parent-answers.js';
import {
  addressTaken,
  arrayAliased,
  arrayElement,
  arrayShadow,
  plainTarget,
  shadowRefusal,
  wholeWrite,
  SHADOWED_POINTEE_WRITES,
} from './shadow-locals.js';
import { signalWrapper } from './signal-wrapper.js';
import { recordStdioFlush, STDIO_FLUSHES } from './stdio-flush.js';
import { STRING_WRITES } from './operations.js';
import {
  calledNames,
  calleeName,
  callsUnder,
  callArgs,
  blockStatements,
  isEmptyStatement,
  identifierNodes,
  identifiers,
  same,
  statementCall,
  unparen,
} from './syntax.js';

// Records, in the parent, what a fork's child does up to its exec: the action list of the fast path.

const HOISTABLE_ALLOC = new Set(['malloc', 'calloc', 'strdup', 'strndup']);
/** The child's own id a call's argument may ask for: the action asks it in the child (or writes it as 0). */
const OWN_ID_ARGUMENT: Record<string, string> = { setpgid: 'getpid()', tcsetpgrp: 'getpgrp()' };
/** Memory-only calls whose first argument is the memory they write. */
const WRITES_FIRST_ARG = new Set([...STRING_WRITES, 'sigemptyset', 'sigfillset', 'sigaddset', 'sigdelset']);

/** Why the fork's pid variable is the child's own. */
const PID_WRITE = 'the pid the fork returned';

/** Walks the child's statements before the exec; `blockers` says why they cannot be recorded exactly. */
export class Planner {
  readonly blockers: string[] = [];
  readonly hoisted: Node[] = [];
  readonly frees: string[] = [];
  actions: ActionEntry[] = [];
  /** The list of the child's own path (recordPath swaps in a branch's). */
  private readonly rootActions = this.actions;
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
  /** Locals of the function the child wrote with values the parent computes: name → the recording's copy (fx_name),
   * written where the child writes the local, in the actions' order, and read where the child reads it. */
  readonly shadows = new Map<string, string>();
  /** Each action that writes a shadow: its text → the local. */
  readonly shadowWrites = new Map<string, string>();
  /** A shadow write that also writes other memory (`fx_ret = snprintf(buf, …)`): its text → the call alone, which
   * stays when nothing reads the copy. */
  readonly bareWrites = new Map<string, string>();
  /** Locals the child declares whose writes run in the actions' order (`ret = snprintf(buf, …)` writes buf there):
   * the copied code, which runs in front of every action, may not read or write them. */
  readonly orderedLocals = new Set<string>();
  /** Shadows whose first write sets all of them on every path: declared without the local's value, which may be
   * indeterminate at the fork. */
  readonly uninitialized = new Set<string>();
  /** Shadowed arrays of the function (`char *prog[2]`): name → element count. The copy is declared whole and its
   * elements written where the child writes the array's. */
  readonly arrays = new Map<string, number>();
  /** Each action that writes an element of a shadowed array: its text → the array, the index and the value's text. */
  readonly elementWrites = new Map<string, { name: string; index: number; value: string }>();
  /** Why an element write could not go to a copy (`argv[0] = "sh"` through a parameter): the array → the refusal. */
  readonly arrayRefusals = new Map<string, string>();
  /** Where the fork statement starts: a shadowed local is declared before it (the recording goes in front of it). */
  forkStart = -1;
  /** A helper's `struct sigaction` and `sigset_t` locals while it is inlined: the recording's copies (fx_sig1…), in
   * shadows too, so that actions read them. */
  readonly helperCopies = new Set<string>();
  /** How many such copies the recording declared. */
  signalCopies = 0;
  /** Functions of other files that a recording twin may record (recording-twin.ts): name → definition and file. */
  twinHelpers = new Map<string, { def: Node; file: string }>();
  /** Macros that are one call of such a function (facts.ts: callMacros). */
  twinMacros = new Map<string, CallMacro>();
  /** Log functions of other files that write nothing while a guard holds, and macros for them (guarded-log.ts). */
  guardedLogs = new Map<string, GuardedLog>();
  logMacros = new Map<string, CallMacro>();
  /** The twins the recording calls, by the function they record. */
  readonly twins = new Map<string, Twin>();
  /** Copied statements whose text the copy changes (an allocation made with the C library's call, into fx_alloc). */
  readonly rewritten = new Map<Node, string>();
  /** How many allocations the copy makes (fx_alloc, fx_alloc2…). */
  allocations = 0;
  /** Locals the copy set to such an allocation (`display = fx_alloc;`): the child's free of one is no write. */
  readonly allocated = new Set<string>();

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
    /** Functions of other files that call actions but cannot be inlined: why (facts.ts). */
    readonly refusedHelpers: Map<string, string> = new Map(),
    /** Functions of the project that only read (facts.ts): name → what they read, or null. */
    readonly pureReads: Map<string, PureRead | null> = new Map(),
    /** The project's snprintf that ends the program on truncation (format-wrapper.ts): name → its parameters. */
    readonly formatWrappers: Map<string, FormatWrapper | null> = new Map(),
    /** The project's functions that close every fd up to the fd limit but one (close-walk.ts). */
    readonly closeWalks: Map<string, CloseWalk | null> = new Map(),
    /** The project's allocators that end the program when they fail (ending-allocators.ts). */
    readonly endingAllocators: Map<string, EndingAllocator | null> = new Map(),
    /** The project's open() wrappers (open-wrapper.ts). */
    readonly openWrappers: Map<string, OpenWrapper | null> = new Map(),
  ) {
    const pid = forkVariable && /^[A-Za-z_]\w*/.exec(forkVariable)?.[0];
    if (pid) this.changed.set(pid, PID_WRITE);
    const field = forkVariable && /^([A-Za-z_]\w*)\s*(?:\.|->)\s*([A-Za-z_]\w*)$/.exec(forkVariable);
    if (field) this.pidField = { base: field[1], field: field[2] };
  }

  /** The struct field the fork's pid went to (abduco's `server.pid`): the child's other fields are as the parent's. */
  private pidField?: { base: string; field: string };

  /** Is id, in the child, the struct of the pid's field read for another of its fields (`server.socket`)? */
  private otherField(id: Node): boolean {
    const f = this.pidField;
    const e = id.parent;
    return (
      !!f &&
      id.text === f.base &&
      this.changed.get(f.base) === PID_WRITE && // the child wrote nothing else of it
      e?.type === 'field_expression' &&
      same(e.childForFieldName('argument'), id) &&
      e.childForFieldName('field')?.text !== f.field
    );
  }

  /** Does a call of name only ask (SAME_IN_PARENT, or a project function that only reads), so that the parent may make
   * it in front of the fork with the child's answer, given nothing it reads changed (parent-answers.ts)? */
  asks(name: string): boolean {
    return Object.hasOwn(SAME_IN_PARENT, name) || !!this.pureReads.get(name);
  }

  block(why: string): void {
    if (!this.blockers.includes(why)) this.blockers.push(why);
  }

  /** The parent reads node in front of the fork: it must see what the child would. byAction: an action reads it (the
   * copied computations all run before the actions, so a later change of a local would reach the action too early). */
  reads(node: Node, byAction: boolean | 'exec' = true): boolean {
    return this.readsNames(
      identifierNodes(node)
        .filter((id) => !this.otherField(id))
        .map((id) => id.text),
      node.text,
      byAction,
    );
  }

  /** byAction 'exec': exec's arguments, which run after every action (a shadow's last value) but are not actions. */
  readsNames(ids: string[], what: string, byAction: boolean | 'exec' = true): boolean {
    const first = what.split('\n')[0];
    for (const id of ids) {
      if (this.subst.has(id)) continue; // the argument was read where the helper was called
      // an action's text names the parent's value (text()); copied code runs as written, where the child's is not
      if (this.known.has(id) && byAction === true) continue;
      if (this.known.has(id)) {
        this.block(`${first} reads ${id}, the fd the child's open() returns: only an action may`);
        return false;
      }
      const why = this.changed.get(id);
      if (why !== undefined) {
        this.block(`${first} reads ${id}, ${why}: the parent would see another value`);
        return false;
      }
      if (this.shadows.has(id) || this.orderedLocals.has(id)) {
        if (byAction) continue;
        this.block(
          `${first} reads ${id}, which the child changed: copied in front, it would run before the change and see the parent's value`,
        );
        return false;
      }
      if (OWN_NAMES.test(id)) {
        this.block(`the child uses ${id}, a name the rewrite declares`);
        return false;
      }
      if (byAction === true && this.locals.has(id)) this.read.add(id);
    }
    return true;
  }

  /** The C text of a node, with an inlined helper's parameters replaced by the caller's arguments. */
  text(node: Node): string {
    if (!this.subst.size && !this.known.size && !this.shadows.size) return node.text;
    const ids = (node.type === 'identifier' ? [node] : node.descendantsOfType('identifier').map((n) => n!))
      .filter((n) => this.subst.has(n.text) || this.known.has(n.text) || this.shadows.has(n.text))
      .sort((x, y) => y.startIndex - x.startIndex);
    let out = node.text;
    for (const id of ids) {
      const arg = this.subst.get(id.text) ?? this.known.get(id.text) ?? this.shadows.get(id.text)!;
      const value = /^(?:[A-Za-z_]\w*|[0-9]+|"(?:[^"\\]|\\.)*")$/.test(arg) ? arg : `(${arg})`;
      const at = id.startIndex - node.startIndex;
      out = out.slice(0, at) + value + out.slice(at + id.text.length);
    }
    return out;
  }

  /** Can this expression be evaluated in the parent, in front of the fork, with the same value and no effect? */
  pure(expr: Node, byAction = false): boolean {
    for (const name of calledNames(expr)) {
      if (!HOISTABLE_ALLOC.has(name) && !this.asks(name)) {
        this.block(
          allocationRefusal(name) ?? `${name}() in the child's computations: its result may differ in the parent`,
        );
        return false;
      }
    }
    if (!callsUnder(expr).every((c) => HOISTABLE_ALLOC.has(calleeName(c) ?? '') || sameInParent(this, c))) return false;
    if (expr.descendantsOfType(['assignment_expression', 'update_expression']).length) {
      this.block(`${expr.text.split('\n')[0]} changes memory inside an expression`);
      return false;
    }
    if (/\b(?:errno|getpid)\b/.test(identifiers(expr).join(' '))) {
      this.block(`${expr.text.split('\n')[0]} reads errno or the pid, which differ in the parent`);
      return false;
    }
    return this.reads(expr, byAction);
  }

  /**
   * A write of a local of the function (`sock = STDERR_FILENO + 1;`, `sa.sa_handler = SIG_DFL;`, `sigaddset(&set, s)`)
   * whose values the parent computes without effect: recorded on the local's copy, in the actions' order
   * (shadow-locals.ts). False, with nothing recorded or refused, when it cannot be: the caller goes on as before.
   */
  shadowWrite(base: string, target: Node, write: Node, values: Node[], actionText = () => this.text(write)): boolean {
    if (this.helperCopies.has(base)) return this.copyWrite(base, target, write, values);
    if (this.vfork || this.inlining.length || this.known.has(base)) return false;
    const element = arrayElement(target);
    if (element) return this.elementWrite(base, element.index, write, values);
    if (plainTarget(target) !== base || (this.changed.has(base) && !this.shadows.has(base))) return false;
    if (!this.shadows.has(base) && shadowRefusal(write, base, this.forkStart) !== null) return false;
    if (!this.computable(values)) return false;
    if (!this.shadows.has(base)) {
      this.shadows.set(base, shadowName(base));
      if (this.actions === this.rootActions && wholeWrite(write, base)) this.uninitialized.add(base);
      else this.uninitialized.delete(base);
    }
    const action = actionText();
    this.shadowWrites.set(action, base);
    this.actions.push(action);
    return true;
  }

  /** Are the values the parent's to compute without effect (no allocation)? False with nothing refused otherwise. */
  private computable(values: Node[]): boolean {
    if (values.some((v) => calledNames(v).some((n) => HOISTABLE_ALLOC.has(n)))) return false;
    const blockers = this.blockers.length;
    if (values.every((v) => this.pure(v, true))) return true;
    this.blockers.length = blockers;
    return false;
  }

  /**
   * `prog[1] = 0;`: a write of one element of an array of the function, recorded on the array's copy (fx_prog), in the
   * actions' order; whether the copy starts from the array's elements is decided once all writes are known (plan.ts).
   * False when it cannot be (a pointer's pointee, which is the parent's memory; an unknown size; an alias), the reason
   * kept for the refusal of a later read.
   */
  private elementWrite(base: string, index: number, write: Node, values: Node[]): boolean {
    // only `array[N] = value;` itself, not a call's result stored there (`fds[0] = dup(…)`: callResult)
    const plain = write.type === 'assignment_expression' && write.child(1)?.type === '=';
    if (!plain || values.length !== 1 || !same(unparen(write.childForFieldName('right')!), values[0])) return false;
    if (this.changed.has(base) && !this.shadows.has(base)) return false;
    if (this.shadows.has(base) && !this.arrays.has(base)) return false; // a pointer's copy: its pointee is the parent's
    const judged = arrayShadow(write, base, index, this.forkStart);
    if ('refusal' in judged) {
      this.arrayRefusals.set(base, judged.refusal);
      return false;
    }
    if (!this.computable(values)) return false;
    this.shadows.set(base, shadowName(base));
    this.arrays.set(base, judged.size);
    const action = `${shadowName(base)}[${index}] = ${this.text(values[0])}`;
    this.shadowWrites.set(action, base);
    this.elementWrites.set(action, { name: base, index, value: this.text(values[0]) });
    this.actions.push(action);
    return true;
  }

  /** A write of a helper's signal local (helper-inlining.ts): recorded on its copy, in the actions' order. */
  copyWrite(base: string, target: Node, write: Node, values: Node[]): boolean {
    if (plainTarget(target) !== base) {
      this.block(`${write.text.split('\n')[0]}: a write of ${base} through a pointer`);
      return true;
    }
    // SIG_DFL with SA_NOCLDWAIT for SIGCHLD may outlive the exec: forkexec_sigaction refuses it, every time
    if (values.some((v) => /\bSA_NOCLDWAIT\b/.test(v.text))) {
      this.block(`${write.text.split('\n')[0]} in ${this.inlining.at(-1)}(): SA_NOCLDWAIT, which no action keeps`);
      return true;
    }
    if (values.some((v) => calledNames(v).length || !this.pure(v, true))) {
      this.block(`${write.text.split('\n')[0]} in ${this.inlining.at(-1)}(): its value is not the parent's to compute`);
      return true;
    }
    this.actions.push(this.text(write));
    return true;
  }

  /** A write to a child local is copied in front, unless an action already read the local. */
  writeLocal(base: string, stmt: Node): void {
    if (this.orderedLocals.has(base))
      return this.block(`the child changes ${base} after the actions wrote it: the copy in front would run first`);
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
    if (addressTaken(stmt, base))
      return this.block(`${target}: the function keeps ${base}'s address, through which the child may read it`);
    const alias = arrayAliased(stmt, base);
    if (alias) return this.block(`${target}: ${alias}, through which the child may read it`);
    // The fast path skips it (exec discards the child's memory); nothing recorded later may read it.
    const copy = this.arrayRefusals.get(base);
    this.changed.set(base, `which the child changed (${target})${copy ? `, with no copy: ${copy}` : ''}`);
  }

  declaration(stmt: Node): void {
    for (const d of stmt.childrenForFieldName('declarator')) {
      if (!d) continue;
      const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
      const target = d.type === 'init_declarator' ? d.childForFieldName('declarator')! : d;
      const name = identifiers(target)[0];
      if (!name) return this.block(`declaration ${stmt.text.split('\n')[0]} in the child`);
      const opened = value && unparen(value);
      if (opened?.type === 'call_expression' && this.opens(opened) && target.type === 'identifier') {
        if (stmt.childrenForFieldName('declarator').length !== 1)
          return this.block(`${stmt.text.split('\n')[0]}: an open() among other declarations`);
        // not a copied local: the declaration stays the child's, and a later write of it is the child's alone
        return this.openOntoNext(target, opened, true);
      }
      if (opened?.type === 'call_expression' && calleeName(opened) === 'dup' && target.type === 'identifier') {
        if (stmt.childrenForFieldName('declarator').length !== 1)
          return this.block(`${stmt.text.split('\n')[0]}: a dup() among other declarations`);
        return void this.dupOntoNext(opened, target, true);
      }
      // `char *s = xstrdup(t);`: made in the parent with the C library's call (ending-allocators.ts)
      const call = opened?.type === 'call_expression' ? calleeName(opened) : null;
      if (call && !HOISTABLE_ALLOC.has(call) && stmt.childrenForFieldName('declarator').length === 1) {
        const fresh = !this.locals.has(name);
        this.locals.add(name);
        if (hoistAllocation(this, stmt, opened!, target)) return void this.changed.delete(name);
        if (fresh) this.locals.delete(name);
      }
      if (value && !this.pure(value)) return;
      if (this.shadows.has(name)) return this.block(`the child declares ${name}, a name of the function it changed`);
      this.locals.add(name);
      this.changed.delete(name);
      if (value?.type === 'call_expression' && HOISTABLE_ALLOC.has(calleeName(value) ?? '')) this.frees.push(name);
    }
    this.hoisted.push(stmt);
  }

  statements(list: Node[]): void {
    for (let i = 0; i < list.length;) {
      if (isEmptyStatement(list[i])) {
        i++;
        continue;
      }
      const used = openIdiom(this, list, i) || checkedResult(this, list, i);
      if (!used) this.statement(list[i]);
      i += used || 1;
    }
  }

  /** A child statement before the exec. */
  statement(stmt: Node): void {
    if (isEmptyStatement(stmt)) return; // a lone `;` does nothing
    if (stmt.type === 'declaration') return this.declaration(stmt);
    if (stmt.type === 'compound_statement') return this.statements(blockStatements(stmt));
    if (['preproc_if', 'preproc_ifdef'].includes(stmt.type)) return recordPreprocessor(this, stmt);
    // an #else or #elif whose #if is not among the child's statements (tree-sitter reads it as a lone directive)
    if (stmt.type.startsWith('preproc_') && /^#\s*(?:else|elif)/.test(stmt.text.trim()))
      return this.block(
        `${stmt.text.split('\n')[0].trim()} in the child, of an #if that opens before the fork: the child's block is split between configurations`,
      );
    if (stmt.type.startsWith('preproc_')) return this.block(`${stmt.text.split('\n')[0]} in the child`);
    if (stmt.type === 'for_statement') return recordLoop(this, stmt);
    if (['while_statement', 'do_statement'].includes(stmt.type))
      return this.block('a while loop in the child: its actions depend on run-time data');
    if (stmt.type === 'if_statement') return recordConditional(this, stmt);
    if (stmt.type !== 'expression_statement') return this.block(`a ${stmt.type.replace(/_/g, ' ')} in the child`);
    const call = statementCall(stmt);
    if (call) return this.call(call, stmt);
    const e = unparen(stmt.namedChild(0)!);
    if (e.type === 'assignment_expression' || e.type === 'update_expression') {
      const target = e.childForFieldName(e.type === 'assignment_expression' ? 'left' : 'argument')!;
      const base = baseName(target);
      const right = e.type === 'assignment_expression' ? unparen(e.childForFieldName('right')!) : null;
      if (right?.type === 'call_expression' && this.opens(right) && e.child(1)?.type === '=')
        return this.openOntoNext(target, right);
      if (right?.type === 'call_expression' && calleeName(right) === 'dup' && e.child(1)?.type === '=')
        return void this.dupOntoNext(right, target);
      // the fd an open() returned (fx_fd), overwritten: only wholly and on the child's own path, where its copy starts
      // from the new value; from itself, or on one path only, the copy would start from the parent's variable
      if (base && this.known.has(base)) {
        const whole = e.child(1)?.type === '=' && !!right && !identifiers(right).includes(base);
        if (!whole || this.actions !== this.rootActions)
          return this.block(
            `${stmt.text.split('\n')[0]} overwrites ${base}, the fd the child's open() returned, ${whole ? 'on one path' : 'from itself'}`,
          );
      }
      if (base) this.known.delete(base);
      if (
        base &&
        right?.type === 'call_expression' &&
        e.child(1)?.type === '=' &&
        this.callResult(base, e, right, stmt)
      )
        return;
      // `osigchld = ssh_signal(SIGCHLD, SIG_DFL);`: the old handler lands in the child's memory, which exec discards
      if (right?.type === 'call_expression' && e.child(1)?.type === '=' && this.setsDisposition(right)) {
        if (base && this.locals.has(base))
          return this.block(`${stmt.text.split('\n')[0]}: the old handler in a local the copy in front computes`);
        this.writeOther(base, stmt);
        return this.call(right, stmt);
      }
      if (base && this.locals.has(base)) {
        if (right?.type === 'call_expression' && e.child(1)?.type === '=' && hoistAllocation(this, stmt, right, target))
          return;
        if (!right || this.pure(right)) this.writeLocal(base, stmt);
        return;
      }
      if (base && this.shadowWrite(base, target, e, right ? [right] : [])) return;
      // a query without effect (`prog = getenv(…)`) needs no run in the fast path: only its result is the child's
      const unasked = right ? calledNames(right).find((n) => !this.asks(n)) : undefined;
      if (unasked) {
        const why = allocationRefusal(unasked);
        return this.block(
          `${stmt.text.split('\n')[0]} in the child calls ${why ? `a function: ${why}` : 'a function'}`,
        );
      }
      return this.writeOther(base, stmt);
    }
    this.block(`statement ${stmt.text.split('\n')[0]} in the child`);
  }

  /**
   * `ret = dup2(fd, 1);`, `ret = snprintf(buf, sizeof buf, "%d", n);`: a call the child makes for its effect, its
   * result stored in a local of the function. An action's result on the fast path is its success value (a failure
   * takes the slow path, where the original code tests it); a memory-only call into the child's own local runs in the
   * parent, in the actions' order, with its result. Either goes to the local's copy (shadow-locals.ts); a local that
   * cannot have one is the child's alone from here on. False when the call is neither: the caller goes on as before.
   */
  callResult(base: string, assignment: Node, call: Node, stmt: Node): boolean {
    const name = calleeName(call);
    if (!name || this.locals.has(base) || this.subst.size) return false;
    const args = callArgs(call);
    const target = assignment.childForFieldName('left')!;
    if (WRITES_FIRST_ARG.has(name)) return this.memoryCallResult(base, target, assignment, call, args);
    const value = successValue(
      name,
      args.map((a) => a.text),
    );
    if (value === null || this.helpers.has(name) || this.signalWrappers.has(name)) return false;
    const blockers = this.blockers.length;
    this.call(call, stmt);
    if (this.blockers.length > blockers) return true;
    const values = name === 'dup2' ? [args[1]] : [];
    const written = this.shadowWrite(base, target, assignment, values, () =>
      [this.text(target), name === 'dup2' ? this.text(args[1]) : value].join(' = '),
    );
    if (!written) this.writeOther(base, stmt);
    return true;
  }

  /** `ret = snprintf(buf, …)`, `ret = sigfillset(&mask)` into the child's own local buf or a shadowed one: the call
   * runs in the parent in the actions' order, its result into ret's copy. */
  private memoryCallResult(base: string, target: Node, assignment: Node, call: Node, args: Node[]): boolean {
    const into = args[0] && baseName(args[0]);
    if (!into || this.vfork || !(this.locals.has(into) || this.shadows.has(into))) return false;
    if (into === base || this.helperLocals.has(into)) return false;
    const format = { snprintf: 2, sprintf: 1 }[calleeName(call) as 'snprintf' | 'sprintf'];
    if (format !== undefined && !plainFormat(args[format])) return false;
    const blockers = this.blockers.length;
    // what the call reads (all but the memory it writes) the parent computes without effect; the memory it writes is
    // the child's local (declared in front, written here) or its copy
    const read = args.slice(1).every((a) => this.pure(a, true)) && this.reads(args[0]);
    if (!read) return true;
    if (this.blockers.length > blockers) return true;
    const bare = this.text(call);
    const written = this.shadowWrite(base, target, assignment, [], () => `${this.text(target)} = ${this.text(call)}`);
    if (!written) {
      this.block(`${assignment.text.split('\n')[0]}: ${base} cannot have a copy, and the call writes ${into}`);
      return true;
    }
    const action = this.actions.at(-1) as string;
    this.bareWrites.set(action, bare);
    if (this.locals.has(into)) this.orderedLocals.add(into);
    return true;
  }

  /**
   * `fd = open(path, flags)` whose fd the child then uses (`dup2(fd, 0)`, `if (fd > 2) close(fd)`): open() returns
   * the lowest fd free in the child, which the parent computes from its own table and the actions so far
   * (forkexec_next_fd); the open is recorded onto that fd, and the child's uses of fd read the parent's number.
   */
  openOntoNext(target: Node, open: Node, declared = false): void {
    const name = target.type === 'identifier' ? target.text : null;
    const args = callArgs(open);
    const wrapper = calleeName(open) === 'open' ? null : this.openWrappers.get(calleeName(open) ?? '');
    if (!name || (!wrapper && (args.length < 2 || args.length > 3)))
      return this.block(`${open.text.split('\n')[0]}: an open() whose fd the rewrite cannot name`);
    if (this.vfork && !declared && !this.locals.has(name) && !this.helperLocals.has(name))
      return this.block(`${name} = open(...): a vfork child writes the parent's memory`);
    if (wrapper) {
      // a project's open() (open-wrapper.ts): the open it makes, its parameters bound to the call's arguments
      const texts = wrappedOpenArgs(this, open, wrapper);
      if (typeof texts === 'string') return this.block(texts);
      this.known.set(name, this.openNext(texts[0], texts[1], texts[2]));
      return void this.changed.delete(name);
    }
    const fd = this.openArgsOntoNext(args, `${name} = open(...)`);
    if (!fd) return;
    this.known.set(name, fd);
    this.changed.delete(name);
  }

  /**
   * open(path, flags[, mode]) of the child, its arguments read as the child's, recorded onto the next fd (openNext);
   * null, with the reason, when it cannot be. what: the open as a reason names it.
   */
  openArgsOntoNext(args: Node[], what: string): string | null {
    if (/\bO_EXCL\b/.test(args[1].text)) {
      this.block('open() with O_EXCL: its second run would fail where the first succeeded');
      return null;
    }
    for (const a of args) {
      if (calledNames(a).length) {
        this.block(`${what} calls a function in its arguments`);
        return null;
      }
      if (!this.reads(a)) return null; // reads() said why
    }
    const [path, flags, mode] = args.map((a) => this.text(a));
    return this.openNext(path, flags, mode);
  }

  /**
   * Records an open() onto the fd it returns in the child, the lowest free one there, which the parent computes from
   * its own table and the actions so far: `fx_fd = forkexec_next_fd(fx)` (fx_fd2… for later opens). Returns the name.
   */
  openNext(path: string, flags: string, mode = '0'): string {
    const fd = this.nextFd();
    this.record(`forkexec_open(fx, ${fd}, ${path}, ${flags}, ${mode})`);
    return fd;
  }

  /** `fx_fd = forkexec_next_fd(fx)` (fx_fd2… for later ones): the fd an open() or dup() returns in the child. */
  private nextFd(): string {
    const fds = this.declarations.filter((d) => d.startsWith('int fx_fd')).length;
    const fd = fds ? `fx_fd${fds + 1}` : 'fx_fd';
    this.declarations.push(`int ${fd} = -1;`);
    this.actions.push(`${fd} = forkexec_next_fd(fx)`);
    return fd;
  }

  /**
   * `dup(fd)`, `copy = dup(fd)`, `if (dup(fd) < 0)`: dup returns the lowest free fd, which the parent computes as an
   * open's (forkexec_next_fd); dup2 onto it is the same copy (FD_CLOEXEC clear, EBADF for a closed fd, also when
   * that fd is itself the lowest free one). target: the variable that keeps it, whose uses read the parent's number.
   */
  dupOntoNext(call: Node, target: Node | null, declared = false): string | undefined {
    const [from, ...more] = callArgs(call);
    const name = target && (target.type === 'identifier' ? target.text : null);
    if (!from || more.length || (target && !name))
      return void this.block(`${call.text.split('\n')[0]}: a dup() whose fd the rewrite cannot name`);
    if (name && this.vfork && !declared && !this.locals.has(name) && !this.helperLocals.has(name))
      return void this.block(`${name} = dup(...): a vfork child writes the parent's memory`);
    if (calledNames(from).length || !this.reads(from)) return void this.block('dup() calls a function in its argument');
    const fd = this.nextFd();
    this.record(`forkexec_dup2(fx, ${this.text(from)}, ${fd})`);
    if (!name) return fd;
    this.known.set(name, fd);
    this.changed.delete(name);
    return fd;
  }

  /** Is call an open(), or a call of a project's open() wrapper (open-wrapper.ts)? */
  opens(call: Node): boolean {
    const name = calleeName(call) ?? '';
    return name === 'open' || !!this.openWrappers.get(name);
  }

  /** Appends an action and notes its kind, so that later conditions know what the child has changed by then. */
  record(action: string): void {
    this.performed.add(/^forkexec_(\w+)/.exec(action)![1]);
    this.actions.push(action);
  }

  /** A call in the child before exec; stmt is null for a call whose failure the child tests (target: where its
   * result is stored, `(fd = open(...)) == -1`). */
  call(call: Node, stmt: Node | null, target: Node | null = null, test: HelperTest = 'minus-one'): void {
    let name = calleeName(call);
    if (target && this.opens(call)) return this.openOntoNext(target, call);
    if (name === 'dup') return void this.dupOntoNext(call, target);
    if (target) {
      const where = this.inlining.length ? ` in ${this.inlining.at(-1)}()` : '';
      return this.block(`${target.text} = ${call.text.split('\n')[0]}${where} in the child: its result is the child's`);
    }
    if (!name) return this.block(`a call through ${call.childForFieldName('function')!.text} in the child`);
    if (stmt && recordGuardedLog(this, name, call)) return;
    const guard = stmt ? this.guardedMacros.get(name) : undefined;
    if (guard) return recordGuardedMacro(this, name, guard, call);
    if (name === 'assert' && stmt) return recordAssert(this, call);
    if (stmt && hoistAllocation(this, stmt, call, null)) return;
    let args = callArgs(call);
    if (WRITES_FIRST_ARG.has(name) && stmt) {
      const base = args[0] && baseName(args[0]);
      const set = args[0] && unparen(args[0]);
      const pointee =
        set?.type === 'pointer_expression' && set.child(0)?.type === '&' && set.childForFieldName('argument');
      const shadowed = SHADOWED_POINTEE_WRITES.has(name) && base && pointee && !this.locals.has(base);
      if (shadowed && this.shadowWrite(base, pointee, call, args.slice(1))) return;
      if (!args.slice(1).every((a) => this.pure(a))) return;
      if (base && this.locals.has(base)) return this.writeLocal(base, stmt);
      return this.writeOther(base, stmt);
    }
    if (name === 'free' && stmt) {
      const freed = args[0] && baseName(args[0]);
      // what the copy allocated for it the parent frees after the start; the child's pointer is gone from here on
      if (freed && this.allocated.has(freed) && args[0].type === 'identifier')
        return void this.changed.set(freed, `which the child freed (${stmt.text.split('\n')[0]})`);
      return this.writeOther(freed, stmt);
    }
    const format = stmt && this.formatWrappers.get(name);
    if (format) return recordFormatWrapper(this, name, format, args);
    const walk = stmt && this.closeWalks.get(name);
    if (walk) return recordCloseWalk(this, name, walk, args);
    if (ENDS_BEFORE_EXEC.has(name) && stmt) return; // nothing of it is left at the exec
    if (STDIO_FLUSHES.has(name) && stmt) return recordStdioFlush(this, name, args);
    if (name === 'open' && stmt) return recordDiscardedOpen(this, call);
    // an argument's call runs in the parent: only one that answers there as in the child (setgid(getgid()))
    // setpgid(0, getpid()) is the child's own pid, which actionFor writes as 0, tcsetpgrp(fd, getpgrp()) its own group,
    // which the action asks in the child; anywhere else getpid() and getpgrp() are the parent's
    const ownId = OWN_ID_ARGUMENT[name];
    const inner = args.flatMap((a) => callsUnder(a)).filter((c) => c.text !== ownId);
    const effect = inner.find((c) => !this.asks(calleeName(c) ?? '') && !this.callMacros.get(calleeName(c) ?? ''));
    if (effect)
      return this.block(
        `${name}() calls ${calleeName(effect) ?? effect.text}() in its arguments: it would run in the parent`,
      );
    if (!inner.every((c) => sameInParent(this, c))) return;
    if (['sigprocmask', 'pthread_sigmask', 'sigaction'].includes(name) && this.keepsOld(name, args)) return;
    if (name === 'fcntl') {
      const fcntl = this.fcntlAction(args, !stmt);
      if (fcntl) return void (args.every((a) => this.reads(a)) && this.record(fcntl));
    }
    const wrapper = this.signalWrappers.get(name);
    const params = wrapper && stmt ? signalWrapper(wrapper) : null;
    const helper = this.helpers.get(name);
    if (params && /^SIG_(?:DFL|IGN)$/.test(args[params.handler]?.text ?? '')) {
      name = 'signal';
      args = [args[params.signal], args[params.handler]];
    } else if (helper && this.inlining.length < 2 && !this.inlining.includes(name))
      return inlineHelper(this, name, helper, args, stmt ? false : test);
    // a checked close fails on a closed fd (EBADF), as forkexec_close_checked does; forkexec_close ignores one
    const mapped = actionFor(
      name === 'close' && !stmt ? 'close-checked' : name,
      args.map((a) => this.text(a)),
    );
    // a signal wrapper's refusal is its handler or flags (signal-wrapper.ts), not why it is no helper
    const refused = this.helpers.has(name) || wrapper ? undefined : this.refusedHelpers.get(name);
    if ('blocker' in mapped && !this.helpers.has(name) && recordTwin(this, name, args, stmt ? false : test)) return;
    if ('blocker' in mapped)
      return this.block(
        /printf|puts|write|perror|syslog|log|warn|err/.test(name)
          ? `${name}() writes before the exec: the fast path would not write it`
          : refused
            ? `${name}() in the child, a function of another file that ${refused}`
            : mapped.blocker,
      );
    if (!args.every((a) => a.text === ownId || this.reads(a))) return;
    if (name === 'setenv' || name === 'unsetenv' || name === 'putenv') this.usesEnvActions = true;
    this.record(mapped.action);
  }

  /**
   * fcntl() commands other than F_SETFD (actions.ts) that are an action where they stand (runit's fd_copy):
   * `if (fcntl(fd, F_GETFL) == -1)` fails exactly when fd is not open, the check dup2(fd, fd) makes; `close(to);`
   * then `fcntl(from, F_DUPFD, to)` gives the lowest free fd from `to` up, which is `to`, just closed: dup2(from, to)
   * (from == to: both fail with EBADF). Null: no such form.
   */
  fcntlAction(args: Node[], tested: boolean): string | null {
    const [fd, command, arg] = args.map((a) => this.text(a));
    if (tested && /^F_GET(?:FL|FD)$/.test(command ?? '') && args.length <= 3) return `forkexec_dup2(fx, ${fd}, ${fd})`;
    if (command === 'F_DUPFD' && args.length === 3 && this.actions.at(-1) === `forkexec_close(fx, ${arg})`)
      return `forkexec_dup2(fx, ${fd}, ${arg})`;
    return null;
  }

  /** `signal(sig, SIG_DFL)` or a project's signal wrapper called with SIG_DFL or SIG_IGN: a disposition action. */
  setsDisposition(call: Node): boolean {
    const name = calleeName(call) ?? '';
    const wrapper = this.signalWrappers.get(name);
    const params = name === 'signal' ? { signal: 0, handler: 1 } : wrapper ? signalWrapper(wrapper) : null;
    return !!params && /^SIG_(?:DFL|IGN)$/.test(callArgs(call)[params.handler]?.text ?? '');
  }

  /**
   * `sigprocmask(how, set, &old)`, `sigaction(sig, act, &old)`: the child writes the old mask or action into its own
   * memory, which its exec discards; the fast path does not write it, so nothing recorded after may read it. A NULL
   * set or act only reads: no action. False: no old value is asked for, the call is an action like any other.
   */
  keepsOld(name: string, args: Node[]): boolean {
    const old = args[2];
    if (!old || isNullPointer(old.text)) return false;
    const base = baseName(old);
    const what = name === 'sigaction' ? 'action' : 'mask';
    if (!base || this.subst.size || (this.vfork && !this.locals.has(base))) {
      this.block(`${name}() keeps the old ${what} in ${old.text}, which the child shares with the parent or a caller`);
      return true;
    }
    if (!isNullPointer(args[1].text)) {
      const mapped = actionFor(name, [this.text(args[0]), this.text(args[1])]);
      if ('blocker' in mapped) {
        this.block(mapped.blocker);
        return true;
      }
      if (!this.reads(args[1])) return true;
      this.record(mapped.action);
    }
    this.changed.set(base, `which the child's ${name}() wrote (the old ${what})`);
    return true;
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
    if (s.type === 'preproc_if' || s.type === 'preproc_ifdef') return execUnderPreprocessor(this, s);
    if (s.type === 'for_statement') return execInFirstRound(this, s);
    const consequence = s.type === 'if_statement' ? s.childForFieldName('consequence') : null;
    const alternative = s.childForFieldName('alternative')?.namedChildren.at(-1);
    const condition = s.type === 'if_statement' ? unparen(s.childForFieldName('condition')!) : null;
    const inThen = !!consequence && hasExec(consequence);
    if (s.type === 'if_statement' && danglingElse(this, s)) return null;
    if (condition && inThen && alternative && hasExec(alternative) && !hasExec(condition) && !failureTest(condition))
      return execInBoth(this, condition, consequence!, alternative);
    // `if (fcntl(a, F_SETFD, FD_CLOEXEC) == 0 && …) execvp(…);`: the actions, then the exec (a failure: the slow path)
    const succeeded = inThen && !alternative && !hasExec(condition!) ? successTests(condition!) : null;
    if (succeeded) {
      succeeded.forEach((call) => this.call(call, null));
      return this.untilExec(statementsOf(consequence!));
    }
    if (!condition || hasExec(condition) || (inThen && alternative && hasExec(alternative)) || failureTest(condition)) {
      this.block(
        s.type.startsWith('preproc_')
          ? 'the exec sits inside #if/#ifdef: each configuration needs its own rewrite'
          : "the child's exec is not the first thing its statement does",
      );
      return null;
    }
    if (!pureCondition(this, condition)) return null;
    let found: Node | typeof BRANCHED | null = null;
    const recorded = recordPath(
      this,
      () => {
        found = this.untilExec(statementsOf(inThen ? consequence! : alternative!));
      },
      'a conditional in the child computes memory: only actions may depend on a condition',
    );
    this.actions.push({
      condition: this.text(condition),
      then: inThen ? recorded : [CANCEL],
      otherwise: inThen ? [CANCEL] : recorded,
    });
    return found;
  }
}
