import type { Node } from './syntax-tree.js';
import type { Planner } from './recorder.js';
import { callArgs, calledNames, calleeName, statementCall, unparen } from './syntax.js';

/**
 * The open-onto-an-fd idiom: `fd = open(path, flags[, mode]);` [`if (fd < 0) …`] `dup2(fd, N);`... `close(fd);`:
 * the open onto the fd it returns in the child, the dup2s and the close. Returns the statements it used.
 */
export function openIdiom(p: Planner, list: Node[], i: number): number {
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
    if (right?.type === 'call_expression' && left?.type === 'identifier' && (!p.vfork || p.locals.has(left.text))) {
      fd = left.text;
      open = right;
    }
  }
  if (!fd || !open || calleeName(open) !== 'open') return 0;
  const args = callArgs(open);
  if (args.length < 2 || args.some((a) => calledNames(a).length)) return 0;
  // A second open with O_EXCL would fail where the first succeeded: the slow path must not see another state.
  if (/\bO_EXCL\b/.test(args[1].text)) return 0;
  let j = i + 1;
  const guard = list[j];
  if (guard?.type === 'if_statement' && !guard.childForFieldName('alternative')) {
    const cond = unparen(guard.childForFieldName('condition')!).text.replace(/\s+/g, '');
    if (cond === `${fd}<0` || cond === `${fd}==-1`) j++; // a failed open takes the slow path, which runs this check
  }
  const targets: string[] = [];
  for (; j < list.length; j++) {
    const call = statementCall(list[j]);
    const a = call && calleeName(call) === 'dup2' ? callArgs(call) : [];
    if (a.length !== 2 || a[0].text !== fd || !/^[0-9]+$|^STD(?:IN|OUT|ERR)_FILENO$/.test(a[1].text)) break;
    targets.push(a[1].text);
  }
  const close = j < list.length ? statementCall(list[j]) : null;
  if (!targets.length || !close || calleeName(close) !== 'close' || callArgs(close)[0]?.text !== fd) return 0;
  j++;
  if (!args.every((a) => p.reads(a))) return j - i;
  // The fd is the child's own from here on: nothing recorded may read it.
  p.changed.set(fd, 'the fd the child opened');
  const [path, flags, mode] = args.map((a) => p.text(a));
  // The open lands on the lowest free fd, which may be a target itself (a closed stdin): dup2 onto it changes
  // nothing and the close closes it, as in the child. So the parent records the child's steps on that fd.
  const opened = p.openNext(path, flags, mode);
  for (const t of targets) p.record(`forkexec_dup2(fx, ${opened}, ${t})`);
  p.record(`forkexec_close(fx, ${opened})`);
  return j - i;
}
