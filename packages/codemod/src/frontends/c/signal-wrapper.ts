import type { Node } from './syntax-tree.js';
import { failureTest } from './actions.js';
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
  const ok = (list: Node[], top: boolean): boolean =>
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
        for (let n: Node | null = st; n; n = n.childForFieldName('alternative'))
          if (!ok(preprocStatements(n), false)) return false;
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
        return ok(then.type === 'compound_statement' ? blockStatements(then) : [then], false);
      }
      const call = statementCall(st);
      if (call) {
        const name = calleeName(call);
        const [first] = callArgs(call);
        if (name === 'memset') return address(first) && callArgs(call)[1]?.text === '0' && (cleared ||= top);
        if (name === 'sigemptyset' || name === 'sigfillset') return address(first, 'sa_mask');
        if (name === 'sigaction') return top && signal < 0 && sigaction(call);
        return false;
      }
      const e = st.type === 'expression_statement' ? unparen(st.namedChild(0)!) : null;
      if (e?.type !== 'assignment_expression' || e.child(1)?.type !== '=') return false;
      const left = e.childForFieldName('left')!;
      const right = e.childForFieldName('right')!.text;
      if (field(left, 'sa_handler')) return top && (handler = params.indexOf(right)) >= 0;
      if (!field(left, 'sa_flags') || !/^(?:0|SA_RESTART)$/.test(right)) return false;
      cleared ||= top;
      return true;
    });
  return ok(blockStatements(body), true) && signal >= 0 && handler >= 0 ? { signal, handler } : null;
}
