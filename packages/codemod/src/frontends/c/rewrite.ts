import type { Node, Tree } from './syntax-tree.js';
import type { SiteAnalysis } from './classify.js';
import type { PtyStart } from './forkpty.js';
import type { ActionEntry, ConversionPlan, ExecStart } from './plan.js';
import { lineIndent, same, unparen } from './syntax.js';

export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The file's line ending: generated lines use it too. */
function eolOf(source: string): string {
  return source.includes('\r\n') ? '\r\n' : '\n';
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

/** A statement's text (or text in its place) moved to another indentation. */
function reindent(source: string, node: Node, indent: string, text = node.text): string {
  const own = lineIndent(source, node.startIndex);
  return text
    .split(/\r?\n/)
    .map((line, i) =>
      i === 0 ? indent + line : indent + (line.startsWith(own) ? line.slice(own.length) : line.trimStart()),
    )
    .join('\n');
}

/** The recording in front of the fork: build the actions as the child would, start the fast child into target. */
function callBlock(source: string, plan: ConversionPlan, target: string, indent: string, unit: string): string {
  const i1 = indent + unit;
  const call = (list: string, start: ExecStart = plan) =>
    start.list
      ? `fork_before_execl(${[start.file, start.envp, list, start.flags, ...start.list].join(', ')})`
      : `fork_before_exec(${start.file}, ${start.argv}, ${start.envp}, ${list}, ${start.flags})`;
  const simple = !plan.hoisted.length && !plan.actions.length;
  if (simple) return `${target} = ${call('NULL')};`;
  const lines = ['{'];
  for (const h of plan.hoisted) lines.push(reindent(source, h, i1, plan.trimmed.get(h)));
  if (plan.actions.length) {
    lines.push(`${i1}forkexec_actions *fx = forkexec_actions_new();`);
    for (const d of plan.declarations) lines.push(`${i1}${d}`);
    const emit = (entries: ActionEntry[], at: string) => {
      for (const e of entries) {
        if (typeof e === 'string') lines.push(`${at}${e};`);
        else if ('exec' in e) {
          // one exec of an `if` whose branches both exec: its own start, inside the branch
          lines.push(`${at}${target} = fx ? ${call('fx', e.start)} : -1;`);
        } else if ('preprocessor' in e) {
          for (const part of e.preprocessor) {
            lines.push(part.directive);
            emit(part.body, at);
          }
          lines.push('#endif');
        } else if ('loop' in e) {
          lines.push(`${at}for (${e.loop}) {`);
          emit(e.body, at + unit);
          lines.push(`${at}}`);
        } else {
          lines.push(`${at}if (${e.condition}) {`);
          emit(e.then, at + unit);
          if (e.otherwise.length) {
            lines.push(`${at}} else {`);
            emit(e.otherwise, at + unit);
          }
          lines.push(`${at}}`);
        }
      }
    };
    if (plan.branched) lines.push(`${i1}${target} = -1;`); // a branch that leaves before its exec: the slow path
    emit(plan.actions, i1);
    if (!plan.branched) lines.push(`${i1}${target} = fx ? ${call('fx')} : -1;`);
    lines.push(`${i1}forkexec_actions_free(fx);`);
  } else lines.push(`${i1}${target} = ${call('NULL')};`);
  for (const f of plan.frees) lines.push(`${i1}free(${f});`);
  lines.push(`${indent}}`);
  return lines.join('\n');
}

/**
 * A forkpty site's front (forkpty.ts): the pty opened once, the fast path with login_tty as its first actions, the
 * slow path's fork() running close(master) and login_tty on the same pty (`_exit(1)` when it fails, as glibc's
 * forkpty), then forkpty's own ending in the parent: the master to the caller and the slave closed, both closed when
 * no child started. Where the system's forkpty is declared only under an #if, the original call stays in the #else.
 */
function ptyBlock(
  source: string,
  plan: ConversionPlan,
  pty: PtyStart,
  target: string,
  forkpty: string,
  indent: string,
  unit: string,
): string {
  const [i1, i2, i3] = [1, 2, 3].map((n) => indent + unit.repeat(n));
  const block = [
    '{',
    `${i1}int fx_ptm, fx_pts;`,
    `${i1}if (openpty(&fx_ptm, &fx_pts, ${pty.args.join(', ')}) == -1) {`,
    `${i2}${target} = -1;`,
    `${i1}} else {`,
    `${i2}${callBlock(source, plan, target, i2, unit)}`,
    `${i2}if (${target} < 0)`,
    `${i3}${target} = fork();`,
    `${i2}if (${target} == 0) {`,
    `${i3}close(fx_ptm);`,
    `${i3}if (login_tty(fx_pts))`,
    `${i3}${unit}_exit(1);`,
    `${i2}} else if (${target} > 0) {`,
    `${i3}${pty.master} = fx_ptm;`,
    `${i3}close(fx_pts);`,
    `${i2}} else {`,
    `${i3}close(fx_ptm);`,
    `${i3}close(fx_pts);`,
    `${i2}}`,
    `${i1}}`,
    `${indent}}`,
  ].join('\n');
  if (!pty.guard) return block;
  return `#if ${pty.guard}\n${indent}${block}\n#else\n${indent}${target} = ${forkpty};\n#endif`;
}

/** After a fast start through a wrapper (wrapper-call.ts), the wrapper's parent side, as the wrapper runs it after its
 * fork; the slow path's call of the wrapper runs it itself. */
function wrapperParentSide(source: string, plan: ConversionPlan, indent: string, unit: string): string {
  if (!plan.wrapperParent?.length) return '';
  const lines = plan.wrapperParent.map((s) => reindent(source, s.node, indent + unit, s.text));
  return `\n${indent}else {\n${lines.join('\n')}\n${indent}}`;
}

const COMPARISONS = ['<', '==', '!=', '<=', '>', '>='];

/** Is the fork call the first thing S's condition evaluates (and evaluated always), so it may run in front of S? */
function forkComesFirst(call: Node, condition: Node): boolean {
  for (let n: Node = call; !same(n, condition);) {
    const p = n.parent;
    if (!p) return false;
    const ok =
      p.type === 'parenthesized_expression' ||
      p.type === 'cast_expression' ||
      (p.type === 'assignment_expression' && same(p.childForFieldName('right'), n)) ||
      (p.type === 'unary_expression' && p.child(0)?.type === '!') ||
      (p.type === 'binary_expression' &&
        COMPARISONS.includes(p.child(1)?.type ?? '') &&
        (same(p.childForFieldName('left'), n) || p.childForFieldName('left')!.type === 'number_literal'));
    if (!ok) return false;
    n = p;
  }
  return true;
}

/** The expression in a condition that stores the fork's result: `(pid = fork())` inside a comparison, or the bare
 * assignment when it is the whole condition (`switch (pid = fork())`). */
function storingExpression(call: Node): Node | null {
  let e: Node = call;
  while (e.parent?.type === 'parenthesized_expression') e = e.parent;
  if (e.parent?.type !== 'assignment_expression' || e.parent.child(1)?.type !== '=') return null;
  e = e.parent;
  // `((pid = fork()) == 0)` becomes `(pid == 0)`; the parentheses of the condition itself stay.
  const p = e.parent;
  return p?.type === 'parenthesized_expression' && !['if_statement', 'switch_statement'].includes(p.parent?.type ?? '')
    ? p
    : e;
}

/** The edits that put the fast path in front of one fork, or a reason it cannot be done. */
export function siteEdits(source: string, a: SiteAnalysis, plan: ConversionPlan): Edit[] | string {
  const S = a.forkStatement;
  const indent = lineIndent(source, S.startIndex);
  const unit = indentUnit(source, S.parent ?? S);
  const eol = eolOf(source);
  const variable = a.variable;
  if (variable && /[()+\-=]/.test(variable.replace(/->/g, '.')))
    return `the pid is stored in ${variable}, an expression with effects`;
  const front = (target: string) =>
    (plan.pty
      ? ptyBlock(source, plan, plan.pty, target, a.forkCall.text, indent, unit)
      : callBlock(source, plan, target, indent, unit) +
        `\n${indent}if (${target} < 0)\n${indent}${unit}${target} = ${a.forkCall.text};` +
        wrapperParentSide(source, plan, indent, unit)
    ).replace(/\n/g, eol);
  if (S.type === 'expression_statement') {
    const e = unparen(S.namedChild(0)!);
    if (!variable || e.type !== 'assignment_expression' || !same(unparen(e.childForFieldName('right')!), a.forkCall))
      return 'the fork is part of a larger expression statement';
    return [{ start: S.startIndex, end: S.endIndex, text: front(variable) }];
  }
  if (S.type === 'declaration') {
    const init = a.forkCall.parent?.type === 'init_declarator' ? a.forkCall.parent : null;
    if (!init || !variable || S.childrenForFieldName('declarator').length !== 1)
      return 'the fork is inside a declaration it does not initialize alone';
    const fast = callBlock(source, plan, variable, indent, unit);
    if (!fast.startsWith('{') && !plan.wrapperParent) {
      // `pid_t pid = fork_before_exec(...);` then the slow path
      const slow = `${eol}${indent}if (${variable} < 0)${eol}${indent}${unit}${variable} = ${a.forkCall.text};`;
      return [
        { start: a.forkCall.startIndex, end: a.forkCall.endIndex, text: fast.slice(`${variable} = `.length, -1) },
        { start: S.endIndex, end: S.endIndex, text: slow },
      ];
    }
    return [
      { start: init.startIndex, end: init.endIndex, text: variable },
      { start: S.endIndex, end: S.endIndex, text: `${eol}${indent}${front(variable)}` },
    ];
  }
  if (S.type === 'if_statement' || S.type === 'switch_statement') {
    if (!forkComesFirst(a.forkCall, S.childForFieldName('condition')!))
      return 'the fork is not the first thing its condition evaluates';
    const store = variable ? storingExpression(a.forkCall) : null;
    if (variable && !store) return 'the fork call is not stored where it is tested';
    const target = variable ?? 'fx_pid';
    const replaced = store ?? a.forkCall;
    const declare = variable ? '' : `pid_t fx_pid;${eol}${indent}`;
    return [
      { start: replaced.startIndex, end: replaced.endIndex, text: target },
      { start: S.startIndex, end: S.startIndex, text: `${declare}${front(target)}${eol}${indent}` },
    ];
  }
  return `the fork is in a ${S.type.replace(/_/g, ' ')}`;
}

/**
 * Adds the includes the converted code needs, after the last top-level #include in front of the first rewritten code
 * (`before`): a file may include more further down (jimsh0.c bundles several sources), after its first fork site. With
 * no #include in front of it, they go in front of the top-level definition that holds it.
 */
export function includeEdits(
  tree: Tree,
  source: string,
  headers: string[],
  before = source.length,
  declarations: string[] = [],
): Edit[] {
  const top = tree.rootNode.namedChildren.filter((n): n is Node => !!n);
  const includes = top.filter((n) => n.type === 'preproc_include');
  const wanted = headers.filter((h) => !includes.some((n) => n.childForFieldName('path')?.text === h));
  if (!wanted.length && !declarations.length) return [];
  const eol = eolOf(source);
  // declarations (a recording twin's prototype) after the includes, which declare their types
  const text = [...wanted.map((h) => `#include ${h}`), ...declarations].map((line) => `${line}${eol}`).join('');
  const last = includes.filter((n) => n.endIndex <= before).at(-1);
  if (last) return [{ start: last.endIndex, end: last.endIndex, text }];
  const holder = top.find((n) => n.startIndex <= before && before < n.endIndex);
  if (!includes.length || !holder) return [{ start: 0, end: 0, text: `${text}${eol}` }];
  return [{ start: holder.startIndex, end: holder.startIndex, text: `${text}${eol}` }];
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
