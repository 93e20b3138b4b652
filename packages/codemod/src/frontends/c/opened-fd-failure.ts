import type { Node } from './syntax-tree.js';
import type { Planner } from './recorder.js';
import { type FailureTest, failureTests } from './actions.js';
import { chain, unparen } from './syntax.js';

/**
 * `const int fd_null = open("/dev/null", O_RDWR); if ((fd_null < 0) || (dup2(pout[0], STDIN_FILENO) < 0) || …)
 * _exit(127);` (neomutt's tunnel): a test that the fd an open() (or dup()) of the child returned is -1 is false on the
 * fast path, where that call succeeded (its failure takes the slow path, which runs the test as written); the rest of
 * the chain is a failure test of actions as any. Null: no such chain.
 */
export function openedFailureTests(p: Planner, condition: Node): FailureTest[] | null {
  let opened = 0;
  const tests = chain(condition, '||', (c) => {
    if (!openedFdFails(p, c)) return failureTests(c);
    opened++;
    return [];
  });
  return opened && tests ? tests : null;
}

/** `fd < 0`, `fd == -1` of an fd the parent knows (fx_fd): false once the call that returned it succeeded. */
function openedFdFails(p: Planner, c: Node): boolean {
  const e = unparen(c);
  if (e.type !== 'binary_expression') return false;
  const left = unparen(e.childForFieldName('left')!);
  const op = e.childForFieldName('operator')?.type;
  const right = unparen(e.childForFieldName('right')!).text.replace(/\s+/g, '');
  const fd = left.type === 'identifier' ? p.known.get(left.text) : undefined;
  return !!fd && /^fx_fd\d*$/.test(fd) && ((op === '<' && right === '0') || (op === '==' && right === '-1'));
}
