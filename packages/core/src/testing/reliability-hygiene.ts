/** fd hygiene: a child receives exactly the fds the request names, even while the parent is busy opening files. */
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Action, ActionOp } from '../actions.js';
import type { Options } from '../options.js';
import { churnFiles, linuxOnly, notOnWindows, type ReliabilityContext } from './reliability-context.js';
import { footprint, inheritableFds, settledDifference } from './proc.js';

interface FdCase {
  title: string;
  opts: Options;
  ops: ActionOp[];
  expected: string;
}

export function hygieneCases(ctx: ReliabilityContext): void {
  const { test } = ctx;
  const posixFds = () => notOnWindows('reads /proc/self/fd: the Windows handle cases cover it')() ?? linuxOnly();

  test(
    'a child gets exactly the fds it asked for while other threads open files and other children start',
    async () => {
      const file = path.join(ctx.tmp(), 'hygiene.txt');
      writeFileSync(file, 'hygiene\n');
      const parentFd = openSync(file, 'r');
      await ctx.run(['exit', '0']);
      const before = footprint();
      // Without closefrom a backend cannot keep the parent's inheritable fds (none in a plain Node process) from children.
      const tolerated = new Set(ctx.supports('closefrom') ? [] : inheritableFds());
      const shown = (fds: string) =>
        fds
          .split(' ')
          .filter((fd) => fd !== '' && !tolerated.has(Number(fd)))
          .join(' ');
      const cases: FdCase[] = [
        { title: 'default stdio', opts: {}, ops: [], expected: '0 1 2' },
        { title: 'stdin and stderr ignored', opts: { stdin: 'ignore', stderr: 'ignore' }, ops: [], expected: '0 1 2' },
        { title: 'stdin piped', opts: { stdin: 'pipe', input: '' }, ops: [], expected: '0 1 2' },
        {
          title: 'a parent fd on 5 and 9',
          opts: {
            actions: [
              { op: 'dup2', from: parentFd, to: 5 },
              { op: 'dup2', from: parentFd, to: 9 },
            ],
          },
          ops: ['dup2'],
          expected: '0 1 2 5 9',
        },
        {
          title: 'a file opened onto 4',
          opts: { actions: [{ op: 'open', fd: 4, path: file }] },
          ops: ['open'],
          expected: '0 1 2 4',
        },
        {
          title: 'dup2 then close',
          opts: {
            actions: [
              { op: 'dup2', from: parentFd, to: 6 },
              { op: 'close', fd: 6 },
            ] as Action[],
          },
          ops: ['dup2', 'close'],
          expected: '0 1 2',
        },
      ].filter((c) => c.ops.every((op) => ctx.supports(op as ActionOp))) as FdCase[];
      const churn = churnFiles(file);
      const wrong: string[] = [];
      let opened = 0;
      try {
        for (let round = 0; round < ctx.options.hygieneRounds; round++) {
          const bystanders = Array.from({ length: 4 }, () => ctx.run(['sleep', '5'], { stdin: 'pipe', input: 'x' }));
          const results = await Promise.all(cases.map((c) => ctx.run(['fds'], c.opts)));
          results.forEach((r, i) => {
            if (shown(r.stdout) !== cases[i].expected)
              wrong.push(`${cases[i].title}: got ${r.stdout}, expected ${cases[i].expected}`);
          });
          await Promise.all(bystanders);
        }
      } finally {
        opened = await churn.stop();
        closeSync(parentFd);
      }
      assert.ok(opened > 0, 'the threadpool opened files meanwhile');
      assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} children saw the wrong fds`);
      assert.equal(await settledDifference({ ...before, fds: before.fds.filter((fd) => fd !== parentFd) }), undefined);
    },
    [],
    posixFds,
    120_000,
  );

  test(
    'stdio ignore gives /dev/null on the standard fds, never a closed fd',
    async () => {
      const r = await ctx.run(['fdpath', '0', 'fdpath', '2'], { stdin: 'ignore', stderr: 'ignore' });
      assert.equal(r.stdout, '/dev/null\n/dev/null');
    },
    [],
    posixFds,
  );
}
