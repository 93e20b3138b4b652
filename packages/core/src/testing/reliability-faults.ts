/** Faults: exhausted limits, signals, aborts and timeouts, killed helpers. Each ends in a typed error or a clean result, and the next spawn works. */
import assert from 'node:assert/strict';
import { constants as osConstants } from 'node:os';
import type { Options, Result } from '../options.js';
import {
  assertTyped,
  killedMidOutput,
  linuxOnly,
  MiB,
  notOnWindows,
  outcome,
  pollUntil,
  rejectsWith,
  sleep,
  type ReliabilityContext,
} from './reliability-context.js';
import { footprint, footprintUnavailable, settledDifference } from './reliability-footprint.js';
import { limitCases } from './reliability-limits.js';
import { childProcesses, exeOf } from './proc.js';

const FATAL_SIGNALS = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGSYS',
  'SIGVTALRM',
  'SIGPROF',
] as const satisfies readonly NodeJS.Signals[];

export function faultCases(ctx: ReliabilityContext): void {
  limitCases(ctx);
  signalCases(ctx);
  abortCases(ctx);
  helperKillCases(ctx);
}

/** Death by signal, raised or sent, and a reader that goes away (SIGPIPE). */
function signalCases(ctx: ReliabilityContext): void {
  const { run, test, tally } = ctx;

  test(
    'death by each fatal signal is reported by name, raised by the child or sent by the parent',
    async () => {
      const cwd = ctx.tmp(); // where core dumps would land
      const raised = await Promise.all(
        FATAL_SIGNALS.map((signal) => run(['raise', String(osConstants.signals[signal])], { reject: false, cwd })),
      );
      tally.faults += FATAL_SIGNALS.length;
      assert.deepEqual(
        raised.map((r) => r.signal),
        [...FATAL_SIGNALS],
      );
      assert.ok(raised.every((r) => r.exitCode === null && r.failed));
      const children = FATAL_SIGNALS.map(() => run(['echo', 'started', 'sleep', '20000'], { reject: false, cwd }));
      await Promise.all(children.map((child) => new Promise((resolve) => child.stdout!.once('data', resolve))));
      children.forEach((child, i) =>
        assert.ok(child.kill(FATAL_SIGNALS[i]), `kill(${FATAL_SIGNALS[i]}) reached the child`),
      );
      tally.faults += FATAL_SIGNALS.length;
      const sent = await Promise.all(children);
      assert.deepEqual(
        sent.map((r) => r.signal),
        [...FATAL_SIGNALS],
      );
      assert.ok(
        sent.every((r) => r.stdout === 'started'),
        'output written before the signal is kept',
      );
      assert.equal(children[0].kill('SIGTERM'), false, 'kill() after exit says the child is gone');
    },
    ['chdir'],
    () => notOnWindows('POSIX signals: the Windows case covers the four that end a process there')() ?? linuxOnly(),
  );

  test(
    'a reader that goes away: the child dies of SIGPIPE (default disposition restored), or is killed mid-output',
    async () => {
      const piped = run(['spew', '1', String(64 * MiB)], { reject: false });
      piped.stdout!.once('data', () => piped.stdout!.destroy());
      tally.faults++;
      assert.equal((await piped).signal, 'SIGPIPE');
      await killedMidOutput(ctx);
    },
    [],
    notOnWindows('Windows has no SIGPIPE: the Windows case of a reader that goes away covers it'),
  );
}

/** Aborts and timeouts in flight, and a timeout that has to escalate to SIGKILL. */
function abortCases(ctx: ReliabilityContext): void {
  const { run, test, tally } = ctx;

  test(
    `aborts and timeouts across ${ctx.options.aborts} spawns in flight: each is ABORTED, TIMEOUT or a clean result, and nothing leaks`,
    async () => {
      await run(['exit', '0']);
      const before = footprint();
      const kinds = ['abort-later', 'abort-same-tick', 'timeout', 'clean', 'abort-after-exit', 'pre-aborted'] as const;
      const expected: string[] = [];
      const children = Array.from({ length: ctx.options.aborts }, (_, i) => {
        const kind = kinds[i % kinds.length];
        expected.push(kind);
        const controller = new AbortController();
        const opts: Options = { signal: controller.signal };
        switch (kind) {
          case 'abort-later':
            setTimeout(() => controller.abort(new Error('test abort')), (i * 7) % 120);
            return run(['sleep', '20000'], opts);
          case 'abort-same-tick': {
            const child = run(['sleep', '20000'], opts);
            controller.abort();
            return child;
          }
          case 'timeout':
            return run(['sleep', '20000'], { timeout: 10 + ((i * 13) % 150) });
          case 'clean':
            return run(['echo', `clean-${i}`, 'sleep', String(i % 40)], opts);
          case 'abort-after-exit': {
            const child = run(['echo', `late-${i}`], opts);
            void child.then(
              () => controller.abort(),
              () => {},
            );
            return child;
          }
          case 'pre-aborted':
            return run(['sleep', '20000'], { signal: AbortSignal.abort() });
        }
      });
      const settled = await Promise.all(children.map((child) => outcome(child)));
      settled.forEach((s, i) => {
        const kind = expected[i];
        if (kind === 'clean' || kind === 'abort-after-exit') {
          assert.ok(s.ok, `#${i} ${kind}: ${s.ok ? '' : String(s.error.message)}`);
          assert.equal((s.value as Result<string>).stdout, `${kind === 'clean' ? 'clean' : 'late'}-${i}`);
          return;
        }
        tally.faults++;
        assert.ok(!s.ok, `#${i} ${kind} resolved`);
        assertTyped(s.error, [kind === 'timeout' ? 'FORKEXEC_TIMEOUT' : 'FORKEXEC_ABORTED']);
        if (kind === 'pre-aborted') assert.equal(children[i].pid, undefined, 'a pre-aborted spawn starts no child');
        else assert.equal(s.error[kind === 'timeout' ? 'timedOut' : 'isCanceled'], true);
      });
      assert.equal((await run(['echo', 'next'])).stdout, 'next');
      assert.equal(await settledDifference(before), undefined);
    },
    [],
    footprintUnavailable,
    60_000,
  );

  test(
    'a timeout on a child that ignores SIGTERM escalates to SIGKILL',
    async () => {
      tally.faults++;
      const error = await rejectsWith(
        run(['sleep', '20000'], {
          timeout: 30,
          forceKillAfterDelay: 50,
          actions: [{ op: 'sigignore', signals: ['SIGTERM'] }],
        }),
        'FORKEXEC_TIMEOUT',
      );
      assert.equal(error.signal, 'SIGKILL');
    },
    ['sigignore'],
  );
}

/** A pool's pre-started helpers killed between and during requests. */
function helperKillCases(ctx: ReliabilityContext): void {
  const { run, test, tally } = ctx;

  const hasHelpers = () =>
    ctx.backend().capabilities.preStartsHelpers ? linuxOnly() : 'no pre-started helpers (preStartsHelpers is not set)';
  /** Children of this process that are not (yet) the probe: the backend's pre-started helpers. */
  const helpers = () =>
    [...childProcesses()].filter(([pid, state]) => state !== 'Z' && exeOf(pid) !== ctx.probe()).map(([pid]) => pid);
  const killAll = (pids: number[]) => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        tally.faults++;
      } catch {} // gone meanwhile
    }
  };
  /** The helpers, once there are some: a pool refills in the background, after its requests (up to 5 s). */
  const refilledHelpers = () => pollUntil(helpers, (found) => found.length > 0, 5000);
  /** Each spawn ends in a clean result with its output, or in a typed error. */
  const cleanOrTyped = async (children: PromiseLike<Result<string>>[]) => {
    const settled = await Promise.all(children.map((child) => outcome(child)));
    settled.forEach((s, i) => {
      if (s.ok) assert.equal(s.value.stdout, `req-${i}`);
      else assertTyped(s.error, ['FORKEXEC_SPAWN', 'FORKEXEC_EXIT', 'FORKEXEC_BACKEND_UNAVAILABLE']);
    });
    return settled.filter((s) => s.ok).length;
  };

  test(
    'helpers killed between requests: the pool replaces them, each spawn is clean or a typed error, the next one works',
    async () => {
      await run(['exit', '0']);
      for (let round = 0; round < 5; round++) {
        const idle = await refilledHelpers();
        assert.ok(
          idle.length > 0,
          'a backend with preStartsHelpers keeps helpers as children: none 5 s after the last request',
        );
        killAll(idle);
        await sleep(round * 10);
        await cleanOrTyped(Array.from({ length: 10 }, (_, i) => run(['echo', `req-${i}`])));
        assert.equal((await run(['echo', 'next'])).stdout, 'next');
      }
    },
    [],
    hasHelpers,
    60_000,
  );

  test(
    'helpers killed mid-request: each spawn is clean or a typed error, no zombie or stray child is left, the next one works',
    async () => {
      await run(['exit', '0']);
      for (let round = 0; round < 5; round++) {
        let killing = true;
        const killer = (async () => {
          while (killing) {
            killAll(helpers());
            await sleep(1);
          }
        })();
        await cleanOrTyped(Array.from({ length: 40 }, (_, i) => run(['echo', `req-${i}`, 'sleep', '10'])));
        killing = false;
        await killer;
        await sleep(100); // a helper killed in the last instant may still look idle until its exit is seen
        assert.equal((await run(['echo', 'next'])).stdout, 'next');
      }
      // Helpers killed in the last instant are reaped a little later (up to 3 s on a loaded machine).
      const stray = await pollUntil(
        () => [...childProcesses()].filter(([pid, state]) => state === 'Z' || exeOf(pid) === ctx.probe()),
        (left) => left.length === 0,
        3000,
      );
      assert.deepEqual(stray, [], 'zombies or probes left over');
    },
    [],
    hasHelpers,
    60_000,
  );
}
