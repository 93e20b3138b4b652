import type { Node } from './syntax-tree.js';
import { EXIT_CALLS } from './operations.js';
import {
  blockStatements,
  calleeName,
  PREPROC_BLOCKS,
  preprocStatements,
  same,
  statementCall,
  unparen,
} from './syntax.js';

/** What the process knows at a fork site: which node is the fork call, which variable holds its result, and the
 * value it returned in this process (0 in the child, a pid in the parent, -1 on failure). */
export interface ForkValue {
  call: Node;
  variable: string | null;
  value: number;
  /** A wrapper's own child value (`return FORK_CHILD;`): the name equals the result in the child only, so it reads as
   * the child's 0. */
  childConstant?: string;
}

/** How a path through a function ends. */
type PathEnd = 'exit' | 'return' | 'function-end' | 'loop' | 'goto' | 'unknown';

export interface Path {
  /** The statements executed, in order; if/switch statements the fork value decides are replaced by their branch. */
  statements: Node[];
  end: PathEnd;
  /** The statement whose evaluation ends the path (the exit call, the return), when there is one. */
  last?: Node;
  /** The path left the statement that holds the fork (fell out of its if, switch or block into code after it). */
  leftForkStatement: boolean;
}

/** Evaluates a condition knowing only the fork's value; undefined when it depends on anything else. */
export function evaluate(node: Node, fork: ForkValue): number | undefined {
  const n = unparen(node);
  switch (n.type) {
    case 'identifier':
      if (n.text === fork.childConstant) return 0;
    // falls through
    case 'field_expression':
      return n.text === fork.variable ? fork.value : undefined;
    case 'number_literal':
      return /^-?(?:[0-9]+|0x[0-9a-f]+)[ul]*$/i.test(n.text)
        ? Number.parseInt(n.text, /0x/i.test(n.text) ? 16 : 10)
        : undefined;
    case 'call_expression':
      // the fork call, or the macro accessor its result went into (`SERVER_PID(serp) = fork()`)
      return same(n, fork.call) || n.text === fork.variable ? fork.value : undefined;
    case 'assignment_expression': {
      const right = n.childForFieldName('right');
      return right && n.child(1)?.type === '=' ? evaluate(right, fork) : undefined;
    }
    case 'cast_expression':
      return evaluate(n.childForFieldName('value')!, fork);
    case 'conditional_expression': {
      // where the fork ran, the branch that holds it was taken
      const branch = ['consequence', 'alternative']
        .map((f) => n.childForFieldName(f))
        .find((b) => b && contains(b, fork.call));
      return branch ? evaluate(branch, fork) : undefined;
    }
    case 'unary_expression': {
      const v = evaluate(n.childForFieldName('argument')!, fork);
      if (v === undefined) return undefined;
      const op = n.child(0)?.type;
      return op === '!' ? Number(!v) : op === '-' ? -v : undefined;
    }
    case 'binary_expression': {
      const op = n.childForFieldName('operator')?.type;
      const right = n.childForFieldName('right')!;
      // `x && fork() == 0`: where the fork ran, the left side had let it run (true for &&, false for ||)
      if ((op === '&&' || op === '||') && contains(right, fork.call)) {
        const r = evaluate(right, fork);
        return r === undefined ? undefined : Number(!!r);
      }
      // `(pid_t)-1` parses as a subtraction from a parenthesised name: a cast of -1 (no one writes `(x)-1`)
      const typeName = unparen(n.childForFieldName('left')!);
      if (op === '-' && typeName.type === 'identifier' && n.childForFieldName('left')!.type !== 'identifier') {
        const v = typeName.text === fork.variable ? undefined : evaluate(right, fork);
        if (v !== undefined) return -v;
      }
      const left = evaluate(n.childForFieldName('left')!, fork);
      if (op === '&&' && left === 0) return 0;
      if (op === '||' && left !== undefined && left !== 0) return 1;
      const value = evaluate(right, fork);
      if (left === undefined || value === undefined) return undefined;
      switch (op) {
        case '==':
          return Number(left === value);
        case '!=':
          return Number(left !== value);
        case '<':
          return Number(left < value);
        case '>':
          return Number(left > value);
        case '<=':
          return Number(left <= value);
        case '>=':
          return Number(left >= value);
        case '&&':
          return Number(!!left && !!value);
        case '||':
          return Number(!!left || !!value);
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}

type Flow = PathEnd | 'break' | 'continue' | null;

function isExit(stmt: Node, noreturn: Set<string>): boolean {
  const call = statementCall(stmt);
  const name = call && calleeName(call);
  return !!name && (EXIT_CALLS.has(name) || noreturn.has(name));
}

/** The statements of the case a switch takes for value, flattened from its label to the end of the body. */
function switchEntry(body: Node, value: number, fork: ForkValue): Node[] | null {
  const list = blockStatements(body);
  let fallback = -1;
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (s.type !== 'case_statement') continue;
    const v = s.childForFieldName('value');
    if (!v) fallback = i;
    else if (evaluate(v, { ...fork, value: Number.NaN }) === value) return list.slice(i);
  }
  return fallback >= 0 ? list.slice(fallback) : [];
}

class Walker {
  readonly statements: Node[] = [];
  last: Node | undefined;
  constructor(
    private readonly fork: ForkValue,
    private readonly noreturn: Set<string>,
  ) {}

  sequence(list: Node[]): Flow {
    for (const s of list) {
      const flow = this.statement(s);
      if (flow) return flow;
    }
    return null;
  }

  statement(s: Node): Flow {
    switch (s.type) {
      case 'case_statement':
        return null; // a label in a flattened switch body: falls through
      case 'compound_statement':
        return this.sequence(blockStatements(s));
      case 'labeled_statement':
        return this.statement(s.namedChildren.at(-1)!);
      case 'if_statement': {
        const v = evaluate(s.childForFieldName('condition')!, this.fork);
        if (v === undefined) break;
        const branch = v
          ? s.childForFieldName('consequence')
          : s.childForFieldName('alternative')?.namedChildren.at(-1);
        return branch ? this.statement(branch) : null;
      }
      case 'switch_statement': {
        const v = evaluate(s.childForFieldName('condition')!, this.fork);
        if (v === undefined) break;
        const flow = this.sequence(switchEntry(s.childForFieldName('body')!, v, this.fork) ?? []);
        return flow === 'break' ? null : flow;
      }
      case 'return_statement':
        this.statements.push(s);
        this.last = s;
        return 'return';
      case 'break_statement':
        return 'break';
      case 'continue_statement':
        return 'continue';
      case 'goto_statement':
        this.statements.push(s);
        this.last = s;
        return 'goto';
      case 'expression_statement':
        this.statements.push(s);
        if (isExit(s, this.noreturn)) {
          this.last = s;
          return 'exit';
        }
        return null;
      default:
        break;
    }
    this.statements.push(s);
    return null;
  }
}

/** The statement that holds node directly in a block (compound statement, switch body, case, file). */
export function statementOf(node: Node): Node {
  let n = node;
  while (
    n.parent &&
    !['compound_statement', 'case_statement', 'translation_unit', ...PREPROC_BLOCKS].includes(n.parent.type)
  ) {
    // A statement that is itself the body of an if/loop without braces.
    if (
      ['if_statement', 'while_statement', 'for_statement', 'do_statement', 'else_clause'].includes(n.parent.type) &&
      /statement$/.test(n.type) &&
      !same(n.parent.childForFieldName('condition'), n)
    )
      return n;
    n = n.parent;
  }
  return n;
}

const LOOPS = ['for_statement', 'while_statement', 'do_statement'];

/** Where control goes once statement s completes normally: the statements after it in its block, then `then`
 * (the enclosing statement that completes when the block does, or how the path ends). */
function afterStatement(s: Node): { rest: Node[]; then: Node | PathEnd } {
  const p = s.parent;
  if (!p) return { rest: [], then: 'unknown' };
  if (['compound_statement', 'translation_unit', 'case_statement'].includes(p.type)) {
    const body = p.type === 'case_statement' ? p.parent! : p;
    const list = blockStatements(body);
    const rest = list.slice(list.findIndex((n) => same(n, s)) + 1);
    const owner = body.parent;
    if (!owner || body.type === 'translation_unit') return { rest, then: 'unknown' };
    if (owner.type === 'function_definition') return { rest, then: 'function-end' };
    if (LOOPS.includes(owner.type)) return { rest, then: 'loop' };
    if (owner.type === 'else_clause') return { rest, then: owner.parent! };
    if (['switch_statement', 'if_statement', 'labeled_statement'].includes(owner.type)) return { rest, then: owner };
    if (['compound_statement', 'case_statement', ...PREPROC_BLOCKS].includes(owner.type)) return { rest, then: body };
    return { rest, then: 'unknown' };
  }
  if (PREPROC_BLOCKS.includes(p.type)) {
    // The rest of this #if body, then whatever follows the whole #if ... #endif.
    const list = preprocStatements(p);
    let top = p;
    while (top.parent && ['preproc_else', 'preproc_elif', 'preproc_elifdef'].includes(top.type)) top = top.parent;
    return { rest: list.slice(list.findIndex((n) => same(n, s)) + 1), then: top };
  }
  if (p.type === 'if_statement' || p.type === 'labeled_statement') return { rest: [], then: p };
  if (p.type === 'else_clause') return { rest: [], then: p.parent! };
  if (LOOPS.includes(p.type)) return { rest: [], then: 'loop' };
  return { rest: [], then: 'unknown' };
}

/**
 * The path one process takes from the statement holding a fork, knowing the fork's value, until it exits, returns,
 * jumps, loops back, or leaves the function.
 */
export function walkFrom(forkStatement: Node, fork: ForkValue, noreturn: Set<string> = new Set()): Path {
  const walker = new Walker(fork, noreturn);
  let s = forkStatement;
  let left = false;
  let flow: Flow = walker.statement(s);
  const done = (end: PathEnd): Path => ({
    statements: walker.statements,
    end,
    last: walker.last,
    leftForkStatement: left,
  });
  for (;;) {
    if (flow === 'continue') return done('loop');
    if (flow === 'break') {
      let b = s.parent;
      while (b && !['switch_statement', ...LOOPS, 'function_definition'].includes(b.type)) b = b.parent;
      if (!b || b.type === 'function_definition') return done('unknown');
      s = b;
      left = true;
      flow = null;
    }
    if (flow !== null) return done(flow);
    const { rest, then } = afterStatement(s);
    flow = walker.sequence(rest);
    if (flow !== null) continue;
    if (typeof then === 'string') return done(then);
    s = then;
    left = true;
  }
}
