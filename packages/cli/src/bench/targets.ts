import type { BenchReport, ResultRow } from './report.js';
import { REGISTERED, REGISTERED_SUFFIX } from './methods.js';
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

/** `method`'s row at the same size as `row`, when it was measured. */
const sameSize = (rows: ResultRow[], method: string, row: ResultRow) =>
  rows.find((o) => o.method === method && o.rssBytes === row.rssBytes && !o.error);

/** This row's median latency over `method`'s at the same size. */
function latencyRatio(row: ResultRow, rows: ResultRow[], method: string): number | null {
  const other = sameSize(rows, method, row)?.latencyMs?.median;
  return other && row.latencyMs ? row.latencyMs.median / other : null;
}

/** The targets of the ntdll (issues 3, 20) and helper-exe (issues 5, 20) backends. */
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
    goal: "ntdll's median at or below Bun.spawn's at every size (ntdll / bun)",
    value: (r, rows) => latencyRatio(r, rows, 'bun'),
    format: ratio,
    ok: (v) => v <= 1,
  },
  {
    method: 'ntdll',
    goal: 'ntdll blocks the event loop at most 0.2 ms per spawn (sync) at every size',
    value: (r) => r.syncMs?.median ?? null,
    format: (v) => `${ms(v)} ms`,
    ok: (v) => v <= 0.2,
  },
  {
    method: 'ntdll',
    goal: "ntdll's spawns/s in flight at or above Bun's at every size (ntdll / bun)",
    value: (r, rows) => {
      const bun = sameSize(rows, 'bun', r)?.spawnsPerSecond;
      return bun && r.spawnsPerSecond !== null ? r.spawnsPerSecond / bun : null;
    },
    format: ratio,
    ok: (v) => v >= 1,
  },
  {
    method: 'helper-exe',
    goal: 'helper-exe time to pid under 0.05 ms',
    value: (r) => r.pidMs?.median ?? null,
    format: (v) => `${ms(v)} ms`,
    ok: (v) => v < 0.05,
  },
  {
    method: 'helper-exe',
    goal: 'helper-exe end to end within 1.1x of ntdll',
    value: (r, rows) => latencyRatio(r, rows, 'ntdll'),
    format: ratio,
    ok: (v) => v <= 1.1,
  },
  // Issue 19: a library under the register hook close to forkBeforeExec, and far ahead of itself unregistered.
  ...REGISTERED.flatMap((name): Goal[] => {
    const plain = name.slice(0, -REGISTERED_SUFFIX.length);
    return [
      {
        method: name,
        goal: `${name} within 1.3x of forkBeforeExec on ntdll at every size (${name} / ntdll)`,
        value: (r, rows) => latencyRatio(r, rows, 'ntdll'),
        format: ratio,
        ok: (v) => v <= 1.3,
      },
      {
        method: name,
        goal: `${name} at least 10x faster than ${plain} at 1 GiB (${plain} / ${name})`,
        sizes: [GiB],
        value: (r, rows) => {
          const ratioToPlain = latencyRatio(r, rows, plain);
          return ratioToPlain && 1 / ratioToPlain;
        },
        format: ratio,
        ok: (v) => v >= 10,
      },
    ];
  }),
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
