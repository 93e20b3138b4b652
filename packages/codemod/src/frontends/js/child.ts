/**
 * Reads a fork child's statements: each must map to an action (dup2, close, open, chdir,
 * setsid, setpgid, umask, signal dispositions, env assignments), then one exec, then only what
 * runs when exec fails (`_exit(127)`, a message). Anything else blocks the rewrite, with a reason.
 */
import type { NodePath } from '@babel/traverse';
import * as t from '@babel/types';
import { ACTION_OPS } from '@forkexec/core';
import type { SiteClass } from '../../model.js';
import { globalCallee, importedName, isProcessMember } from './bindings.js';
import { calleeText, identifiersOf, impurity, inline } from './expressions.js';

/** Action constructors of the POSIX module a child statement may call: one per action op. */
const ACTION_NAMES: ReadonlySet<string> = new Set(ACTION_OPS);
export const EXEC_NAMES = new Set(['execv', 'execvp', 'execve', 'execvpe', 'execl', 'execlp', 'execle']);
export const FS_MODULES: ReadonlySet<string> = new Set(['fs', 'node:fs']);
/** Modules whose functions never exec. */
const KNOWN_MODULES = new Set([...FS_MODULES, 'path', 'node:path']);
/** Calls that only report a failed exec. */
const LOG_CALLS = new Set(['console.error', 'console.log', 'console.warn', 'process.stderr.write', 'perror']);

export type Ref = (name: string) => t.Expression;

export interface ExecCall {
  name: string;
  file: t.Expression;
  argv: t.Expression;
  env: t.Expression | null;
}

export interface ChildPlan {
  /** Builders of the action list entries, in order; `ref` names an export of the POSIX module. */
  actions: ((ref: Ref) => t.Expression)[];
  exec: ExecCall;
  /** `process.env.K = v` (value) or `delete process.env.K` (null), applied to the parent's env. */
  envChanges: { key: t.Expression; computed: boolean; value: t.Expression | null }[];
}

export interface ChildAnalysis {
  class: SiteClass;
  operations: string[];
  exec?: string;
  blockers: string[];
  reason?: string;
  plan?: ChildPlan;
}

export interface ChildContext {
  modules: ReadonlySet<string>;
  pid: string | null;
  /** Whether a call ends the process (`_exit`, `process.exit`). */
  isExit(call: NodePath<t.CallExpression>): boolean;
}

interface PendingOpen {
  call: t.CallExpression;
  /** The fd the file was first moved onto, once dup2 did. */
  target: t.Expression | null;
}

/**
 * What a call to a function of this file does about exec, looking two calls deep:
 * 'exec' if its body execs, 'none' if not, 'unknown' if the callee is not a local function.
 */
function helperExecs(call: NodePath<t.CallExpression>, ctx: ChildContext, depth = 2): 'exec' | 'none' | 'unknown' {
  const callee = call.node.callee;
  if (!t.isIdentifier(callee)) return 'unknown';
  const binding = call.scope.getBinding(callee.name);
  let fn: NodePath | null = null;
  if (binding?.path.isFunctionDeclaration()) fn = binding.path;
  else if (binding?.path.isVariableDeclarator()) {
    const init = binding.path.get('init');
    if (!Array.isArray(init) && (init.isFunctionExpression() || init.isArrowFunctionExpression())) fn = init;
  }
  if (!fn) return 'unknown';
  let found = false;
  fn.traverse({
    CallExpression(inner) {
      if (found) return;
      const name = importedName(inner, inner.node.callee, ctx.modules);
      if (name && EXEC_NAMES.has(name)) found = true;
      else if (depth > 1 && inner.node !== call.node && helperExecs(inner, ctx, depth - 1) === 'exec') found = true;
    },
  });
  return found ? 'exec' : 'none';
}

/** Every exec call (and whether a return, or an unknown call) anywhere under the statements. */
function survey(statements: NodePath<t.Statement>[], ctx: ChildContext) {
  const execs: NodePath<t.CallExpression>[] = [];
  let returns = false;
  let helper: string | null = null;
  let unknown: string | null = null;
  for (const s of statements) {
    if (s.isReturnStatement()) returns = true;
    const visit = {
      ReturnStatement(p: NodePath<t.ReturnStatement>) {
        if (!p.getFunctionParent() || p.getFunctionParent() === s.getFunctionParent()) returns = true;
      },
      CallExpression(p: NodePath<t.CallExpression>) {
        const name = importedName(p, p.node.callee, ctx.modules);
        if (name && EXEC_NAMES.has(name)) execs.push(p);
        else if (name === null && !globalCallee(p, p.node.callee) && !importedName(p, p.node.callee, KNOWN_MODULES)) {
          const helps = helperExecs(p, ctx);
          if (helps === 'exec') helper ??= calleeText(p.node.callee);
          else if (helps === 'unknown') unknown ??= calleeText(p.node.callee);
        }
      },
      Function(p: NodePath<t.Function>) {
        p.skip();
      },
    };
    s.traverse(visit);
  }
  return { execs, returns, helper: helper as string | null, unknown: unknown as string | null };
}

function execCall(
  name: string,
  call: NodePath<t.CallExpression>,
  consts: Map<string, t.Expression>,
): ExecCall | string {
  const args = call.node.arguments.map((a) => inline(a, consts));
  const withoutNull = (list: t.Node[]) =>
    list.length && t.isNullLiteral(list[list.length - 1]) ? list.slice(0, -1) : list;
  if (args.some((a) => t.isArgumentPlaceholder(a) || t.isJSXNamespacedName(a)))
    return `${name}() has unusual arguments`;
  const exprs = args as (t.Expression | t.SpreadElement)[];
  const file = exprs[0];
  if (!file || t.isSpreadElement(file)) return `${name}() needs the program as its first argument`;
  const vector = name.startsWith('execv');
  const withEnv = name.endsWith('e');
  if (vector) {
    const argv = exprs[1];
    if (!argv || t.isSpreadElement(argv)) return `${name}() needs an argv array`;
    const env = withEnv ? exprs[2] : null;
    if (withEnv && (!env || t.isSpreadElement(env))) return `${name}() needs an environment`;
    return { name, file, argv, env: (env as t.Expression | null) ?? null };
  }
  let rest = exprs.slice(1);
  let env: t.Expression | null = null;
  if (withEnv) {
    const last = rest[rest.length - 1];
    if (!last || t.isSpreadElement(last)) return `${name}() needs the environment as its last argument`;
    env = last;
    rest = rest.slice(0, -1);
  }
  rest = withoutNull(rest) as typeof rest;
  if (rest.length === 0) return `${name}() needs at least argv[0]`;
  return { name, file, argv: t.arrayExpression(rest), env };
}

function readsProcessEnv(node: t.Node, at: NodePath): boolean {
  let found = false;
  t.traverseFast(node, (n) => {
    if (t.isMemberExpression(n) && isProcessMember(at, n, 'env')) found = true;
  });
  return found;
}

/** Reads the child's statements one by one, into operations, blockers and the plan's actions, env changes and exec. */
class ChildReader {
  readonly operations: string[] = [];
  readonly blockers: string[] = [];
  readonly actions: ChildPlan['actions'] = [];
  readonly envChanges: ChildPlan['envChanges'] = [];
  exec: ExecCall | null = null;
  execName: string | undefined;
  private readonly consts = new Map<string, t.Expression>();
  private readonly opens = new Map<string, PendingOpen>();

  constructor(
    private readonly statements: NodePath<t.Statement>[],
    private readonly ctx: ChildContext,
  ) {}

  read(): void {
    for (const s of this.statements) {
      if (this.exec) this.afterExec(s);
      else this.beforeExec(s);
    }
    for (const [name, pending] of this.opens)
      if (pending.target === null) this.blockers.push(`the child opens ${name} without moving it onto an fd`);
  }

  private block(op: string, why: string): void {
    this.operations.push(op);
    this.blockers.push(why);
  }

  /** Checks that `node` may be evaluated at fork time, and inlines the child's constants. */
  private movable(node: t.Node, at: NodePath, what: string): boolean {
    const problem = impurity(node, at);
    if (problem) {
      this.blockers.push(`${what} ${problem}`);
      return false;
    }
    if (this.envChanges.length && readsProcessEnv(node, at)) {
      this.blockers.push(`${what} reads process.env after the child changed it`);
      return false;
    }
    for (const id of identifiersOf(node)) {
      if (this.ctx.pid !== null && id.name === this.ctx.pid) {
        this.blockers.push(`${what} uses the pid variable, which is 0 in the child`);
        return false;
      }
      if (this.opens.has(id.name)) {
        this.blockers.push(`${what} uses the fd ${id.name} as a value`);
        return false;
      }
      const binding = at.scope.getBinding(id.name);
      if (binding && !this.consts.has(id.name) && this.statements.some((s) => binding.path.isDescendant(s))) {
        this.blockers.push(`${what} uses ${id.name}, which the child computes`);
        return false;
      }
    }
    return true;
  }

  private waitingOpen(): boolean {
    return [...this.opens.values()].some((o) => o.target === null);
  }

  /** Only what runs when exec fails may follow it. */
  private afterExec(s: NodePath<t.Statement>): void {
    if (s.isExpressionStatement() && s.get('expression').isCallExpression()) {
      const call = s.get('expression') as NodePath<t.CallExpression>;
      const name = importedName(call, call.node.callee, this.ctx.modules);
      if (this.ctx.isExit(call)) return void this.operations.push('exit');
      if (name && EXEC_NAMES.has(name)) return this.block(name, 'several exec attempts');
      const global = globalCallee(call, call.node.callee) ?? (name === 'perror' ? 'perror' : null);
      if (global && LOG_CALLS.has(global)) return void this.operations.push('log');
    }
    if (s.isThrowStatement() || s.isEmptyStatement()) return;
    if (s.isReturnStatement()) return this.block('return', 'the child returns to the caller when exec fails');
    this.block('after-exec', `the child goes on after a failed exec (${s.node.type})`);
  }

  private beforeExec(s: NodePath<t.Statement>): void {
    if (s.isEmptyStatement()) return;
    if (s.isReturnStatement()) return this.block('return', 'the child returns to the caller');
    if (s.isIfStatement() || s.isSwitchStatement() || s.isConditional())
      return this.block('if', 'the child acts conditionally');
    if (s.isLoop()) return this.block('loop', 'the child runs a loop');
    if (s.isTryStatement()) return this.block('try', 'the child catches errors');
    if (s.isVariableDeclaration()) return this.declarations(s);
    if (!s.isExpressionStatement()) return this.block(s.node.type, `the child has a ${s.node.type}`);
    const expr = s.get('expression');
    if (this.envChange(expr)) return;
    if (expr.isAssignmentExpression() || expr.isUpdateExpression())
      return this.block('assign', 'the child writes shared state');
    if (!expr.isCallExpression()) return this.block('expression', `the child evaluates a ${expr.node.type}`);
    this.call(expr);
  }

  /** Constants the actions may use, and `openSync()` calls whose fd a later dup2 places. */
  private declarations(s: NodePath<t.VariableDeclaration>): void {
    for (const d of s.get('declarations')) {
      const id = d.node.id;
      const init = d.get('init') as NodePath<t.Expression>;
      if (!t.isIdentifier(id) || !init.node) {
        this.block('declare', 'the child declares a variable without a plain value');
        continue;
      }
      const binding = d.scope.getBinding(id.name);
      if (binding && binding.constantViolations.length) {
        this.block('declare', `the child changes ${id.name}`);
        continue;
      }
      if (init.isCallExpression() && importedName(init, init.node.callee, FS_MODULES) === 'openSync') {
        this.operations.push('open');
        if (this.movable(t.arrayExpression(init.node.arguments as t.Expression[]), init, 'openSync()'))
          this.opens.set(id.name, { call: init.node, target: null });
        continue;
      }
      if (this.movable(init.node, d, `${id.name}'s value`)) this.consts.set(id.name, inline(init.node, this.consts));
      else this.operations.push('declare');
    }
  }

  /** `process.env.K = v` or `delete process.env.K`: false when `expr` is neither. */
  private envChange(expr: NodePath<t.Expression>): boolean {
    const envTarget = (n: t.Node) =>
      t.isMemberExpression(n) &&
      isProcessMember(expr, n.object, 'env') &&
      (!n.computed || t.isStringLiteral(n.property) || t.isIdentifier(n.property));
    if (expr.isAssignmentExpression({ operator: '=' }) && envTarget(expr.node.left)) {
      const left = expr.node.left as t.MemberExpression;
      this.operations.push('env');
      if (
        this.movable(expr.node.right, expr, 'the env value') &&
        (!left.computed || this.movable(left.property, expr, 'the env name'))
      )
        this.envChanges.push({
          key: inline(left.property as t.Expression, this.consts),
          computed: left.computed,
          value: inline(expr.node.right, this.consts),
        });
      return true;
    }
    if (expr.isUnaryExpression({ operator: 'delete' }) && envTarget(expr.node.argument)) {
      const arg = expr.node.argument as t.MemberExpression;
      this.operations.push('env');
      this.envChanges.push({
        key: inline(arg.property as t.Expression, this.consts),
        computed: arg.computed,
        value: null,
      });
      return true;
    }
    return false;
  }

  private call(call: NodePath<t.CallExpression>): void {
    const name = importedName(call, call.node.callee, this.ctx.modules);
    if (name && EXEC_NAMES.has(name)) return this.execCall(call, name);
    if (name && ACTION_NAMES.has(name)) return this.actionCall(call, name);
    if (isProcessMember(call, call.node.callee, 'chdir') || isProcessMember(call, call.node.callee, 'umask'))
      return this.processCall(call);
    if (this.ctx.isExit(call)) return this.block('exit', 'the child exits before exec');
    const global = globalCallee(call, call.node.callee);
    if (global && LOG_CALLS.has(global)) return this.block('log', `the child writes output before exec (${global})`);
    if (name === 'fork') return this.block('fork', 'the child forks again');
    this.block(
      'call',
      `the child calls ${calleeText(call.node.callee)}(), which the codemod cannot move into the action list`,
    );
  }

  private execCall(call: NodePath<t.CallExpression>, name: string): void {
    this.execName = name;
    this.operations.push(name);
    const unusable = { name, file: t.identifier('undefined'), argv: t.arrayExpression([]), env: null };
    if (!call.node.arguments.every((a, i) => this.movable(a, call, `${name}() argument ${i + 1}`))) {
      this.exec = unusable;
      return;
    }
    const parsed = execCall(name, call, this.consts);
    if (typeof parsed === 'string') {
      this.blockers.push(parsed);
      this.exec = unusable;
    } else this.exec = parsed;
  }

  /** A call of the POSIX module's action constructors; dup2 and close of an `openSync()` fd place or drop it. */
  private actionCall(call: NodePath<t.CallExpression>, name: string): void {
    this.operations.push(name);
    const args = call.node.arguments;
    const fdVar = (n: t.Node | undefined) =>
      t.isIdentifier(n) && this.opens.has(n.name) ? this.opens.get(n.name)! : null;
    const pending = name === 'dup2' || name === 'close' ? fdVar(args[0]) : null;
    if (pending) {
      if (name === 'close') return; // the open action leaves no extra fd behind
      if (!this.movable(args[1], call, 'dup2() target')) return;
      const to = inline(args[1] as t.Expression, this.consts);
      if (pending.target === null) {
        pending.target = to;
        const openArgs = pending.call.arguments.map((a) => inline(a as t.Expression, this.consts));
        this.actions.push((ref) => t.callExpression(ref('open'), [to, ...openArgs]));
      } else {
        const target = pending.target;
        this.actions.push((ref) => t.callExpression(ref('dup2'), [t.cloneNode(target, true), to]));
      }
      return;
    }
    if (this.waitingOpen() && name !== 'dup2' && name !== 'close' && name !== 'open') {
      this.blockers.push(`${name}() would move before an openSync() whose fd is not placed yet`);
      return;
    }
    if (args.every((a, i) => this.movable(a, call, `${name}() argument ${i + 1}`))) {
      const node = inline(call.node, this.consts);
      this.actions.push(() => node);
    }
  }

  /** `process.chdir(dir)` and `process.umask(mask)`. */
  private processCall(call: NodePath<t.CallExpression>): void {
    const op = isProcessMember(call, call.node.callee, 'chdir') ? 'chdir' : 'umask';
    this.operations.push(op);
    if (this.waitingOpen()) this.blockers.push(`${op}() would move before an openSync() whose fd is not placed yet`);
    else if (
      call.node.arguments.length === 1 &&
      this.movable(call.node.arguments[0], call, `process.${op}() argument`)
    ) {
      const arg = inline(call.node.arguments[0] as t.Expression, this.consts);
      this.actions.push((ref) => t.callExpression(ref(op), [arg]));
    } else this.blockers.push(`process.${op}() needs one argument`);
  }
}

/**
 * The site's class: exec in this function, exec behind a helper, the child returns, no exec at all; with the reason
 * when it is not fork+exec. Adds the blocker of an exec that is not a plain statement of the child.
 */
function classify(
  statements: NodePath<t.Statement>[],
  { execs, returns, helper, unknown }: ReturnType<typeof survey>,
  blockers: string[],
): { cls: SiteClass; reason?: string } {
  if (execs.length > 0) {
    const direct = statements.some((s) => execs.some((e) => e.parentPath === s));
    if (!direct) blockers.unshift('the child execs conditionally or in a nested block');
    else if (execs.length > 1 && !blockers.includes('several exec attempts')) blockers.unshift('several exec attempts');
    return { cls: 'fork+exec' };
  }
  if (helper) return { cls: 'exec-via-helper', reason: `the child execs inside ${helper}()` };
  if (returns) return { cls: 'wrapper', reason: 'the child returns to the caller, which may exec later' };
  if (unknown) return { cls: 'unresolved', reason: `the child calls ${unknown}(), which the codemod cannot see into` };
  return { cls: 'fork-only', reason: 'the child never calls exec: it runs program logic' };
}

/** Analyses the child's statements; `plan` is set when every one maps and the exec is provable. */
export function analyseChild(statements: NodePath<t.Statement>[], ctx: ChildContext): ChildAnalysis {
  const surveyed = survey(statements, ctx);
  const reader = new ChildReader(statements, ctx);
  reader.read();
  const { operations, blockers, actions, envChanges, exec } = reader;
  const { cls, reason } = classify(statements, surveyed, blockers);
  const first = surveyed.execs[0];
  const execName =
    reader.execName ?? (first ? (importedName(first, first.node.callee, ctx.modules) ?? undefined) : undefined);
  if (cls === 'fork+exec' && blockers.length === 0 && exec) {
    if (exec.env && envChanges.length)
      blockers.push(`env assignments before ${exec.name}(), which passes its own environment`);
    else return { class: cls, operations, exec: execName, blockers, plan: { actions, exec, envChanges } };
  }
  return { class: cls, operations, exec: execName, blockers, reason: reason ?? blockers[0] ?? 'not provable' };
}
