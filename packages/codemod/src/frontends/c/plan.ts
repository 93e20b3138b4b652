import type { Node } from './syntax-tree.js';
import { isNullPointer } from './actions.js';
import type { SiteAnalysis } from './classify.js';
import { type ActionEntry, Planner } from './recorder.js';
import { callArgs, calledNames, calleeName, functionName, identifiers, unparen } from './syntax.js';

/**
 * How a convertible site gets its fast path. The child's code stays as written (the slow path runs it in a real
 * child when the fast path fails); the parent records, in front of the fork, what the child would do up to its
 * exec, mirroring the child's control flow. Texts are C source; `fx` names the action list.
 */
export interface ConversionPlan {
  /** Child statements that only build memory (argv, env, buffers): copied in front, so the actions can read them. */
  hoisted: Node[];
  /** The recording's own variables (`int fx_fd = -1;`), declared after the action list. */
  declarations: string[];
  /** Locals the copied code allocates, freed after the call. */
  frees: string[];
  /** forkexec_* calls in the child's order, some under conditions the parent evaluates as the child would. */
  actions: ActionEntry[];
  /** The arguments of an execl-style call, as an array. */
  argvArray?: string[];
  file: string;
  argv: string;
  envp: string;
  flags: string;
}

export type { ActionEntry } from './recorder.js';

export type PlanResult = { plan: ConversionPlan } | { blockers: string[] };

const FUNCTIONS = new WeakMap<object, Map<string, Node>>();

/** The functions defined in the file of node, by name (read once per tree). */
function fileFunctions(node: Node): Map<string, Node> {
  const tree = node.tree;
  let map = FUNCTIONS.get(tree);
  if (!map) {
    map = new Map();
    for (const def of tree.rootNode.descendantsOfType('function_definition')) {
      const name = def && functionName(def);
      if (name && def.childForFieldName('body')) map.set(name, def);
    }
    FUNCTIONS.set(tree, map);
  }
  return map;
}

function castArg(text: string): string {
  return /^(?:[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*")$/.test(text) ? `(char *)${text}` : `(char *)(${text})`;
}

/** Functions of other files of the project (facts.ts), parsed; this file's own shadow them. */
export interface ProjectFunctions {
  /** Inlinable as the child's own statements. */
  helpers: Map<string, Node>;
  /** Calling sigaction: signal() when signal-wrapper.ts recognises them. */
  signalWrappers: Map<string, Node>;
}

/** The copied statements without the bare declarations nothing copied, recorded or exec'd names (`sigset_t old;`
 * for a mask the fast path never keeps): an unused variable would warn, and fail a -Werror build. */
function usedDeclarations(hoisted: Node[], actions: ActionEntry[], execArgs: Node[]): Node[] {
  const words = (text: string) => new Set(text.match(/[A-Za-z_]\w*/g) ?? []);
  const bare = (n: Node) =>
    n.type === 'declaration' && n.childrenForFieldName('declarator').every((d) => d?.type !== 'init_declarator');
  const others = [
    ...hoisted.filter((n) => !bare(n)).map((n) => n.text),
    JSON.stringify(actions),
    ...execArgs.map((n) => n.text),
  ];
  const used = words(others.join(' '));
  return hoisted.filter((n) => !bare(n) || identifiers(n).some((id) => used.has(id)));
}

export function planConversion(a: SiteAnalysis, project?: ProjectFunctions): PlanResult {
  const { site } = a;
  if (site.class !== 'fork+exec') return { blockers: [site.reason ?? `class ${site.class}`] };
  if (a.execs && a.execs !== site.exec)
    return {
      blockers: [`the child execs through macro ${site.exec}(): the rewrite reads the call, not its expansion`],
    };
  if (a.forks !== 'fork' && a.forks !== 'vfork')
    return {
      blockers: [
        site.call === 'forkpty'
          ? 'forkpty() sets up a pseudo-terminal, which has no action'
          : (site.reason ?? `forks through ${site.call}()`),
      ],
    };
  const test = a.forkStatement.parent?.type === 'if_statement' ? a.forkStatement.parent : null;
  if (
    test &&
    a.variable &&
    unparen(test.childForFieldName('condition')!).text.replace(/\s+/g, '') === `${a.variable}<0`
  )
    return { blockers: ['already converted: this fork is the slow path of a fork_before_exec'] };
  const holder = a.forkStatement.parent?.type ?? '';
  // inside #if, the fast path goes in front of the fork, under the same directive
  if (
    !['compound_statement', 'case_statement', 'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif'].includes(
      holder,
    )
  )
    return { blockers: ['the fork statement is not directly in a block'] };
  const own = fileFunctions(a.forkCall);
  const planner = new Planner(
    a.forks === 'vfork',
    a.noreturn,
    a.variable,
    new Map([...(project?.helpers ?? []), ...own]),
    new Map([...(project?.signalWrappers ?? []), ...own]),
  );
  const exec = planner.untilExec(a.childStatements);
  if (!exec) return { blockers: planner.blockers };
  const execName = calleeName(exec)!;
  const flags = { execv: '0', execve: '0', execl: '0', execle: '0', execvp: 'FORKEXEC_SEARCH_PATH' } as Record<
    string,
    string
  >;
  flags.execlp = flags.execvp;
  if (!(execName in flags))
    return {
      blockers: [
        execName === 'execvpe'
          ? "execvpe() searches the parent's PATH but runs with another environment"
          : `${execName}() has no fork_before_exec equivalent`,
      ],
    };

  const args = callArgs(exec);
  const inner = args.flatMap((n) => calledNames(n));
  if (inner.length) planner.block(`${execName}() calls ${inner[0]}() in its arguments: it would run in the parent`);
  args.forEach((n) => planner.reads(n));
  if (planner.blockers.length) return { blockers: planner.blockers };

  const plan: ConversionPlan = {
    hoisted: usedDeclarations(planner.hoisted, planner.actions, args),
    declarations: planner.declarations,
    frees: planner.frees,
    actions: planner.actions,
    file: args[0].text,
    argv: '',
    envp: 'environ',
    flags: flags[execName],
  };
  if (execName.startsWith('execl')) {
    const list = args.slice(1).map((n) => n.text);
    if (execName === 'execle') plan.envp = list.pop() ?? 'NULL';
    if (!isNullPointer(list.at(-1) ?? ''))
      return { blockers: [`${execName}()'s argument list does not end with a null pointer`] };
    plan.argvArray = [...list.slice(0, -1).map(castArg), 'NULL'];
    plan.argv = 'fx_argv';
  } else {
    plan.argv = args[1]?.text ?? 'NULL';
    if (execName === 'execve') plan.envp = args[2]?.text ?? 'NULL';
  }
  if (planner.usesEnvActions && plan.envp !== 'environ')
    return { blockers: ['the child changes its environment but execs with an explicit one'] };
  return { plan };
}
