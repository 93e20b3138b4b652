/** Actions, each where the backend declares it, and the refusal of one it lacks. */
import assert from 'node:assert/strict';
import { chmodSync, closeSync, openSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { ACTION_OPS, type Action, type ActionOp } from '../../actions.js';
import type { Result } from '../../options.js';
import { notOnWindows, rejectsWith } from '../cases.js';
import { publicProbeCopy } from '../probe.js';
import { ONLY_STDIO, parseIds, unasked, type ConformanceContext } from './context.js';

export function actionCases(ctx: ConformanceContext): void {
  fdActionCases(ctx);
  processActionCases(ctx);
  credentialActionCases(ctx);
  unsupportedActionCase(ctx);
}

/** Actions on fds: dup2, open, close, closefrom, and their order. */
function fdActionCases(ctx: ConformanceContext): void {
  const { label, test, run, out, tmp } = ctx;
  test(
    'a dup2 from a parent fd the caller closes right after the call still reads that fd',
    async () => {
      const file = path.join(tmp(), `dup2-closed-at-once${label.length}.txt`);
      const fd = openSync(file, 'w');
      const child = run(['echo', 'via-dup2'], { actions: [{ op: 'dup2', from: fd, to: 1 }] });
      closeSync(fd);
      await child;
      assert.equal(readFileSync(file, 'utf8'), 'via-dup2\n');
    },
    ['dup2'],
    notOnWindows(ONLY_STDIO),
  );

  test(
    'dup2 sends stdout into a parent fd and onto a high fd',
    async () => {
      const file = path.join(tmp(), 'dup2.txt');
      const fd = openSync(file, 'w');
      try {
        await run(['echo', 'via-dup2', 'write', '7', 'on-seven'], {
          actions: [
            { op: 'dup2', from: fd, to: 1 },
            { op: 'dup2', from: fd, to: 7 },
          ],
        });
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(file, 'utf8'), 'via-dup2\non-seven');
    },
    ['dup2'],
    notOnWindows(ONLY_STDIO),
  );

  test(
    'dup2(2, 1) makes stdout share stderr',
    async () => {
      const result = (await run(['echo', 'both'], { actions: [{ op: 'dup2', from: 2, to: 1 }] }).catch(
        (e: unknown) => e,
      )) as Record<string, unknown>;
      if (result.code === 'FORKEXEC_UNSUPPORTED_ACTION') return; // a backend may refuse to share a pipe, but must say so
      assert.equal(result.stderr, 'both');
      assert.equal(result.stdout, '');
    },
    ['dup2'],
  );

  test(
    'open puts a file onto an fd, created with the given mode',
    async () => {
      const file = path.join(tmp(), 'opened.txt');
      await run(['echo', 'opened'], { actions: [{ op: 'open', fd: 1, path: file, flags: 'w', mode: 0o600 }] });
      assert.equal(readFileSync(file, 'utf8'), 'opened\n');
      await run(['echo', 'again'], { actions: [{ op: 'open', fd: 1, path: file, flags: 'a' }] });
      assert.equal(readFileSync(file, 'utf8'), 'opened\nagain\n');
      assert.equal(await out(['cat'], { actions: [{ op: 'open', fd: 0, path: file }] }), 'opened\nagain');
    },
    ['open'],
  );

  test(
    'close removes an fd the request gave the child',
    async () => {
      const fd = openSync(path.join(tmp(), 'close.txt'), 'w');
      try {
        assert.equal(
          unasked(
            ctx,
            await out(['fds'], {
              actions: [
                { op: 'dup2', from: fd, to: 9 },
                { op: 'close', fd: 9 },
              ],
            }),
          ),
          '0 1 2',
        );
      } finally {
        closeSync(fd);
      }
    },
    ['dup2', 'close'],
    notOnWindows(`${ONLY_STDIO}, and the probe cannot list fds there`),
  );

  test(
    'closefrom leaves only the fds below it',
    async () => {
      const fd = openSync(path.join(tmp(), 'closefrom.txt'), 'w');
      try {
        const fds = await out(['fds'], {
          actions: [
            { op: 'dup2', from: fd, to: 4 },
            { op: 'dup2', from: fd, to: 12 },
            { op: 'closefrom', fd: 5 },
          ],
        });
        assert.equal(fds, '0 1 2 4');
      } finally {
        closeSync(fd);
      }
    },
    ['closefrom', 'dup2'],
  );

  test(
    'actions run in order: open onto 1 then dup2(1, 2)',
    async () => {
      const file = path.join(tmp(), 'order.txt');
      await run(['echo', 'out', 'write', '2', 'err'], {
        actions: [
          { op: 'open', fd: 1, path: file, flags: 'w' },
          { op: 'dup2', from: 1, to: 2 },
        ],
      });
      assert.equal(readFileSync(file, 'utf8'), 'out\nerr');
    },
    ['open', 'dup2'],
  );
}

/** Actions on the process: cwd, session and group, umask, signals, limits, priority. */
function processActionCases(ctx: ConformanceContext): void {
  const { backend, test, out, tmp } = ctx;
  test(
    'chdir',
    async () => {
      assert.equal(await out(['cwd'], { actions: [{ op: 'chdir', path: tmp() }] }), tmp());
    },
    ['chdir'],
  );

  test(
    'setsid makes the child a session leader',
    async () => {
      const ids = parseIds(await out(['ids'], { actions: [{ op: 'setsid' }] }));
      assert.equal(ids.sid, ids.pid);
      assert.equal(ids.pgid, ids.pid);
      const detached = parseIds(await out(['ids'], { detached: true }));
      assert.equal(detached.sid, detached.pid);
    },
    ['setsid'],
  );

  test(
    'setpgid(0) makes the child a group leader in the same session',
    async () => {
      const ids = parseIds(await out(['ids'], { actions: [{ op: 'setpgid', pgid: 0 }] }));
      assert.equal(ids.pgid, ids.pid);
      assert.notEqual(ids.sid, ids.pid);
    },
    ['setpgid'],
  );

  test(
    'umask',
    async () => {
      assert.equal(await out(['umask'], { actions: [{ op: 'umask', mask: 0o077 }] }), '077');
    },
    ['umask'],
  );

  test(
    'signals: defaults restored, a chosen one ignored, an empty mask',
    async () => {
      const sigs = await out(['sigs'], {
        actions: [
          { op: 'sigdefault', signals: 'all' },
          { op: 'sigmask', signals: [] },
        ],
      });
      assert.equal(sigs, 'blocked= ignored=');
    },
    ['sigdefault', 'sigmask'],
  );

  test(
    'sigmask blocks the listed signals',
    async () => {
      const sigs = await out(['sigs'], { actions: [{ op: 'sigmask', signals: ['SIGUSR1', 'SIGUSR2'] }] });
      assert.match(sigs, new RegExp(`blocked=${osConstants.signals.SIGUSR1},${osConstants.signals.SIGUSR2} `));
    },
    ['sigmask'],
    () => (backend().name === 'node' ? 'child_process always empties the mask' : undefined),
  );

  test(
    'sigignore',
    async () => {
      const sigs = await out(['sigs'], { actions: [{ op: 'sigignore', signals: ['SIGHUP'] }] });
      assert.match(sigs, /ignored=1$/);
    },
    ['sigignore'],
  );

  test(
    'setrlimit',
    async () => {
      assert.equal(
        await out(['rlimit', 'nofile'], {
          actions: [{ op: 'setrlimit', resource: 'nofile', soft: 123, hard: 456 }],
        }),
        '123 456',
      );
    },
    ['setrlimit'],
  );

  test(
    'nice',
    async () => {
      const base = Number(await out(['nice']));
      assert.equal(Number(await out(['nice'], { actions: [{ op: 'nice', inc: 5 }] })), Math.min(19, base + 5));
    },
    ['nice'],
  );
}

/** Credentials: dropping privileges as root. */
function credentialActionCases(ctx: ConformanceContext): void {
  const { test, spawn, tmp } = ctx;
  const asRoot = () => (process.getuid?.() === 0 ? undefined : 'needs root');
  /** After setuid the probe must be reachable by `nobody`: the checkout may sit in a private folder. */
  const publicProbe = () => {
    chmodSync(tmp(), 0o755);
    return publicProbeCopy(path.join(tmp(), 'public'));
  };
  const runAsNobody = async (actions: Action[]) =>
    parseIds(((await spawn(publicProbe(), ['ids'], { actions, cwd: '/' })) as Result<string>).stdout);
  test(
    'setgroups, setgid, setuid in that order drop privileges',
    async () => {
      const actions: Action[] = [
        { op: 'setgroups', groups: [65534] },
        { op: 'setgid', gid: 65534 },
        { op: 'setuid', uid: 65534 },
      ];
      const ids = await runAsNobody(actions);
      assert.deepEqual([ids.uid, ids.gid, ids.groups], [65534, 65534, '65534']);
    },
    ['setgroups', 'setgid', 'setuid'],
    asRoot,
  );

  test(
    'setgid and setuid',
    async () => {
      const ids = await runAsNobody([
        { op: 'setgid', gid: 65534 },
        { op: 'setuid', uid: 65534 },
      ]);
      assert.deepEqual([ids.uid, ids.gid], [65534, 65534]);
    },
    ['setgid', 'setuid'],
    asRoot,
  );
}

/** An action the backend lacks. */
function unsupportedActionCase(ctx: ConformanceContext): void {
  const { supports, test, run } = ctx;
  test('an action the backend lacks is refused up front, naming the op', async () => {
    const missing = ACTION_OPS.find((op) => !supports(op));
    if (!missing) return;
    const samples: Record<ActionOp, Action> = {
      dup2: { op: 'dup2', from: 1, to: 1 },
      close: { op: 'close', fd: 9 },
      open: { op: 'open', fd: 5, path: '/dev/null' },
      chdir: { op: 'chdir', path: '/' },
      setsid: { op: 'setsid' },
      setpgid: { op: 'setpgid', pgid: 0 },
      umask: { op: 'umask', mask: 0o22 },
      sigdefault: { op: 'sigdefault', signals: 'all' },
      sigignore: { op: 'sigignore', signals: ['SIGHUP'] },
      sigmask: { op: 'sigmask', signals: [] },
      closefrom: { op: 'closefrom', fd: 3 },
      setuid: { op: 'setuid', uid: 0 },
      setgid: { op: 'setgid', gid: 0 },
      setgroups: { op: 'setgroups', groups: [] },
      setrlimit: { op: 'setrlimit', resource: 'core', soft: 0, hard: 0 },
      nice: { op: 'nice', inc: 1 },
    };
    await rejectsWith(run(['exit', '0'], { actions: [samples[missing]] }), 'FORKEXEC_UNSUPPORTED_ACTION', {
      actionIndex: 0,
    });
  });
}
