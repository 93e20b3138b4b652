import type { Node } from './syntax-tree.js';
import { actionFor, ENDS_BEFORE_EXEC, failureTests, isNullPointer } from './actions.js';
import { CANCEL } from './action-entry.js';
import { baseName, statementsOf } from './child-statements.js';
import { SAME_IN_PARENT } from './facts.js';
import type { HelperTest } from './helper-inlining.js';
import type { Planner } from './recorder.js';
import {
  blockStatements,
  callArgs,
  calledNames,
  calleeName,
  callsUnder,
  functionName,
  identifiers,
  preprocStatements,
  statementCall,
  unparen,
} from './syntax.js';

// A recording twin: a project function of another file that the child calls, and that means something only in its
// own file (a static it reads, a global the caller's file does not declare, an #if its file's configuration decides),
// gets a function next to it, in its file, that records into the caller's action list what it does in the child.
// The caller's recording calls the twin; the original function stays as written, for the slow path.

/** The twin of function f is `f__forkexec_record(forkexec_actions *fx, …f's parameters)`: a reserved suffix. */
export const TWIN_SUFFIX = '__forkexec_record';

export interface Twin {
  /** The function it records. */
  helper: string;
  /** Its file (the absolute path the scan read). */
  file: string;
  name: string;
  /** Its declaration, for the caller's file. */
  prototype: string;
  /** Its definition, inserted after the helper's in the helper's file. */
  definition: string;
  /** The kinds of action it may record (`setsid`, `sigprocmask`…). */
  performs: string[];
  /** The names it reads that are not its own: the caller's child must not have changed them. */
  reads: string[];
  /** The variables of its file it writes in the child, which the twin skips: nothing recorded after may read them. */
  writes: string[];
  /** It asks the process state (a SAME_IN_PARENT call): only before any action of the caller. */
  asks: boolean;
  /** Its return type is an integer, which the caller may test. */
  integer: boolean;
}

/** Memory-only calls whose first argument is the memory they write: kept as written on the twin's own locals. */
const LOCAL_WRITES = new Set(['sigemptyset', 'sigfillset', 'sigaddset', 'sigdelset', 'memset']);
const INTEGER = /^(?:(?:unsigned|signed)\s+)?(?:int|long|short|pid_t|ssize_t|uid_t|gid_t|bool|_Bool)$/;

/**
 * Lookups that return a pointer into static memory of the C library (the parent may hold one from an earlier call):
 * the twin makes the reentrant call into buffers of its own, with the child's answer (the same database, asked before
 * any action). Any failure (not found, a buffer too small) leaves the pointer NULL: the child's NULL path, or a
 * cancel, as the helper's own NULL branch decides.
 */
const REENTRANT: Record<string, { call: string; type: string }> = {
  getpwnam: { call: 'getpwnam_r', type: 'struct passwd' },
  getpwuid: { call: 'getpwuid_r', type: 'struct passwd' },
  getgrnam: { call: 'getgrnam_r', type: 'struct group' },
  getgrgid: { call: 'getgrgid_r', type: 'struct group' },
};

const twins = new WeakMap<Node, Twin | string>();

/** The twin of def (a function of file), or why the recording cannot have one. Made once per definition. */
export function twinOf(def: Node, file: string): Twin | string {
  let twin = twins.get(def);
  if (twin === undefined) twins.set(def, (twin = writeTwin(def, file)));
  return twin;
}

/**
 * `f(args);` or `if (f(args) < 0) …` in the child, f a function of another file with a twin (or a macro that is one
 * call of f, `sig_uncatch(s)` for `sig_catch((s), sig_defaulthandler)`): the recording calls the twin with the same
 * arguments, which the parent reads as the child would; a tested result cancels the fast path when the twin returns
 * what the child's test takes for a failure (`< 0` covers `== -1`; `!= 0` for `if (f())`), so the slow path runs the
 * caller's branch as written. False: name has no twin, nothing recorded or refused.
 */
export function recordTwin(p: Planner, name: string, args: Node[], tested: HelperTest | false): boolean {
  const macro = p.twinMacros.get(name);
  const helper = macro ? macro.call : name;
  const found = p.twinHelpers.get(helper);
  if (!found || (macro && macro.params.length !== args.length)) return false;
  const twin = twinOf(found.def, found.file);
  const what = macro
    ? `${name}() in the child, a macro for ${helper}(), a function of another file`
    : `${name}() in the child, a function of another file`;
  if (typeof twin === 'string') return (p.block(`${what} whose ${twin}`), true);
  if (p.vfork) return (p.block(`${name}() in a vfork child: its twin would run on the stack the child shares`), true);
  if (args.some((a) => calledNames(a).length || !p.reads(a)))
    return (p.block(`${name}() in the child: its arguments call functions`), true);
  let texts = args.map((a) => p.text(a));
  if (macro) {
    // the macro's own arguments, the parameters bound to the call's: they may only read
    const bound = new Map(macro.params.map((param, i) => [param, texts[i]]));
    const extra = macro.args.flatMap((a) => [...a.matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b(\s*\()?/g)]);
    if (extra.some(([, , , call]) => call) || macro.args.some((a) => /(?:^|[^=!<>])=(?!=)|\+\+|--/.test(a)))
      return (p.block(`${name}() in the child: the macro's arguments to ${helper}() call or write`), true);
    const names = extra.filter(([, member, n]) => !member && !bound.has(n)).map(([, , n]) => n);
    if (!p.readsNames(names, `${name}() in the child`, false)) return true;
    texts = macro.args.map((a) =>
      a.replace(/(\.|->)?(\s*)\b([A-Za-z_]\w*)\b/g, (all, member, space, n) =>
        !member && bound.has(n) ? space + parenthesized(bound.get(n)!) : all,
      ),
    );
  }
  if (texts.length !== (parameterCount(found.def) ?? -1))
    return (p.block(`${what}: its parameters do not match the call`), true);
  if (twin.asks && p.performed.size)
    return (
      p.block(`${name}() asks the process state after the child's actions: the parent would ask before them`),
      true
    );
  if (!p.readsNames(twin.reads, `${name}() in the child`, false)) return true;
  if (tested && !twin.integer) return (p.block(`${name}()'s result is tested in the child: it is no integer`), true);
  const call = `${twin.name}(${['fx', ...texts].join(', ')})`;
  if (tested)
    p.actions.push({ condition: `${call} ${tested === 'nonzero' ? '!= 0' : '< 0'}`, then: [CANCEL], otherwise: [] });
  else p.actions.push(call);
  twin.performs.forEach((kind) => p.performed.add(kind));
  for (const w of twin.writes) p.changed.set(w, `which ${helper}() wrote in the child (its twin skips it)`);
  p.twins.set(helper, twin);
  return true;
}

/** An argument as it goes into a macro's expression: parenthesized unless a name or a number. */
function parenthesized(text: string): string {
  return /^(?:[A-Za-z_]\w*|[0-9]+)$/.test(text) ? text : `(${text})`;
}

function parameterCount(def: Node): number | null {
  const params = functionDeclarator(def)?.childForFieldName('parameters');
  if (!params) return null;
  const list = params.namedChildren.filter((n) => n?.type === 'parameter_declaration');
  return list.length === 1 && list[0]!.text.trim() === 'void' ? 0 : list.length;
}

/** Why a statement cannot be recorded: the twin is refused. */
class Refusal extends Error {}

function writeTwin(def: Node, file: string): Twin | string {
  const helper = functionName(def)!;
  const declarator = functionDeclarator(def);
  const body = def.childForFieldName('body');
  if (!declarator || !body || def.namedChildren.some((c) => c?.type === 'declaration'))
    return 'definition the codemod cannot read (an old-style parameter list)';
  const params = declarator.childForFieldName('parameters')!;
  const own = new Set(identifiers(params));
  if (own.has('fx') || /\bfx\b/.test(body.text)) return "body names fx, the name of the twin's action list";
  const name = `${helper}${TWIN_SUFFIX}`;
  const inner = params.text.slice(1, -1).trim();
  const list = inner === '' || inner === 'void' ? '(forkexec_actions *fx)' : `(forkexec_actions *fx, ${inner})`;
  const head = def.text.slice(0, body.startIndex - def.startIndex).trimEnd();
  const at = (n: Node) => n.startIndex - def.startIndex;
  const nameNode = declarator.childForFieldName('declarator')!;
  const twinHead = head.slice(0, at(nameNode)) + name + list + head.slice(at(params) + params.text.length);
  const type = def.childForFieldName('type')?.text.replace(/\s+/g, ' ') ?? '';
  const pointer = declarator.parent?.type === 'pointer_declarator';
  const returns = !(type === 'void' && !pointer);
  const unit = /\n([ \t]+)\S/.exec(body.text)?.[1] ?? '\t';
  if (returns && !pointer && !INTEGER.test(type)) return `result is a ${type}, which the twin does not return`;
  // a cancelled path ends the twin: what follows in the helper may need what the child's path left (a NULL checked)
  const w = new TwinWriter(own, unit, returns ? 'return 0;' : 'return;');
  try {
    const statements = blockStatements(body);
    w.statements(statements, unit, true);
    if (returns && statements.at(-1)?.type !== 'return_statement') throw new Refusal('body does not end in a return');
  } catch (e) {
    if (e instanceof Refusal) return e.message;
    throw e;
  }
  return {
    helper,
    file,
    name,
    prototype: `${twinHead.replace(/\s+/g, ' ')};`,
    definition: [
      `/* ${helper}() as the fork's child runs it, recorded into fx (forkexec codemod): its callers' fast path. */`,
      twinHead,
      '{',
      ...w.lines,
      '}',
    ].join('\n'),
    performs: [...w.performed],
    reads: [...w.reads].filter((r) => !own.has(r)),
    writes: [...w.written],
    asks: w.asks,
    integer: returns && !pointer && INTEGER.test(type),
  };
}

function functionDeclarator(def: Node): Node | null {
  let d = def.childForFieldName('declarator');
  while (d && d.type === 'pointer_declarator') d = d.childForFieldName('declarator');
  return d?.type === 'function_declarator' && d.childForFieldName('declarator')?.type === 'identifier' ? d : null;
}

/** Writes the twin's statements: the helper's, each action as its forkexec_* call, the rest as written or refused. */
class TwinWriter {
  readonly lines: string[] = [];
  readonly performed = new Set<string>();
  readonly reads = new Set<string>();
  /** Variables of its file it writes, which the twin skips. */
  readonly written = new Set<string>();
  asks = false;
  private readonly locals: Set<string>;

  constructor(
    params: Set<string>,
    private readonly unit: string,
    private readonly leave: string,
  ) {
    this.locals = new Set(params);
  }

  /** top: the helper's straight path, where a statement without an action refuses the twin (it would always cancel). */
  statements(list: Node[], at: string, top: boolean): void {
    // what this list sets stays its own: a field set under #if or an `if` is not set after it
    this.set.push(new Set(this.set.at(-1)));
    for (const st of list) {
      if (this.statement(st, at, top) === 'cancelled') break;
    }
    this.set.pop();
  }

  /** The `struct sigaction` locals set so far on this path: `sa.*` (cleared whole), `sa.sa_flags`, `sa.sa_handler`. */
  private readonly set: Set<string>[] = [new Set()];

  /** Notes what a statement sets of a struct sigaction local. */
  private sets(name: string, field: string): void {
    this.set.at(-1)!.add(`${name}.${field}`);
  }

  private statement(st: Node, at: string, top: boolean): 'cancelled' | void {
    const first = st.text.split('\n')[0];
    switch (st.type) {
      case 'declaration':
        return this.declaration(st, at);
      case 'compound_statement':
        this.lines.push(`${at}{`);
        this.statements(blockStatements(st), at + this.unit, top);
        this.lines.push(`${at}}`);
        return;
      case 'preproc_if':
      case 'preproc_ifdef':
        return this.preprocessor(st, at);
      case 'if_statement':
        return this.conditional(st, at, top);
      case 'return_statement': {
        const value = st.namedChild(0);
        if (value) this.expression(value, first);
        this.lines.push(`${at}${st.text.replace(/\s+/g, ' ')}`);
        return 'cancelled';
      }
      case 'expression_statement':
        return this.expressionStatement(st, at, top);
      default:
        throw new Refusal(`body has ${first}, which the twin does not record`);
    }
  }

  private declaration(st: Node, at: string): void {
    for (const d of st.childrenForFieldName('declarator')) {
      if (!d) continue;
      const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
      const target = d.type === 'init_declarator' ? d.childForFieldName('declarator')! : d;
      if (/\bstatic\b/.test(st.text)) throw new Refusal(`body declares ${target.text} static, memory of its own`);
      if (value && !/^\{\s*0?\s*\}$/.test(value.text)) this.expression(value, st.text.split('\n')[0]);
      this.locals.add(identifiers(target)[0]);
      if (value) this.sets(identifiers(target)[0], '*');
    }
    this.lines.push(`${at}${st.text.replace(/\s*\n\s*/g, ' ')}`);
  }

  private preprocessor(st: Node, at: string): void {
    for (let n: Node | null = st; n; n = n.childForFieldName('alternative')) {
      const name = n.childForFieldName('name') ?? n.childForFieldName('condition');
      this.lines.push(n.type === 'preproc_else' ? '#else' : `${n.child(0)!.text.trim()} ${name?.text ?? ''}`.trim());
      // each configuration is a path of its own: one without an action cancels
      this.statements(preprocStatements(n), at, false);
    }
    this.lines.push('#endif');
  }

  private conditional(st: Node, at: string, top: boolean): void {
    const condition = unparen(st.childForFieldName('condition')!);
    const consequence = st.childForFieldName('consequence')!;
    const alternative = st.childForFieldName('alternative')?.namedChildren.at(-1) ?? null;
    const tests = failureTests(condition);
    if (tests) {
      // the actions, in order: a failure takes the slow path, which runs the branch as written
      if (alternative || tests.some((t) => t.guards.length || t.target || t.lands))
        throw new Refusal(`body tests ${condition.text.split('\n')[0]}, which the twin does not record`);
      for (const t of tests) this.action(t.call, at, true);
      return;
    }
    const text = this.lookups(condition, at);
    this.expression(condition, `if (${condition.text})`);
    this.lines.push(`${at}if (${text}) {`);
    this.statements(statementsOf(consequence), at + this.unit, false);
    if (alternative) {
      this.lines.push(`${at}} else {`);
      this.statements(statementsOf(alternative), at + this.unit, false);
    }
    this.lines.push(`${at}}`);
    void top;
  }

  private expressionStatement(st: Node, at: string, top: boolean): 'cancelled' | void {
    const call = statementCall(st);
    const first = st.text.split('\n')[0];
    if (call) {
      const name = calleeName(call) ?? '';
      if (ENDS_BEFORE_EXEC.has(name)) return;
      const args = callArgs(call);
      if (LOCAL_WRITES.has(name) && args[0] && this.locals.has(baseName(args[0]) ?? '')) {
        args.slice(1).forEach((a) => this.expression(a, first));
        if (name === 'memset' && /^&\s*[A-Za-z_]\w*$/.test(args[0].text)) this.sets(baseName(args[0])!, '*');
        this.lines.push(`${at}${st.text.replace(/\s*\n\s*/g, ' ')}`);
        return;
      }
      if (this.action(call, at, false)) return;
      return this.cancel(at, top, `${name}() has no fork_before_exec action`);
    }
    const e = unparen(st.namedChild(0)!);
    const lookup = e.type === 'assignment_expression' ? this.lookups(e, at) : e.text;
    if (lookup !== e.text) {
      this.lines.push(`${at}${lookup};`);
      return;
    }
    if (e.type === 'assignment_expression') {
      const left = e.childForFieldName('left')!;
      const base = baseName(left);
      const through =
        left.type === 'pointer_expression' || left.type === 'subscript_expression' || /->/.test(left.text);
      if (!base || (!this.locals.has(base) && through))
        throw new Refusal(`body writes ${base ?? first} through a pointer, memory the twin cannot tell`);
      if (!this.locals.has(base)) {
        // a variable of its file (neomutt's `SysSignalsBlocked = false;`): the child's memory, which its exec discards;
        // the twin skips it, and nothing recorded after (here or in the caller) may read it
        this.expression(e.childForFieldName('right')!, first);
        this.written.add(base);
        return;
      }
      if (left.type === 'field_expression') this.sets(base, left.childForFieldName('field')!.text);
      this.expression(e.childForFieldName('right')!, first);
      this.lines.push(`${at}${st.text.replace(/\s*\n\s*/g, ' ')}`);
      return;
    }
    throw new Refusal(`body has ${first}, which the twin does not record`);
  }

  /**
   * The text of e with each `local = getpwnam(name)` (REENTRANT) as the reentrant lookup into the twin's buffers, the
   * local NULL when it fails; declares the buffers. The lookups are then no write for expression(): e as written when
   * it has none.
   */
  private lookups(e: Node, at: string): string {
    const found = [e, ...e.descendantsOfType('assignment_expression').map((n) => n!)].filter((a) => {
      if (a.type !== 'assignment_expression' || a.child(1)?.type !== '=') return false;
      const left = a.childForFieldName('left')!;
      const right = unparen(a.childForFieldName('right')!);
      return (
        left.type === 'identifier' &&
        this.locals.has(left.text) &&
        right.type === 'call_expression' &&
        Object.hasOwn(REENTRANT, calleeName(right) ?? '') &&
        callArgs(right).length === 1
      );
    });
    if (!found.length) return e.text;
    let text = e.text;
    for (const a of found.sort((x, y) => y.startIndex - x.startIndex)) {
      const left = a.childForFieldName('left')!.text;
      const right = unparen(a.childForFieldName('right')!);
      const arg = callArgs(right)[0];
      this.expression(arg, right.text);
      if (this.performed.size) throw new Refusal(`body looks ${left} up after an action, which may change the answer`);
      this.asks = true;
      const { call, type } = REENTRANT[calleeName(right)!];
      const n = ++this.buffers;
      this.lines.splice(this.declared++, 0, `${this.unit}${type} fx_entry${n};`, `${this.unit}char fx_buf${n}[16384];`);
      this.declared++;
      const lookup = `${left} = (${call}(${arg.text}, &fx_entry${n}, fx_buf${n}, sizeof fx_buf${n}, &${left}) == 0 ? ${left} : NULL)`;
      const from = a.startIndex - e.startIndex;
      text = text.slice(0, from) + lookup + text.slice(from + a.text.length);
      this.rewritten.add(a.id);
    }
    void at;
    return text;
  }

  /** Lookup buffers declared at the top of the twin, and how many lines they take there. */
  private buffers = 0;
  private declared = 0;
  /** Assignments lookups() rewrote: expression() lets them through. */
  private readonly rewritten = new Set<number>();

  /** A path the actions cannot say (a log line, a call without an action): the fast path is cancelled there. */
  private cancel(at: string, top: boolean, why: string): 'cancelled' {
    if (top) throw new Refusal(why.replace(/^/, 'body calls '));
    this.lines.push(`${at}${CANCEL};`, `${at}${this.leave}`);
    return 'cancelled';
  }

  /** call as its action, when it has one; tested: its failure is tested, so a checked close is refused. */
  private action(call: Node, at: string, tested: boolean): boolean {
    const name = calleeName(call) ?? '';
    const args = callArgs(call);
    if (['sigprocmask', 'pthread_sigmask', 'sigaction'].includes(name) && args[2] && !isNullPointer(args[2].text))
      throw new Refusal(`body keeps the old ${name === 'sigaction' ? 'action' : 'mask'} of ${name}()`);
    if (name === 'close' && tested) throw new Refusal('body checks a close(): the action ignores a closed fd');
    // a struct sigaction of its own: the bytes the child's holds where nothing set them are not the twin's
    const act = name === 'sigaction' && /^&\s*([A-Za-z_]\w*)$/.exec(args[1]?.text ?? '')?.[1];
    const set = this.set.at(-1)!;
    if (
      act &&
      this.locals.has(act) &&
      !set.has(`${act}.*`) &&
      !(set.has(`${act}.sa_flags`) && set.has(`${act}.sa_handler`))
    )
      throw new Refusal(`body hands ${act} to sigaction() before it sets its handler and flags on that path`);
    const mapped = actionFor(
      name,
      args.map((a) => a.text),
    );
    if ('blocker' in mapped) return false;
    args.forEach((a) => this.expression(a, call.text.split('\n')[0]));
    this.performed.add(/^forkexec_(\w+)/.exec(mapped.action)![1]);
    this.lines.push(`${at}${mapped.action};`);
    return true;
  }

  /** An expression the twin evaluates in the parent: it may ask what the parent answers as the child (before any
   * action), and read memory, but not write it. */
  private expression(e: Node, what: string): void {
    const writes = e.descendantsOfType(['assignment_expression', 'update_expression']);
    if (writes.some((n) => !this.rewritten.has(n!.id))) throw new Refusal(`body changes memory in ${what}`);
    for (const c of callsUnder(e)) {
      const name = calleeName(c) ?? '';
      if (this.rewritten.has(c.parent?.id ?? -1) || this.rewritten.has(c.parent?.parent?.id ?? -1)) continue;
      if (!Object.hasOwn(SAME_IN_PARENT, name))
        throw new Refusal(`body calls ${name || c.text}() in ${what}, which the parent may not answer as the child`);
      if (this.performed.size) throw new Refusal(`body calls ${name}() after an action, which may change its answer`);
      this.asks = true;
    }
    for (const id of identifiers(e)) {
      if (id === 'errno' || id === 'getpid')
        throw new Refusal(`body reads ${id} in ${what}, which differ in the parent`);
      if (this.written.has(id)) throw new Refusal(`body reads ${id} after it wrote it, which the twin skips`);
      if (!this.locals.has(id)) this.reads.add(id);
    }
  }
}
