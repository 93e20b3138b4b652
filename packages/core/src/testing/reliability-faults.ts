/** Faults: exhausted limits, signals, aborts and timeouts. Each ends in a typed error or a clean result, and the next spawn works. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { BUILTIN_BACKENDS } from '../select-backend.js';
import type { Options, Result } from '../options.js';
import {
  killedMidOutput,
  linuxOnly,
  MiB,
  notOnWindows,
  outcome,
  rejectsWith,
  type ReliabilityContext,
} from './reliability-context.js';
import { footprint, footprintUnavailable, settledDifference } from './reliability-footprint.js';
import { childProcesses, exeOf } from './proc.js';

/** Signals that end a process; the core-dumping ones run in a scratch cwd. */
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

function hasPrlimit(): string | undefined {
  if (process.platform === 'win32') return 'POSIX resource limits: Windows has no RLIMIT_NOFILE or RLIMIT_NPROC';
  if (process.platform !== 'linux') return 'needs Linux';
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs prlimit (util-linux)';
  }
}

const NOBODY = 65534;

/** The built core, and the fixture that runs a backend under a low RLIMIT_NPROC as an unprivileged user. */
function nprocSetup(): { fixture: string; coreEntry: string } {
  const req = createRequire(path.join(process.cwd(), '__forkexec__.js'));
  const coreDir = path.dirname(req.resolve('@forkexec/core/package.json'));
  return {
    fixture: path.join(coreDir, 'test', 'fixtures', 'reliability', 'nproc-child.mjs'),
    coreEntry: path.join(coreDir, 'dist', 'index.js'),
  };
}

function nprocCondition(ctx: ReliabilityContext): () => string | undefined {
  return () => {
    const missing = hasPrlimit();
    if (missing) return missing;
    const { fixture, coreEntry } = nprocSetup();
    if (!existsSync(fixture)) return `no ${fixture} (a checkout of forkexec has it)`;
    if (!existsSync(coreEntry)) return `runs on the build: no ${coreEntry} (npm run build)`;
    if (process.getuid?.() === 0) {
      // Root runs the fixture as nobody, which must be able to reach the checkout.
      for (let dir = path.dirname(fixture); dir !== path.dirname(dir); dir = path.dirname(dir))
        if ((statSync(dir).mode & 0o001) === 0)
          return `runs the fixture as nobody, who cannot enter ${dir} (mode ${(statSync(dir).mode & 0o777).toString(8)})`;
    }
    const pkg = BUILTIN_BACKENDS[ctx.name];
    if (pkg === undefined) return `the ${ctx.name} backend has no package the built core can load by name`;
    try {
      if (pkg) createRequire(coreEntry).resolve(pkg);
    } catch {
      return `runs on the build: ${pkg} is not built`;
    }
    return undefined;
  };
}

function softNofile(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))!;
  return Number(line.split(/\s+/)[3]);
}

function setSoftNofile(soft: number): void {
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:`], { stdio: 'ignore' });
}

/** How many fds this process can still open: opens /dev/null until EMFILE, then closes them. */
function freeFdSlots(): number {
  const opened: number[] = [];
  try {
    for (;;) opened.push(openSync('/dev/null', 'r'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EMFILE') throw error;
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  return opened.length;
}

const DEV_NULL = statSync('/dev/null', { throwIfNoEntry: false });

/** Whether `fd` is still the /dev/null this test opened (not closed, nor reused by another file). */
function isDevNull(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.rdev === DEV_NULL?.rdev && stat.isCharacterDevice();
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads `probe` every 20 ms until `done` accepts its value or `ms` have passed; returns the last value read. */
async function pollUntil<T>(probe: () => T, done: (value: T) => boolean, ms: number): Promise<T> {
  for (let waited = 0; ; waited += 20) {
    const value = probe();
    if (done(value) || waited >= ms) return value;
    await sleep(20);
  }
}

/** Fails unless `error` is one of ours with one of the expected codes (and errno, when given). */
function assertTyped(error: Record<string, unknown>, codes: string[], errnos?: string[]): void {
  // Duck-typed: a backend loaded from its build brings its own copy of core's error classes.
  assert.ok(
    error instanceof Error && String(error.code).startsWith('FORKEXEC_'),
    `expected a ForkExecError, got ${String(error?.name)}: ${String(error?.message)}`,
  );
  assert.ok(
    codes.includes(String(error.code)),
    `expected ${codes.join('/')}, got ${String(error.code)}: ${String(error.message)}`,
  );
  if (errnos)
    assert.ok(
      errnos.includes(String(error.errno)),
      `expected errno ${errnos.join('/')}, got ${String(error.errno)}: ${String(error.message)}`,
    );
}

export function faultCases(ctx: ReliabilityContext): void {
  const { run, test, tally } = ctx;

  test(
    'fd exhaustion (low RLIMIT_NOFILE): EMFILE as a typed error or a clean result, no fd lost on the failure path, then recovery',
    async () => {
      await run(['exit', '0']);
      const before = footprint();
      const original = softNofile();
      const hoard: number[] = [];
      const outcomes: string[] = [];
      setSoftNofile(Math.max(...before.fds) + 64);
      try {
        for (;;) {
          try {
            hoard.push(openSync('/dev/null', 'r'));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'EMFILE') break;
            throw error;
          }
        }
        // With 0, 1, 2, ... free fds: each spawn fails cleanly or works, and gives back every fd it took.
        for (let free = 0; free <= 12; free++) {
          while (freeFdSlots() < free) closeSync(hoard.pop()!);
          tally.faults++;
          const settled = await outcome(run(['echo', `free-${free}`], { reject: false }));
          if (settled.ok && !settled.value.failed) {
            const r = settled.value as Result<string>;
            assert.equal(r.stdout, `free-${free}`, `with ${free} free fds the output was lost`);
            assert.equal(r.exitCode, 0);
            outcomes.push(`${free}:ok`);
          } else if (settled.ok) {
            // reject: false gives a start the OS refused as a failed result.
            const r = settled.value;
            assert.ok(['EMFILE', 'ENFILE'].includes(String(r.code)), `with ${free} free fds: ${r.shortMessage}`);
            outcomes.push(`${free}:${r.code}`);
          } else {
            assertTyped(settled.error, ['FORKEXEC_SPAWN'], ['EMFILE', 'ENFILE']);
            outcomes.push(`${free}:${String(settled.error.errno)}`);
          }
          const slots = await pollUntil(freeFdSlots, (n) => n >= free, 2000);
          // More free than before is no leak: a pool may hold one helper fewer until its next refill.
          // That fd must be the backend's own, though: every fd of the caller's is still open.
          assert.ok(
            slots >= free,
            `a spawn with ${free} free fds kept ${free - slots} of them (outcomes so far: ${outcomes.join(' ')})`,
          );
          const closed = hoard.filter((fd) => !isDevNull(fd));
          assert.deepEqual(
            closed,
            [],
            `a spawn with ${free} free fds closed fds of the caller's: ${closed.join(', ')}`,
          );
        }
      } finally {
        for (const fd of hoard) closeSync(fd);
        setSoftNofile(original);
      }
      assert.ok(
        outcomes.some((o) => o.endsWith(':ok')),
        `no spawn worked even with 12 free fds: ${outcomes.join(' ')}`,
      );
      assert.equal((await run(['echo', 'recovered'])).stdout, 'recovered');
      assert.equal(await settledDifference(before), undefined);
    },
    [],
    hasPrlimit,
    60_000,
  );

  test(
    'process limit (RLIMIT_NPROC) reached: EAGAIN as a typed error or a clean result, then recovery',
    () => {
      const { fixture, coreEntry } = nprocSetup();
      const dir = ctx.tmp();
      chmodSync(dir, 0o755); // the unprivileged user runs the probe copy in it
      const asRoot = process.getuid?.() === 0;
      const stdout = execFileSync(process.execPath, [fixture, coreEntry, ctx.name, ctx.probe()], {
        cwd: path.dirname(fixture),
        encoding: 'utf8',
        timeout: 120_000,
        ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
      });
      const report = JSON.parse(stdout) as { used: number; outcomes: string[]; after: string };
      const failed = report.outcomes.filter((o) => o !== 'ok');
      tally.spawns += report.outcomes.length + 2;
      tally.faults += failed.length;
      assert.deepEqual(
        failed.filter((o) => !o.startsWith('FORKEXEC_')),
        [],
        'untyped errors or lost output',
      );
      assert.ok(failed.length > 0, `the limit (${report.used} tasks + 4) never bit: ${report.outcomes.join(' ')}`);
      assert.equal(report.after, 'after', 'the next spawn after the limit was lifted');
    },
    [],
    nprocCondition(ctx),
    180_000,
  );

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

  const hasHelpers = () =>
    ctx.backend().capabilities.pidBeforeExec ? linuxOnly() : 'no pre-started helpers (pidBeforeExec is false)';
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
          'a backend with pidBeforeExec keeps helpers as children: none 5 s after the last request',
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
