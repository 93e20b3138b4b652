/** Load and hygiene: concurrent spawns keep their own output; no fd and no zombie is left behind. */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { openFds, steadyOpenFds } from '../proc.js';
import { unasked, type ConformanceContext } from './context.js';

export function hygieneCases(ctx: ConformanceContext): void {
  const { test, run, out, tmp } = ctx;
  test('200 concurrent spawns each get their own output', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => run(['echo', `child-${i}`, 'exit', String(i % 7)], { reject: false })),
    );
    results.forEach((r, i) => {
      assert.equal(r.stdout, `child-${i}`);
      assert.equal(r.exitCode, i % 7);
    });
  });

  test(
    'no parent fd leaks into the child, and the parent keeps no fds afterwards',
    async () => {
      const parentFile = openSync(path.join(tmp(), 'parent-only.txt'), 'w');
      try {
        const before = await steadyOpenFds(); // the previous case's pipes may still be closing
        for (let i = 0; i < 20; i++) assert.equal(unasked(ctx, await out(['fds'])), '0 1 2');
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(openFds(), before);
      } finally {
        closeSync(parentFile);
      }
    },
    [],
    () => (process.platform === 'linux' ? undefined : 'reads /proc'),
  );

  test(
    'no zombie is left behind',
    async () => {
      const pids = (await Promise.all(Array.from({ length: 50 }, () => run(['exit', '0'])))).map((r) => r.pid!);
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (const pid of pids) {
        let state = 'gone';
        try {
          state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
        } catch {}
        assert.notEqual(state, 'Z', `pid ${pid} is a zombie`);
      }
    },
    [],
    () => (process.platform === 'linux' ? undefined : 'reads /proc'),
  );
}
