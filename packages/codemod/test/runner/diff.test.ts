import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { unifiedDiff } from '../../src/runner/diff.js';

/** Applies `diff` with patch(1) to `before` and returns the result. */
function applyPatch(before: string, diff: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-diff-'));
  try {
    writeFileSync(path.join(dir, 'f.txt'), before);
    execFileSync('patch', ['-p1', '--quiet', '--force'], { cwd: dir, input: diff });
    return readFileSync(path.join(dir, 'f.txt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('equal texts give no diff', () => {
  expect(unifiedDiff('a\nb\n', 'a\nb\n', 'f.txt')).toBe('');
});

test('hunks with three lines of context, deletions before insertions', () => {
  const before = 'l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nl9\n';
  const after = 'l1\nl2\nl3\nl4\nL5\nl6\nl7\nl8\nl9\n';
  expect(unifiedDiff(before, after, 'f.txt')).toBe(
    '--- a/f.txt\n+++ b/f.txt\n@@ -2,7 +2,7 @@\n l2\n l3\n l4\n-l5\n+L5\n l6\n l7\n l8\n',
  );
});

test('a missing final newline is marked', () => {
  expect(unifiedDiff('a\nb', 'a\nc', 'f.txt')).toBe(
    '--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n',
  );
});

test('patch(1) turns the old text into the new one', () => {
  const line = fc.constantFrom('a', 'b', 'c', 'd', 'const pid = fork();', '}', '');
  const text = fc
    .tuple(fc.array(line, { maxLength: 30 }), fc.boolean())
    .map(([lines, eol]) => lines.join('\n') + (eol && lines.length ? '\n' : ''));
  fc.assert(
    fc.property(text, text, (before, after) => {
      const diff = unifiedDiff(before, after, 'f.txt');
      if (before === after) return diff === '';
      return applyPatch(before, diff) === after;
    }),
    { numRuns: 40 },
  );
});
