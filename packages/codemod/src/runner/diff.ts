/** A unified diff (`diff -u` format, 3 lines of context) of two versions of a text file. */

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else lines[lines.length - 1] += '\n\\ No newline at end of file';
  return lines;
}

/** Edit script by longest common subsequence over the part between the common prefix and suffix. */
function editScript(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: Op[] = a.slice(0, start).map((line) => ({ kind: ' ', line }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if (n * m > 4_000_000) {
    // Too large for the table: one replacement block is still a correct diff.
    ops.push(
      ...midA.map((line) => ({ kind: '-' as const, line })),
      ...midB.map((line) => ({ kind: '+' as const, line })),
    );
  } else {
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i][j] = midA[i] === midB[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        ops.push({ kind: ' ', line: midA[i++] });
        j++;
      } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push({ kind: '-', line: midA[i++] });
      else ops.push({ kind: '+', line: midB[j++] });
    }
  }
  ops.push(...a.slice(endA).map((line) => ({ kind: ' ' as const, line })));
  return ops;
}

/** `--- a/file` / `+++ b/file` and the hunks; empty when the texts are equal. */
export function unifiedDiff(before: string, after: string, file: string, context = 3): string {
  if (before === after) return '';
  const ops = editScript(splitLines(before), splitLines(after));
  const out = [`--- a/${file}`, `+++ b/${file}`];
  let index = 0;
  while (index < ops.length) {
    // Next change, then the hunk around it, merging changes closer than 2 * context.
    const change = ops.findIndex((op, i) => i >= index && op.kind !== ' ');
    if (change < 0) break;
    const start = Math.max(index, change - context);
    let end = change;
    for (let i = change; i < ops.length; i++) {
      if (ops[i].kind !== ' ') end = i;
      else if (i - end > 2 * context) break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    let lineA = 1;
    let lineB = 1;
    for (let i = 0; i < start; i++) {
      if (ops[i].kind !== '+') lineA++;
      if (ops[i].kind !== '-') lineB++;
    }
    const hunk = ops.slice(start, stop);
    const countA = hunk.filter((op) => op.kind !== '+').length;
    const countB = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${countA ? lineA : lineA - 1},${countA} +${countB ? lineB : lineB - 1},${countB} @@`);
    for (const op of hunk) out.push(op.kind + op.line);
    index = stop;
  }
  return `${out.join('\n')}\n`;
}
