import type { BenchReport, ResultRow } from './report.js';
import { formatBytes } from './sizes.js';
import { ms, ratio } from './table.js';

/** A goal from the backend issues, checked against one run. */
interface TargetCheck {
  goal: string;
  /** What was measured, per size. */
  measured: string;
  met: boolean;
}

interface Goal {
  method: string;
  goal: string;
  /** Sizes the goal applies to; all when undefined. */
  sizes?: number[];
  value: (row: ResultRow, rows: ResultRow[]) => number | null;
  format: (value: number) => string;
  ok: (value: number) => boolean;
}

const GiB = 2 ** 30;

/** The targets of the ntdll (issue 3) and helper-exe (issue 5) backends. */
const GOALS: Goal[] = [
  {
    method: 'ntdll',
    goal: 'ntdll within 1.5x of the C posix_spawn floor at every size',
    value: (r) => r.vsFloor,
    format: ratio,
    ok: (v) => v <= 1.5,
  },
  {
    method: 'ntdll',
    goal: 'ntdll at least 40x faster than child_process at 1 GiB',
    sizes: [GiB],
    value: (r) => r.speedupVsChildProcess,
    format: ratio,
    ok: (v) => v >= 40,
  },
  {
    method: 'ntdll',
    goal: 'ntdll blocks the event loop under 0.5 ms per spawn (sync) at every size',
    value: (r) => r.syncMs?.median ?? null,
    format: (v) => `${ms(v)} ms`,
    ok: (v) => v < 0.5,
  },
  {
    method: 'helper-exe',
    goal: 'helper-exe time to pid under 0.1 ms',
    value: (r) => r.pidMs?.median ?? null,
    format: (v) => `${ms(v)} ms`,
    ok: (v) => v < 0.1,
  },
  {
    method: 'helper-exe',
    goal: 'helper-exe end to end within 1.5x of ntdll',
    value: (r, rows) => {
      const ntdll = rows.find((o) => o.method === 'ntdll' && o.rssBytes === r.rssBytes && !o.error)?.latencyMs?.median;
      return ntdll && r.latencyMs ? r.latencyMs.median / ntdll : null;
    },
    format: ratio,
    ok: (v) => v <= 1.5,
  },
];

/** Each goal whose method was measured at a size it applies to. */
export function checkTargets(report: BenchReport): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const goal of GOALS) {
    const rows = report.results.filter(
      (r) => r.method === goal.method && !r.error && (!goal.sizes || goal.sizes.includes(r.rssBytes)),
    );
    const measured = rows.flatMap((r) => {
      const value = goal.value(r, report.results);
      return value === null ? [] : [{ size: r.rssBytes, value }];
    });
    if (!measured.length) continue;
    checks.push({
      goal: goal.goal,
      measured: measured.map((m) => `${goal.format(m.value)} at ${formatBytes(m.size)}`).join(', '),
      met: measured.every((m) => goal.ok(m.value)),
    });
  }
  return checks;
}
