import type { Node, Tree } from './syntax-tree.js';
import type { SiteAnalysis } from './classify.js';
import type { ActionEntry, ConversionPlan } from './plan.js';
import { lineIndent, lineStart, same } from './syntax.js';

export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The file's line ending: generated lines use it too. */
function eolOf(source: string): string {
  return source.includes('\r\n') ? '\r\n' : '\n';
}

/** Extends a range over whole lines when only blanks share them, so removing a statement leaves no blank line. */
function wholeLines(source: string, start: number, end: number): [number, number] {
  const ls = lineStart(source, start);
  const s = /^[ \t]*$/.test(source.slice(ls, start)) ? ls : start;
  const nl = source.indexOf('\n', end);
  const lineEnd = nl < 0 ? source.length : nl + 1;
  const e = /^[ \t]*\r?\n?$/.test(source.slice(end, lineEnd)) ? lineEnd : end;
  return [s, e];
}

/** The indentation step the file uses inside blocks. */
function indentUnit(source: string, node: Node): string {
  const outer = lineIndent(source, node.startIndex);
  for (const child of node.descendantsOfType('compound_statement')) {
    const inner = child?.namedChild(0);
    if (!inner) continue;
    const i = lineIndent(source, inner.startIndex);
    const o = lineIndent(source, child!.startIndex);
    if (i.startsWith(o) && i.length > o.length && inner.startPosition.row !== child!.startPosition.row)
      return i.slice(o.length);
  }
  return outer.includes('\t') ? '\t' : '    ';
}

/** A statement's text moved to another indentation. */
function reindent(source: string, node: Node, indent: string): string {
  const own = lineIndent(source, node.startIndex);
  return node.text
    .split(/\r?\n/)
    .map((line, i) =>
      i === 0 ? indent + line : indent + (line.startsWith(own) ? line.slice(own.length) : line.trimStart()),
    )
    .join('\n');
}

/** The statements that replace the fork: build the actions, call fork_before_exec, free. */
function callBlock(source: string, plan: ConversionPlan, target: string | null, indent: string, unit: string): string {
  const i1 = indent + unit;
  const lines = ['{'];
  for (const h of plan.hoisted) lines.push(reindent(source, h, i1));
  if (plan.argvArray) lines.push(`${i1}char *fx_argv[] = { ${plan.argvArray.join(', ')} };`);
  lines.push(`${i1}forkexec_actions *fx = forkexec_actions_new();`);
  lines.push(`${i1}int fx_err = fx == NULL ? ENOMEM : 0;`);
  const emit = (entries: ActionEntry[], at: string) => {
    for (const e of entries) {
      if (typeof e === 'string') {
        lines.push(`${at}if (!fx_err) fx_err = ${e};`);
        continue;
      }
      if ('loop' in e) {
        lines.push(`${at}for (${e.loop}) {`);
        emit(e.body, at + unit);
        lines.push(`${at}}`);
        continue;
      }
      lines.push(`${at}if (${e.condition}) {`);
      emit(e.then, at + unit);
      if (e.otherwise.length) {
        lines.push(`${at}} else {`);
        emit(e.otherwise, at + unit);
      }
      lines.push(`${at}}`);
    }
  };
  emit([...plan.actions, `forkexec_exit_on_failure(fx, ${plan.exitStatus})`], i1);
  const call = `fork_before_exec(${plan.file}, ${plan.argv}, ${plan.envp}, fx, ${plan.flags})`;
  if (target) {
    lines.push(
      `${i1}if (fx_err) {`,
      `${i1}${unit}errno = fx_err;`,
      `${i1}${unit}${target} = -1;`,
      `${i1}} else {`,
      `${i1}${unit}${target} = ${call};`,
      `${i1}}`,
    );
  } else {
    lines.push(`${i1}if (fx_err)`, `${i1}${unit}errno = fx_err;`, `${i1}else`, `${i1}${unit}(void)${call};`);
  }
  lines.push(`${i1}if (fx != NULL)`, `${i1}${unit}forkexec_actions_free(fx);`);
  for (const f of plan.frees) lines.push(`${i1}free(${f});`);
  lines.push(`${indent}}`);
  return lines.join('\n').replace(/\n/g, eolOf(source));
}

/** The expression in a condition that stores the fork's result: `(pid = fork())` inside a comparison, or the bare
 * assignment when it is the whole condition (`switch (pid = fork())`). */
function storingExpression(call: Node): Node | null {
  let e: Node = call;
  while (
    e.parent?.type === 'parenthesized_expression' &&
    !['if_statement', 'switch_statement'].includes(e.parent.parent?.type ?? '')
  )
    e = e.parent;
  if (e.parent?.type !== 'assignment_expression') return null;
  e = e.parent;
  if (
    e.parent?.type === 'parenthesized_expression' &&
    !['if_statement', 'switch_statement'].includes(e.parent.parent?.type ?? '')
  )
    e = e.parent;
  return e;
}

/** The edits that turn one site into a fork_before_exec call, or a reason it cannot be done. */
export function siteEdits(source: string, a: SiteAnalysis, plan: ConversionPlan): Edit[] | string {
  const S = a.forkStatement;
  const { region } = plan;
  const indent = lineIndent(source, S.startIndex);
  const unit = indentUnit(source, S.parent ?? S);
  const edits: Edit[] = [];
  const block = (target: string | null) => callBlock(source, plan, target, indent, unit);
  const childRange = wholeLines(source, region.first.startIndex, region.last.endIndex);
  const T = region.test;
  const forkInTest = !!T && T.type === 'if_statement' && same(T, S);

  if (region.form === 'branch' && T) {
    const alternative = T.childForFieldName('alternative');
    const elseBody = alternative?.namedChildren.at(-1);
    if (forkInTest) {
      // `if ((pid = fork()) == 0) {child} [else {parent}]`: the call block, then the parent's branch.
      const text = block(a.variable) + (elseBody ? `${eolOf(source)}${indent}${elseBody.text}` : '');
      edits.push({ start: S.startIndex, end: S.endIndex, text });
      return edits;
    }
    if (elseBody) edits.push({ start: T.startIndex, end: T.endIndex, text: elseBody.text });
    else if (T.parent?.type === 'else_clause') {
      const prev = T.parent.previousSibling!;
      edits.push({ start: prev.endIndex, end: T.parent.endIndex, text: '' });
    } else {
      const [s, e] = wholeLines(source, T.startIndex, T.endIndex);
      edits.push({ start: s, end: e, text: '' });
    }
  } else if (region.form === 'else' && T) {
    const alternative = T.childForFieldName('alternative')!;
    edits.push({ start: T.childForFieldName('consequence')!.endIndex, end: alternative.endIndex, text: '' });
  } else if (region.form === 'case' && T) {
    const [s] = wholeLines(source, T.startIndex, T.startIndex);
    edits.push({ start: s, end: childRange[1], text: '' });
  } else {
    edits.push({ start: childRange[0], end: childRange[1], text: '' });
  }

  // Where the fork was: the call block now stores the pid.
  if (S.type === 'expression_statement') {
    edits.push({ start: S.startIndex, end: S.endIndex, text: block(a.variable) });
  } else if (S.type === 'declaration') {
    const init = a.forkCall.parent?.type === 'init_declarator' ? a.forkCall.parent : null;
    if (!init || !a.variable) return 'the fork is inside a declaration it does not initialize';
    edits.push({ start: init.startIndex, end: init.endIndex, text: a.variable });
    edits.push({ start: S.endIndex, end: S.endIndex, text: `${eolOf(source)}${indent}${block(a.variable)}` });
  } else if (S.type === 'if_statement' || S.type === 'switch_statement') {
    if (!a.variable) return "the fork's result is only tested, not stored, and the parent needs it";
    const store = storingExpression(a.forkCall);
    if (!store) return 'the fork call is not stored where it is tested';
    edits.push({ start: store.startIndex, end: store.endIndex, text: a.variable });
    edits.push({ start: S.startIndex, end: S.startIndex, text: `${block(a.variable)}${eolOf(source)}${indent}` });
  } else {
    return `the fork is in a ${S.type.replace(/_/g, ' ')}`;
  }
  return edits;
}

/** Adds the includes the converted code needs, after the file's last top-level #include. */
export function includeEdits(tree: Tree, source: string, headers: string[]): Edit[] {
  const includes = tree.rootNode.namedChildren.filter((n): n is Node => n?.type === 'preproc_include');
  const wanted = headers.filter((h) => !includes.some((n) => n.childForFieldName('path')?.text === h));
  if (!wanted.length) return [];
  const eol = eolOf(source);
  const text = wanted.map((h) => `#include ${h}${eol}`).join('');
  const last = includes.at(-1);
  if (!last) return [{ start: 0, end: 0, text: `${text}${eol}` }];
  return [{ start: last.endIndex, end: last.endIndex, text }];
}

export function applyEdits(source: string, edits: Edit[]): string {
  const sorted = [...edits].sort((x, y) => y.start - x.start || y.end - x.end);
  let out = source;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

export function overlaps(edits: Edit[]): boolean {
  const sorted = [...edits].sort((x, y) => x.start - y.start || x.end - y.end);
  return sorted.some((e, i) => i > 0 && e.start < sorted[i - 1].end);
}
