import type { Node } from './syntax-tree.js';
import type { SiteAnalysis } from './classify.js';
import { exitStatus, NULL_POINTER, Planner } from './planner.js';
import { blockStatements, callArgs, calleeName, callsUnder, same, statementCall } from './syntax.js';

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

type PlanResult = { plan: ConversionPlan } | { blockers: string[] };

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
