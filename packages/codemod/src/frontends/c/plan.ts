import type { Node } from './syntax-tree.js';
import type { SiteAnalysis } from './classify.js';
import { blockStatements, callArgs, calleeName, callsUnder, same, statementCall, unparen } from './syntax.js';

/** How a convertible site becomes a fork_before_exec call. Texts are C source, `fx` names the action list. */
export interface ConversionPlan {
  /** Child statements that only build memory (argv, env, buffers) or log to stderr: they run in the parent. */
  hoisted: Node[];
  /** Locals the hoisted code allocates and the parent frees after the call. */
  frees: string[];
  /** forkexec_* calls, in the child's order, some under conditions the parent can evaluate. */
  actions: ActionEntry[];
  /** Statements of an execl-style argument list turned into an array. */
  argvArray?: string[];
  file: string;
  argv: string;
  envp: string;
  flags: string;
  exitStatus: string;
  /** The child's statements, all in one block, that the call replaces. */
  region: { first: Node; last: Node; form: 'branch' | 'else' | 'case' | 'tail'; test?: Node };
}

/** A forkexec_* call, or actions the child ran under a condition whose value the parent knows just as well. */
export type ActionEntry =
  string | { condition: string; then: ActionEntry[]; otherwise: ActionEntry[] } | { loop: string; body: ActionEntry[] };

export type PlanResult = { plan: ConversionPlan } | { blockers: string[] };

const NULL_POINTER = /^\(\s*(?:char|void|const\s+char)\s*\*\s*\)\s*(?:0|NULL)$|^(?:0|NULL|nullptr)$/;
const HOISTABLE_ALLOC = new Set(['malloc', 'calloc', 'strdup', 'strndup']);
const HOISTABLE_PURE = new Set(['strlen', 'strcmp', 'strncmp', 'strchr', 'strrchr']);
/** Memory-only calls whose first argument is the memory they write. */
const HOISTABLE_WRITES = new Set([
  'snprintf',
  'sprintf',
  'strcpy',
  'strncpy',
  'strcat',
  'strncat',
  'memcpy',
  'memset',
  'sigemptyset',
  'sigfillset',
  'sigaddset',
  'sigdelset',
]);
const STDERR = /^(?:stderr|2|STDERR_FILENO)$/;

/** The variable at the root of an lvalue: `args[i]` → args, `&set` → set, `rl.rlim_cur` → rl. */
function baseName(node: Node): string | null {
  let n = unparen(node);
  for (;;) {
    if (n.type === 'identifier') return n.text;
    if (n.type === 'subscript_expression') n = unparen(n.childForFieldName('argument')!);
    else if (n.type === 'field_expression' && n.child(1)?.type === '.') n = unparen(n.childForFieldName('argument')!);
    else if (n.type === 'pointer_expression' && n.child(0)?.type === '&') n = unparen(n.childForFieldName('argument')!);
    else return null;
  }
}

function calls(node: Node): string[] {
  return callsUnder(node).map((c) => calleeName(c) ?? c.childForFieldName('function')!.text);
}

function exitStatus(stmt: Node | null | undefined): string | null {
  if (!stmt) return null;
  if (stmt.type === 'compound_statement') {
    const list = blockStatements(stmt);
    return list.length === 1 ? exitStatus(list[0]) : null;
  }
  const call = statementCall(stmt);
  const name = call && calleeName(call);
  // exit() would also flush the stdio buffers the child copied from the parent and run atexit handlers: only the
  // immediate exits mean what fork_before_exec's child does.
  if (!call || (name !== '_exit' && name !== '_Exit')) return null;
  const [arg] = callArgs(call);
  return arg && /^(?:[0-9]+|EXIT_FAILURE|EXIT_SUCCESS)$/.test(arg.text) ? arg.text : null;
}

/** `if (CALL(...) < 0) _exit(S);` and its spellings: the call and S, or null. */
function checkedCall(stmt: Node): { call: Node; status: string } | null {
  if (stmt.type !== 'if_statement' || stmt.childForFieldName('alternative')) return null;
  const status = exitStatus(stmt.childForFieldName('consequence'));
  if (!status) return null;
  let cond = unparen(stmt.childForFieldName('condition')!);
  if (cond.type === 'binary_expression') {
    const spelled = `${cond.childForFieldName('operator')?.type} ${cond.childForFieldName('right')!.text}`;
    if (!['< 0', '== -1', '!= 0'].includes(spelled)) return null;
    cond = unparen(cond.childForFieldName('left')!);
  }
  return cond.type === 'call_expression' ? { call: cond, status } : null;
}

class Planner {
  readonly blockers: string[] = [];
  readonly hoisted: Node[] = [];
  readonly frees: string[] = [];
  actions: ActionEntry[] = [];
  /** Actions recorded so far, in every branch: logging after any of them may see a changed stderr. */
  actionCount = 0;
  readonly locals = new Set<string>();
  /** Exit statuses the child's checked actions use; each must equal the exec failure status. */
  readonly checkedStatuses: string[] = [];
  stderrMoved = false;
  usesEnvActions = false;

  constructor(readonly vfork: boolean) {}

  block(why: string): void {
    if (!this.blockers.includes(why)) this.blockers.push(why);
  }

  /** Can this expression be evaluated in the parent, before the child exists, with the same value? */
  hoistSafe(expr: Node): boolean {
    for (const name of calls(expr)) {
      if (name === 'open' || name === 'openat') {
        this.block(`${name}() in the child: opening a file onto an fd is not matched yet (forkexec_open)`);
        return false;
      }
      if (!HOISTABLE_ALLOC.has(name) && !HOISTABLE_PURE.has(name)) {
        this.block(`${name}() in the child's computations: its result may differ in the parent`);
        return false;
      }
    }
    return !/\b(?:errno|getpid)\b/.test(expr.text);
  }

  noCalls(args: Node[], what: string): boolean {
    const inner = args.flatMap((a) => calls(a));
    if (inner.length) this.block(`${what} calls ${inner[0]}() in its arguments: it would run in the parent`);
    return inner.length === 0;
  }

  declaration(stmt: Node): void {
    for (const d of stmt.childrenForFieldName('declarator')) {
      if (!d) continue;
      const value = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
      const target = d.type === 'init_declarator' ? d.childForFieldName('declarator')! : d;
      const name =
        target.descendantsOfType('identifier')[0]?.text ?? (target.type === 'identifier' ? target.text : null);
      if (!name) return this.block(`declaration ${stmt.text.split('\n')[0]} in the child`);
      if (value && value.type !== 'initializer_list' && !this.hoistSafe(value)) return;
      if (value?.type === 'initializer_list' && !this.hoistSafe(value)) return;
      this.locals.add(name);
      if (value && value.type === 'call_expression' && HOISTABLE_ALLOC.has(calleeName(value) ?? ''))
        this.frees.push(name);
    }
    this.hoisted.push(stmt);
  }

  /** A child statement before the exec. */
  statement(stmt: Node): void {
    if (stmt.type === 'declaration') return this.declaration(stmt);
    if (stmt.type.startsWith('preproc_'))
      return this.block('preprocessor alternatives in the child branch: each configuration needs its own actions');
    if (stmt.type === 'for_statement') return this.loop(stmt);
    if (['while_statement', 'do_statement'].includes(stmt.type))
      return this.block('a while loop in the child: its actions depend on run-time data');
    if (stmt.type === 'if_statement') {
      const checked = checkedCall(stmt);
      if (!checked) return this.conditional(stmt);
      this.checkedStatuses.push(checked.status);
      return this.call(checked.call, true);
    }
    if (stmt.type !== 'expression_statement') return this.block(`a ${stmt.type.replace(/_/g, ' ')} in the child`);
    const call = statementCall(stmt);
    if (call) return this.call(call, false, stmt);
    const e = unparen(stmt.namedChild(0)!);
    if (e.type === 'assignment_expression') {
      const base = baseName(e.childForFieldName('left')!);
      if (base && this.locals.has(base)) {
        if (this.writes(base) && this.hoistSafe(e.childForFieldName('right')!)) this.hoisted.push(stmt);
        return;
      }
      return this.block(
        this.vfork
          ? `assignment to ${e.childForFieldName('left')!.text}: a vfork child writes the parent's memory`
          : `assignment to ${e.childForFieldName('left')!.text} in the child`,
      );
    }
    this.block(`statement ${stmt.text.split('\n')[0]} in the child`);
  }

  /**
   * The open-onto-an-fd idiom: `fd = open(path, flags[, mode]);` [`if (fd < 0) _exit(S);`] `dup2(fd, N);`...
   * `close(fd);` becomes forkexec_open onto the first N (and dup2s for the others). Returns the statements it used.
   */
  openIdiom(list: Node[], i: number, end: number): number {
    const s = list[i];
    let fd: string | null = null;
    let open: Node | null = null;
    if (s.type === 'declaration') {
      const decls = s.childrenForFieldName('declarator');
      const d = decls.length === 1 ? decls[0] : null;
      const value = d?.type === 'init_declarator' ? unparen(d.childForFieldName('value')!) : null;
      if (value?.type === 'call_expression' && d!.childForFieldName('declarator')!.type === 'identifier') {
        fd = d!.childForFieldName('declarator')!.text;
        open = value;
      }
    } else if (s.type === 'expression_statement') {
      const e = unparen(s.namedChild(0)!);
      const right = e.type === 'assignment_expression' ? unparen(e.childForFieldName('right')!) : null;
      const left = e.type === 'assignment_expression' ? e.childForFieldName('left')! : null;
      if (
        right?.type === 'call_expression' &&
        left?.type === 'identifier' &&
        (!this.vfork || this.locals.has(left.text))
      ) {
        fd = left.text;
        open = right;
      }
    }
    if (!fd || !open || calleeName(open) !== 'open') return 0;
    const args = callArgs(open);
    if (args.length < 2 || args.flatMap((a) => calls(a)).length) return 0;
    let j = i + 1;
    let checked: string | null = null;
    const guard = list[j];
    if (guard?.type === 'if_statement' && !guard.childForFieldName('alternative')) {
      const cond = unparen(guard.childForFieldName('condition')!).text.replace(/\s+/g, '');
      const status = exitStatus(guard.childForFieldName('consequence'));
      if (status && (cond === `${fd}<0` || cond === `${fd}==-1`)) {
        checked = status;
        j++;
      }
    }
    const targets: string[] = [];
    for (; j < end; j++) {
      const call = statementCall(list[j]);
      const a = call && calleeName(call) === 'dup2' ? callArgs(call) : [];
      if (a.length !== 2 || a[0].text !== fd || !/^[0-9]+$|^STD(?:IN|OUT|ERR)_FILENO$/.test(a[1].text)) break;
      targets.push(a[1].text);
    }
    const close = j < end ? statementCall(list[j]) : null;
    if (!targets.length || !close || calleeName(close) !== 'close' || callArgs(close)[0]?.text !== fd) return 0;
    j++;
    // The fd variable is gone after the rewrite: nothing after the idiom may use it.
    const mentions = new RegExp(`\\b${fd}\\b`);
    if (list.slice(j).some((n) => mentions.test(n.text))) return 0;
    if (checked) this.checkedStatuses.push(checked);
    else if (args[0].text !== '"/dev/null"')
      this.block('open() in the child ignores its failure, where the action would fail the spawn');
    if (targets.some((t) => t === '2' || t === 'STDERR_FILENO')) this.stderrMoved = true;
    this.action(`forkexec_open(fx, ${targets[0]}, ${args[0].text}, ${args[1].text}, ${args[2]?.text ?? '0'})`);
    for (const t of targets.slice(1)) this.action(`forkexec_dup2(fx, ${targets[0]}, ${t})`);
    return j - i;
  }

  /** Child locals that actions or conditions already read: the parent computes them all first, so none may change later. */
  readonly readByActions = new Set<string>();

  noteReads(text: string): void {
    for (const id of text.match(/\b[A-Za-z_]\w*\b/g) ?? []) if (this.locals.has(id)) this.readByActions.add(id);
  }

  /** Hoisting a write to a child local is only the same when no earlier action read that local. */
  writes(base: string): boolean {
    if (!this.readByActions.has(base)) return true;
    this.block(
      `the child changes ${base} after an action used it: computed in the parent first, the action would see the new value`,
    );
    return false;
  }

  action(text: string): void {
    this.noteReads(text);
    this.actions.push(text);
    this.actionCount++;
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
    if (
      counter &&
      cond &&
      single &&
      calleeName(single) === 'close' &&
      callArgs(single)[0]?.text === counter &&
      update!.text.includes('++')
    ) {
      const start = /^(?:int\s+)?(\w+)\s*=\s*([0-9]+)\s*;?$/.exec(init?.text ?? '');
      const limit =
        cond.type === 'binary_expression' &&
        cond.childForFieldName('left')?.text === counter &&
        cond.childForFieldName('operator')?.type === '<'
          ? cond.childForFieldName('right')!.text.replace(/\s+/g, '')
          : '';
      if (start?.[1] === counter && /^(?:getdtablesize\(\)|sysconf\(_SC_OPEN_MAX\)|OPEN_MAX)$/.test(limit)) {
        if (Number(start[2]) <= 2) this.stderrMoved = true;
        return this.action(`forkexec_closefrom(fx, ${start[2]})`);
      }
    }
    const declaredName = init?.type === 'declaration' ? init.descendantsOfType('identifier')[0]?.text : undefined;
    const steps = new RegExp(
      `^(?:(?:\\+\\+|--)${declaredName}|${declaredName}(?:\\+\\+|--)|${declaredName}\\s*[-+]=\\s*[0-9]+)$`,
    );
    const ownCounter =
      !!declaredName &&
      !!update &&
      steps.test(update.text.trim()) &&
      !cond?.descendantsOfType(['assignment_expression', 'update_expression']).length;
    const impure =
      [cond, update].some(
        (n) => n && (n.descendantsOfType('call_expression').length > 0 || /\b(?:errno|environ)\b/.test(n.text)),
      ) ||
      (init && init.descendantsOfType('call_expression').length > 0);
    if (!ownCounter || impure || !init)
      return this.block(
        'a loop in the child over run-time state (a call, or a counter the parent would see change): its actions depend on it',
      );
    const header = stmt.text
      .slice(stmt.child(1)!.endIndex - stmt.startIndex, body.startIndex - stmt.startIndex)
      .replace(/\)\s*$/, '');
    const declared = declaredName;
    const saved = this.actions;
    const hoisted = this.hoisted.length;
    const list: ActionEntry[] = [];
    this.actions = list;
    if (declared) this.locals.add(declared);
    for (const s of bodyStmts) this.statement(s);
    if (declared) this.locals.delete(declared);
    this.actions = saved;
    if (this.hoisted.length !== hoisted)
      this.block('a loop in the child computes memory or logs: only actions may repeat');
    this.noteReads(header);
    this.actions.push({ loop: header, body: list });
  }

  /**
   * `if (fd != 1) { dup2(fd, 1); close(fd); }`: when the condition reads only memory (no calls, no writes, nothing the
   * child's earlier steps change), the parent evaluates it while it builds the actions, with the same result.
   */
  conditional(stmt: Node): void {
    const condition = unparen(stmt.childForFieldName('condition')!);
    const impure =
      condition.descendantsOfType(['call_expression', 'assignment_expression', 'update_expression']).length > 0 ||
      /\b(?:errno|environ)\b/.test(condition.text);
    if (impure)
      return this.block(
        'a conditional in the child tests run-time state (a call, errno, environ): its actions depend on it',
      );
    this.noteReads(condition.text);
    const branch = (node: Node | null | undefined): ActionEntry[] => {
      const saved = this.actions;
      const hoisted = this.hoisted.length;
      const list: ActionEntry[] = [];
      this.actions = list;
      for (const s of !node ? [] : node.type === 'compound_statement' ? blockStatements(node) : [node])
        this.statement(s);
      this.actions = saved;
      if (this.hoisted.length !== hoisted)
        this.block('a conditional in the child computes memory or logs: only actions may depend on a condition');
      return list;
    };
    const then = branch(stmt.childForFieldName('consequence'));
    const otherwise = branch(stmt.childForFieldName('alternative')?.namedChildren.at(-1));
    this.actions.push({ condition: condition.text, then, otherwise });
  }

  call(call: Node, checked: boolean, stmt?: Node): void {
    const name = calleeName(call);
    if (!name) return this.block(`a call through ${call.childForFieldName('function')!.text} in the child`);
    const args = callArgs(call);
    const a = args.map((n) => n.text);
    const mayFail = (what: string) => {
      if (!checked) this.block(`${what}: the child ignores its failure, where the action would fail the spawn`);
    };
    if (HOISTABLE_WRITES.has(name)) {
      const base = args[0] && baseName(args[0]);
      if (stmt && base && this.locals.has(base) && this.writes(base) && args.every((arg) => this.hoistSafe(arg))) {
        this.hoisted.push(stmt);
        return;
      }
      return this.block(`${name}() writes memory the child does not own`);
    }
    if (!this.noCalls(args, `${name}()`)) return;
    switch (name) {
      case 'close':
        if (checked)
          return this.block('a checked close(): the child exits on EBADF, where the action ignores a closed fd');
        if (a[0] === '2') this.stderrMoved = true;
        return this.action(`forkexec_close(fx, ${a[0]})`);
      case 'dup2':
        if (a[1] === '2' || a[1] === 'STDERR_FILENO') this.stderrMoved = true;
        return this.action(`forkexec_dup2(fx, ${a[0]}, ${a[1]})`);
      case 'closefrom':
        this.stderrMoved ||= !/^[3-9][0-9]*$/.test(a[0]);
        return this.action(`forkexec_closefrom(fx, ${a[0]})`);
      case 'chdir':
      case 'fchdir':
        mayFail(`${name}()`);
        return this.action(`forkexec_${name}(fx, ${a[0]})`);
      case 'setsid':
        return this.action('forkexec_setsid(fx)');
      case 'setpgrp':
        return this.action('forkexec_setpgid(fx, 0)');
      case 'setpgid':
        if (a[0] !== '0') return this.block('setpgid() of another process than the child');
        return this.action(`forkexec_setpgid(fx, ${a[1]})`);
      case 'umask':
        return this.action(`forkexec_umask(fx, ${a[0]})`);
      case 'signal':
        if (a[1] === 'SIG_DFL') return this.action(`forkexec_sigdefault(fx, ${a[0]})`);
        if (a[1] === 'SIG_IGN') return this.action(`forkexec_sigignore(fx, ${a[0]})`);
        return this.block('signal() installs a handler in the child');
      case 'sigprocmask':
      case 'pthread_sigmask':
        if (a[0] !== 'SIG_SETMASK' || !NULL_POINTER.test(a[2] ?? ''))
          return this.block(`${name}() other than SIG_SETMASK without the old mask`);
        return this.action(`forkexec_sigmask(fx, ${a[1]})`);
      case 'setgid':
      case 'setuid':
        mayFail(`${name}()`);
        return this.action(`forkexec_${name}(fx, ${a[0]})`);
      case 'setgroups':
        mayFail('setgroups()');
        return this.action(`forkexec_setgroups(fx, ${a[0]}, ${a[1]})`);
      case 'setrlimit':
        mayFail('setrlimit()');
        return this.action(`forkexec_setrlimit(fx, ${a[0]}, ${a[1]})`);
      case 'nice':
        if (!/^[0-9]+$/.test(a[0])) mayFail('nice() with a negative or computed increment');
        return this.action(`forkexec_nice(fx, ${a[0]})`);
      case 'setenv':
        if (a[2] === '0') return this.block('setenv() without overwrite');
        this.usesEnvActions = true;
        return this.action(`forkexec_setenv(fx, ${a[0]}, ${a[1]})`);
      case 'unsetenv':
        this.usesEnvActions = true;
        return this.action(`forkexec_unsetenv(fx, ${a[0]})`);
      case 'fprintf':
      case 'fputs':
      case 'fputc':
      case 'dprintf':
      case 'write': {
        const stream = name === 'fprintf' || name === 'dprintf' || name === 'write' ? a[0] : a[1];
        if (!stmt || checked || !STDERR.test(stream ?? ''))
          return this.block(
            `${name}() to ${stream} in the child: buffered or redirected output cannot move to the parent`,
          );
        if (this.stderrMoved || this.actionCount)
          return this.block(
            `${name}() to stderr after the child changed its fds or state: the parent's stderr would differ`,
          );
        this.hoisted.push(stmt);
        return;
      }
      case 'open':
      case 'openat':
        return this.block(`${name}() in the child: opening a file onto an fd is not matched yet (forkexec_open)`);
      default:
        return this.block(`${name}() in the child has no fork_before_exec action`);
    }
  }
}

const EXEC_FLAGS: Record<string, string> = {
  execv: '0',
  execve: '0',
  execl: '0',
  execle: '0',
  execvp: 'FORKEXEC_SEARCH_PATH',
  execlp: 'FORKEXEC_SEARCH_PATH',
};

function castArg(text: string): string {
  return /^(?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")$/.test(text) ? `(char *)${text}` : `(char *)(${text})`;
}

/** Where the child's code sits: one block, one else, one case, or the tail of the block after the parent's test. */
function findRegion(a: SiteAnalysis): ConversionPlan['region'] | string {
  const stmts = a.childStatements;
  const first = stmts[0];
  const last = stmts.at(-1)!;
  const parent = first.parent!;
  const owner = parent.type === 'case_statement' ? parent.parent! : parent;
  if (!['compound_statement'].includes(owner.type)) return 'the child is not a block of statements';
  const list = blockStatements(owner);
  const i = list.findIndex((s) => same(s, first));
  const run = list.slice(i, i + stmts.length);
  if (run.length !== stmts.length || run.some((s, k) => !same(s, stmts[k])))
    return 'the child runs statements from several blocks';
  const after = list.slice(i + stmts.length);
  const reachedByParent = [...a.parent.statements, ...a.failed.statements].some((s) => stmts.some((c) => same(c, s)));
  if (reachedByParent) return 'the parent (or a failed fork) also runs the child statements';
  if (parent.type === 'case_statement' || list[i - 1]?.type === 'case_statement') {
    const label = parent.type === 'case_statement' ? parent : list[i - 1];
    if (!same(list[i - 1], label) || (after.length && after[0].type !== 'case_statement'))
      return 'the child shares its case with other code';
    return { first, last, form: 'case', test: label };
  }
  if (after.length) return 'statements follow the child in its block';
  const holder = owner.parent!;
  if (holder.type === 'if_statement' && same(holder.childForFieldName('consequence'), owner) && i === 0)
    return { first, last, form: 'branch', test: holder };
  if (holder.type === 'else_clause' && i === 0) return { first, last, form: 'else', test: holder.parent! };
  // The tail of a block: the parent left it earlier (`if (pid > 0) return pid;`).
  return { first, last, form: 'tail' };
}

export function planConversion(a: SiteAnalysis): PlanResult {
  const { site } = a;
  if (site.class !== 'fork+exec') return { blockers: [site.reason ?? `class ${site.class}`] };
  if (site.call !== 'fork' && site.call !== 'vfork')
    return {
      blockers: [
        site.call === 'forkpty'
          ? 'forkpty() sets up a pseudo-terminal, which has no action'
          : (site.reason ?? `forks through ${site.call}()`),
      ],
    };
  if (a.child.leftForkStatement)
    return {
      blockers: [
        "the child falls out of the fork statement into code a path without fork shares: exec is not only the child's",
      ],
    };
  if (a.child.end !== 'exit')
    return {
      blockers: [
        a.child.end === 'return' || a.child.end === 'function-end'
          ? 'the child returns to the caller when exec fails'
          : 'the child does not exit when exec fails',
      ],
    };
  const holder = a.forkStatement.parent?.type ?? '';
  if (holder.startsWith('preproc_'))
    return { blockers: ['the fork sits inside #if/#ifdef: each configuration needs its own rewrite'] };
  if (!['compound_statement', 'case_statement', 'translation_unit'].includes(holder))
    return { blockers: ['the fork statement is not directly in a block'] };
  if (!a.childStatements.length) return { blockers: ['empty child'] };
  if (a.childStatements.some((s) => /\bfx(?:_err|_argv)?\b/.test(s.text)))
    return { blockers: ['the child uses a name the rewrite declares (fx, fx_err, fx_argv)'] };
  const region = findRegion(a);
  if (typeof region === 'string') return { blockers: [region] };

  const planner = new Planner(site.call === 'vfork');
  const stmts = a.childStatements;
  if (stmts.some((s) => s.type.startsWith('preproc_')))
    planner.block('preprocessor alternatives in the child branch: each configuration needs its own actions');
  const execIndex = stmts.findIndex((s) => {
    const call = statementCall(s);
    return !!call && calleeName(call) === site.exec;
  });
  if (execIndex < 0) planner.block(`${site.exec}() is not a statement of its own in the child's block`);
  const execCount = stmts
    .flatMap((s) => callsUnder(s))
    .filter((c) => calleeName(c)?.startsWith('exec') || calleeName(c) === 'fexecve').length;
  if (execCount > 1) planner.block('several exec attempts in the child');
  for (let i = 0; i < execIndex;) {
    const used = planner.openIdiom(stmts, i, execIndex);
    if (!used) planner.statement(stmts[i]);
    i += used || 1;
  }
  const afterExec = stmts.slice(execIndex + 1);
  const status = exitStatus(afterExec.at(-1));
  if (site.call === 'vfork' && afterExec.some((s) => s.descendantsOfType('assignment_expression').length))
    planner.block("a vfork child that writes the parent's memory after a failed exec (it stores errno for the parent)");
  if (afterExec.length > 1)
    planner.block(
      'the child reports a failed exec itself (it logs or cleans up before exiting): fork_before_exec cannot run code after a failed exec',
    );
  const lastCall = afterExec.length ? statementCall(afterExec.at(-1)!) : null;
  if (!status)
    planner.block(
      /errno/.test(afterExec.at(-1)?.text ?? '')
        ? 'the exit status of a failed exec is computed from errno'
        : lastCall && calleeName(lastCall) === 'exit'
          ? 'exit() after a failed exec flushes the stdio buffers copied from the parent and runs atexit handlers; the converted child would _exit'
          : 'the exit status of a failed exec is not a constant',
    );
  for (const s of planner.checkedStatuses)
    if (s !== status)
      planner.block(
        `an action failure exits with ${s} but a failed exec with ${status}: one status for both is all fork_before_exec keeps`,
      );
  const exec = statementCall(stmts[execIndex] ?? stmts[0]);
  const execName = site.exec!;
  if (!(execName in EXEC_FLAGS))
    planner.block(
      execName === 'execvpe'
        ? "execvpe() searches the parent's PATH but runs with another environment"
        : `${execName}() has no fork_before_exec equivalent`,
    );
  if (planner.blockers.length || !exec) return { blockers: planner.blockers };

  const args = callArgs(exec);
  if (!planner.noCalls(args, `${execName}()`)) return { blockers: planner.blockers };
  const plan: ConversionPlan = {
    hoisted: planner.hoisted,
    frees: planner.frees,
    actions: planner.actions,
    file: args[0].text,
    argv: '',
    envp: 'NULL',
    flags: EXEC_FLAGS[execName],
    exitStatus: status!,
    region,
  };
  if (execName.startsWith('execl')) {
    const list = args.slice(1).map((n) => n.text);
    if (execName === 'execle') plan.envp = list.pop() ?? 'NULL';
    if (!NULL_POINTER.test(list.at(-1) ?? ''))
      return { blockers: [`${execName}()'s argument list does not end with a null pointer`] };
    plan.argvArray = [...list.slice(0, -1).map(castArg), 'NULL'];
    plan.argv = 'fx_argv';
  } else {
    plan.argv = args[1]?.text ?? 'NULL';
    if (execName === 'execve') plan.envp = args[2]?.text ?? 'NULL';
  }
  if (planner.usesEnvActions && plan.envp !== 'NULL')
    return { blockers: ['the child changes its environment but execs with an explicit one'] };
  return { plan };
}
