/** Exhausted limits: fds (RLIMIT_NOFILE) and processes (RLIMIT_NPROC). Each ends in a typed error or a clean result, then recovery. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Result } from '../options.js';
import { BUILTIN_BACKENDS } from '../select-backend.js';
import { assertTyped, outcome, pollUntil, type ReliabilityContext } from './reliability-context.js';
import { footprint, settledDifference } from './reliability-footprint.js';

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

export function limitCases(ctx: ReliabilityContext): void {
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
}
