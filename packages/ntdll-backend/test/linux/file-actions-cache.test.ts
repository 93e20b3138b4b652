import { FileActionsCache } from '../../src/linux/file-actions-cache.js';
import { loadLibc, type Libc } from '../../src/linux/libc.js';
import type { FileOp } from '../../src/linux/spawn-plan.js';

// Real glibc file action lists; only file_actions_destroy is counted (and still called).
function countingLibc(): { libc: Libc; destroyed: Buffer[] } {
  const real = loadLibc();
  const destroyed: Buffer[] = [];
  const libc: Libc = { ...real, file_actions_destroy: (fa) => (destroyed.push(fa), real.file_actions_destroy(fa)) };
  return { libc, destroyed };
}
const ignoreAll: FileOp[] = [
  { op: 'open', fd: 0, path: '/dev/null', flags: 2, mode: 0 },
  { op: 'dup2', from: 0, to: 1 },
  { op: 'dup2', from: 0, to: 2 },
  { op: 'closefrom', fd: 3 },
];
const lease = (cache: FileActionsCache, ops: FileOp[]) => {
  const leased = cache.lease(ops);
  if ('errno' in leased) throw new Error(`refused: errno ${leased.errno}`);
  return leased;
};

test('the same actions share one list; other actions, paths or fds get their own', () => {
  const cache = new FileActionsCache(countingLibc().libc);
  const a = lease(cache, ignoreAll);
  const b = lease(cache, [...ignoreAll]);
  expect(b.fa).toBe(a.fa);
  const otherPath = lease(cache, [{ ...ignoreAll[0], path: '/dev/zero' } as FileOp, ...ignoreAll.slice(1)]);
  const otherFd = lease(cache, [ignoreAll[0], { op: 'dup2', from: 0, to: 5 }, ...ignoreAll.slice(2)]);
  expect(new Set([a.fa, otherPath.fa, otherFd.fa]).size).toBe(3);
  for (const l of [a, b, otherPath, otherFd]) l.release();
});

test('an evicted list in use is destroyed once its last user releases it, exactly once', () => {
  const { libc, destroyed } = countingLibc();
  const cache = new FileActionsCache(libc);
  const held = lease(cache, ignoreAll);
  for (let fd = 3; fd < 3 + 40; fd++) lease(cache, [{ op: 'closefrom', fd }]).release(); // pushes `held` out
  expect(destroyed).not.toContain(held.fa);
  expect(destroyed.length).toBeGreaterThan(0);
  held.release();
  held.release();
  expect(destroyed.filter((fa) => fa === held.fa)).toHaveLength(1);
  expect(lease(cache, ignoreAll).fa).not.toBe(held.fa); // built anew
});

test('an action glibc refuses up front is reported with its errno and never kept', () => {
  const { libc, destroyed } = countingLibc();
  const cache = new FileActionsCache(libc);
  const tooHigh: FileOp[] = [
    { op: 'dup2', from: 0, to: 1 },
    { op: 'dup2', from: 0, to: 1 << 30, actionIndex: 4 },
  ];
  for (let i = 0; i < 2; i++) {
    const refused = cache.lease(tooHigh);
    expect(refused).toMatchObject({ errno: 9, refused: { to: 1 << 30, actionIndex: 4 } }); // EBADF
  }
  expect(destroyed).toHaveLength(2); // each attempt's list freed at once
});
