import type { Node } from './syntax-tree.js';
import { failureTest } from './actions.js';
import { statementsOf } from './child-statements.js';
import {
  blockStatements,
  callArgs,
  calleeName,
  parameterList,
  preprocStatements,
  statementCall,
  unparen,
} from './syntax.js';

/**
 * A project's signal wrapper (openssh's `ssh_signal(signum, handler)`): a function that only fills a local `struct
 * sigaction` (memset, an empty or full mask, `sa_handler` = its parameter, `sa_flags` 0 or SA_RESTART) and calls
 * sigaction with it once, logging and returning when that fails. Called with SIG_DFL or SIG_IGN it is signal(): the
 * mask and SA_RESTART only matter while a handler runs. Returns the indexes of its signal and handler parameters.
 */
export function signalWrapper(def: Node): { signal: number; handler: number } | null {
  const params = parameterList(def);
  const body = def.childForFieldName('body');
  if (!params || !body) return null;
  const locals = new Set<string>();
  let handler = -1;
  let signal = -1;
  // flags that are not cleared could hold SA_NOCLDWAIT, which matters for SIGCHLD at SIG_DFL
  let cleared = false;
  const field = (n: Node | null, name: string) =>
    n?.type === 'field_expression' &&
    n.childForFieldName('field')?.text === name &&
    locals.has(n.childForFieldName('argument')?.text ?? '');
  const address = (n: Node | undefined, name?: string) => {
    const u = n && unparen(n);
    return (
      u?.type === 'pointer_expression' &&
      u.child(0)?.type === '&' &&
      (name ? field(u.childForFieldName('argument'), name) : locals.has(u.childForFieldName('argument')!.text))
    );
  };
  const sigaction = (call: Node): boolean => {
    const [sig, act, old] = callArgs(call);
    signal = params.indexOf(sig?.text ?? '');
    return (
      signal >= 0 && handler >= 0 && cleared && address(act) && !!old && (address(old) || /^(?:NULL|0)$/.test(old.text))
    );
  };
  /** top: a statement of the body itself, run once on every path; unconditional: run on every path of its
   * configuration (the body's, or an #if part's). */
  const ok = (list: Node[], top: boolean, unconditional = top): boolean =>
    list.every((st, i) => {
      if (st.type === 'declaration') {
        if (!/^struct\s+sigaction$/.test(st.childForFieldName('type')?.text ?? '')) return false;
        for (const d of st.childrenForFieldName('declarator')) {
          if (d?.type !== 'identifier') return false;
          locals.add(d.text);
        }
        return true;
      }
      if (st.type === 'return_statement') return top && i === list.length - 1;
      if (st.type === 'preproc_if' || st.type === 'preproc_ifdef') {
        // flags set on every configuration's path (`#ifdef SA_RESTART … #else sa.sa_flags = 0; #endif`) are cleared
        const before = cleared;
        let everywhere = top;
        let otherwise = false;
        for (let n: Node | null = st; n; n = n.childForFieldName('alternative')) {
          cleared = false;
          if (!ok(preprocStatements(n), false, top)) return false;
          everywhere &&= cleared;
          otherwise ||= n.type === 'preproc_else';
        }
        cleared = before || (everywhere && otherwise);
        return true;
      }
      if (st.type === 'if_statement') {
        const condition = st.childForFieldName('condition')!;
        const failing = failureTest(condition);
        // the failure branch runs only when the action failed: the slow path runs it as written
        if (failing)
          return (
            top &&
            !st.childForFieldName('alternative') &&
            calleeName(failing) === 'sigaction' &&
            signal < 0 &&
            sigaction(failing)
          );
        if (condition.descendantsOfType('call_expression').length || st.childForFieldName('alternative')) return false;
        const then = st.childForFieldName('consequence')!;
        return ok(statementsOf(then), false);
      }
      const call = statementCall(st);
      if (call) {
        const name = calleeName(call);
        const [first] = callArgs(call);
        if (name === 'memset') return address(first) && callArgs(call)[1]?.text === '0' && (cleared ||= unconditional);
        if (name === 'sigemptyset' || name === 'sigfillset') return address(first, 'sa_mask');
        if (name === 'sigaction') return top && signal < 0 && sigaction(call);
        return false;
      }
      const e = st.type === 'expression_statement' ? unparen(st.namedChild(0)!) : null;
      if (e?.type !== 'assignment_expression' || e.child(1)?.type !== '=') return false;
      const left = e.childForFieldName('left')!;
      const right = unparen(e.childForFieldName('right')!).text;
      if (field(left, 'sa_handler')) return top && (handler = params.indexOf(right)) >= 0;
      if (!field(left, 'sa_flags') || !restartOrNothing(e.childForFieldName('right')!)) return false;
      cleared ||= unconditional;
      return true;
    });
  return ok(blockStatements(body), true) && signal >= 0 && handler >= 0 ? { signal, handler } : null;
}

/** Flags that are 0 or SA_RESTART whatever they read: `0`, `SA_RESTART`, `(sig == SIGCHLD ? SA_RESTART : 0)`. */
function restartOrNothing(value: Node): boolean {
  const v = unparen(value);
  if (v.type === 'conditional_expression')
    return (
      !v
        .childForFieldName('condition')!
        .descendantsOfType(['call_expression', 'assignment_expression', 'update_expression']).length &&
      restartOrNothing(v.childForFieldName('consequence')!) &&
      restartOrNothing(v.childForFieldName('alternative')!)
    );
  return /^(?:0|SA_RESTART)$/.test(v.text);
}
