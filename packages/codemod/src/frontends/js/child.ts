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

/** Analyses the child's statements; `plan` is set when every one maps and the exec is provable. */
export function analyseChild(statements: NodePath<t.Statement>[], ctx: ChildContext): ChildAnalysis {
  const operations: string[] = [];
  const blockers: string[] = [];
  const actions: ChildPlan['actions'] = [];
  const envChanges: ChildPlan['envChanges'] = [];
  const consts = new Map<string, t.Expression>();
  const opens = new Map<string, PendingOpen>();
  let exec: ExecCall | null = null;
  let execName: string | undefined;
  const block = (op: string, why: string) => {
    operations.push(op);
    blockers.push(why);
  };
  const { execs, returns, helper, unknown } = survey(statements, ctx);

  /** Checks that `node` may be evaluated at fork time, and inlines the child's constants. */
  const movable = (node: t.Node, at: NodePath, what: string): boolean => {
    const problem = impurity(node, at);
    if (problem) {
      blockers.push(`${what} ${problem}`);
      return false;
    }
    if (envChanges.length && readsProcessEnv(node, at)) {
      blockers.push(`${what} reads process.env after the child changed it`);
      return false;
    }
    for (const id of identifiersOf(node)) {
      if (ctx.pid !== null && id.name === ctx.pid) {
        blockers.push(`${what} uses the pid variable, which is 0 in the child`);
        return false;
      }
      if (opens.has(id.name)) {
        blockers.push(`${what} uses the fd ${id.name} as a value`);
        return false;
      }
      const binding = at.scope.getBinding(id.name);
      if (binding && !consts.has(id.name) && statements.some((s) => binding.path.isDescendant(s))) {
        blockers.push(`${what} uses ${id.name}, which the child computes`);
        return false;
      }
    }
    return true;
  };
  const waitingOpen = () => [...opens.values()].some((o) => o.target === null);

  for (const s of statements) {
    if (exec) {
      // Only what runs when exec fails may follow it.
      if (s.isExpressionStatement() && s.get('expression').isCallExpression()) {
        const call = s.get('expression') as NodePath<t.CallExpression>;
        const name = importedName(call, call.node.callee, ctx.modules);
        if (ctx.isExit(call)) {
          operations.push('exit');
          continue;
        }
        if (name && EXEC_NAMES.has(name)) {
          block(name, 'several exec attempts');
          continue;
        }
        const global = globalCallee(call, call.node.callee) ?? (name === 'perror' ? 'perror' : null);
        if (global && LOG_CALLS.has(global)) {
          operations.push('log');
          continue;
        }
      }
      if (s.isThrowStatement() || s.isEmptyStatement()) continue;
      if (s.isReturnStatement()) {
        block('return', 'the child returns to the caller when exec fails');
        continue;
      }
      block('after-exec', `the child goes on after a failed exec (${s.node.type})`);
      continue;
    }
    if (s.isEmptyStatement()) continue;
    if (s.isReturnStatement()) {
      block('return', 'the child returns to the caller');
      continue;
    }
    if (s.isIfStatement() || s.isSwitchStatement() || s.isConditional()) {
      block('if', 'the child acts conditionally');
      continue;
    }
    if (s.isLoop()) {
      block('loop', 'the child runs a loop');
      continue;
    }
    if (s.isTryStatement()) {
      block('try', 'the child catches errors');
      continue;
    }
    if (s.isVariableDeclaration()) {
      for (const d of s.get('declarations')) {
        const id = d.node.id;
        const init = d.get('init') as NodePath<t.Expression>;
        if (!t.isIdentifier(id) || !init.node) {
          block('declare', 'the child declares a variable without a plain value');
          continue;
        }
        const binding = d.scope.getBinding(id.name);
        if (binding && binding.constantViolations.length) {
          block('declare', `the child changes ${id.name}`);
          continue;
        }
        if (init.isCallExpression() && importedName(init, init.node.callee, FS_MODULES) === 'openSync') {
          operations.push('open');
          if (movable(t.arrayExpression(init.node.arguments as t.Expression[]), init, 'openSync()'))
            opens.set(id.name, { call: init.node, target: null });
          continue;
        }
        if (movable(init.node, d, `${id.name}'s value`)) consts.set(id.name, inline(init.node, consts));
        else operations.push('declare');
      }
      continue;
    }
    if (!s.isExpressionStatement()) {
      block(s.node.type, `the child has a ${s.node.type}`);
      continue;
    }
    const expr = s.get('expression');
    // process.env.K = v / delete process.env.K
    const envTarget = (n: t.Node) =>
      t.isMemberExpression(n) &&
      isProcessMember(expr, n.object, 'env') &&
      (!n.computed || t.isStringLiteral(n.property) || t.isIdentifier(n.property));
    if (expr.isAssignmentExpression({ operator: '=' }) && envTarget(expr.node.left)) {
      const left = expr.node.left as t.MemberExpression;
      operations.push('env');
      if (
        movable(expr.node.right, expr, 'the env value') &&
        (!left.computed || movable(left.property, expr, 'the env name'))
      )
        envChanges.push({
          key: inline(left.property as t.Expression, consts),
          computed: left.computed,
          value: inline(expr.node.right, consts),
        });
      continue;
    }
    if (expr.isUnaryExpression({ operator: 'delete' }) && envTarget(expr.node.argument)) {
      const arg = expr.node.argument as t.MemberExpression;
      operations.push('env');
      envChanges.push({ key: inline(arg.property as t.Expression, consts), computed: arg.computed, value: null });
      continue;
    }
    if (expr.isAssignmentExpression() || expr.isUpdateExpression()) {
      block('assign', 'the child writes shared state');
      continue;
    }
    if (!expr.isCallExpression()) {
      block('expression', `the child evaluates a ${expr.node.type}`);
      continue;
    }
    const call = expr;
    const name = importedName(call, call.node.callee, ctx.modules);
    if (name && EXEC_NAMES.has(name)) {
      execName = name;
      operations.push(name);
      if (!call.node.arguments.every((a, i) => movable(a, call, `${name}() argument ${i + 1}`))) {
        exec = { name, file: t.identifier('undefined'), argv: t.arrayExpression([]), env: null };
        continue;
      }
      const parsed = execCall(name, call, consts);
      if (typeof parsed === 'string') {
        blockers.push(parsed);
        exec = { name, file: t.identifier('undefined'), argv: t.arrayExpression([]), env: null };
      } else exec = parsed;
      continue;
    }
    if (name && ACTION_NAMES.has(name)) {
      operations.push(name);
      const args = call.node.arguments;
      const fdVar = (n: t.Node | undefined) => (t.isIdentifier(n) && opens.has(n.name) ? opens.get(n.name)! : null);
      if ((name === 'dup2' || name === 'close') && fdVar(args[0])) {
        const pending = fdVar(args[0])!;
        if (name === 'close') continue; // the open action leaves no extra fd behind
        if (!movable(args[1], call, 'dup2() target')) continue;
        const to = inline(args[1] as t.Expression, consts);
        if (pending.target === null) {
          pending.target = to;
          const openArgs = pending.call.arguments.map((a) => inline(a as t.Expression, consts));
          actions.push((ref) => t.callExpression(ref('open'), [to, ...openArgs]));
        } else {
          const target = pending.target;
          actions.push((ref) => t.callExpression(ref('dup2'), [t.cloneNode(target, true), to]));
        }
        continue;
      }
      if (waitingOpen() && name !== 'dup2' && name !== 'close' && name !== 'open') {
        blockers.push(`${name}() would move before an openSync() whose fd is not placed yet`);
        continue;
      }
      if (args.every((a, i) => movable(a, call, `${name}() argument ${i + 1}`))) {
        const node = inline(call.node, consts);
        actions.push(() => node);
      }
      continue;
    }
    if (isProcessMember(call, call.node.callee, 'chdir') || isProcessMember(call, call.node.callee, 'umask')) {
      const op = isProcessMember(call, call.node.callee, 'chdir') ? 'chdir' : 'umask';
      operations.push(op);
      if (waitingOpen()) blockers.push(`${op}() would move before an openSync() whose fd is not placed yet`);
      else if (call.node.arguments.length === 1 && movable(call.node.arguments[0], call, `process.${op}() argument`)) {
        const arg = inline(call.node.arguments[0] as t.Expression, consts);
        actions.push((ref) => t.callExpression(ref(op), [arg]));
      } else blockers.push(`process.${op}() needs one argument`);
      continue;
    }
    if (ctx.isExit(call)) {
      block('exit', 'the child exits before exec');
      continue;
    }
    const global = globalCallee(call, call.node.callee);
    if (global && LOG_CALLS.has(global)) {
      block('log', `the child writes output before exec (${global})`);
      continue;
    }
    if (name === 'fork') {
      block('fork', 'the child forks again');
      continue;
    }
    block(
      'call',
      `the child calls ${calleeText(call.node.callee)}(), which the codemod cannot move into the action list`,
    );
  }
  for (const [name, pending] of opens)
    if (pending.target === null) blockers.push(`the child opens ${name} without moving it onto an fd`);

  // Class: exec in this function, exec behind a helper, the child returns, no exec at all.
  let cls: SiteClass;
  let reason: string | undefined;
  const direct = statements.some((s) => execs.some((e) => e.parentPath === s));
  if (execs.length > 0) {
    cls = 'fork+exec';
    if (!direct) blockers.unshift('the child execs conditionally or in a nested block');
    else if (execs.length > 1 && !blockers.includes('several exec attempts')) blockers.unshift('several exec attempts');
  } else if (helper) {
    cls = 'exec-via-helper';
    reason = `the child execs inside ${helper}()`;
  } else if (returns) {
    cls = 'wrapper';
    reason = 'the child returns to the caller, which may exec later';
  } else if (unknown) {
    cls = 'unresolved';
    reason = `the child calls ${unknown}(), which the codemod cannot see into`;
  } else {
    cls = 'fork-only';
    reason = 'the child never calls exec: it runs program logic';
  }
  execName ??= execs[0] ? (importedName(execs[0], execs[0].node.callee, ctx.modules) ?? undefined) : undefined;
  if (cls === 'fork+exec' && blockers.length === 0 && exec) {
    if (exec.env && envChanges.length)
      blockers.push(`env assignments before ${exec.name}(), which passes its own environment`);
    else return { class: cls, operations, exec: execName, blockers, plan: { actions, exec, envChanges } };
  }
  return { class: cls, operations, exec: execName, blockers, reason: reason ?? blockers[0] ?? 'not provable' };
}
