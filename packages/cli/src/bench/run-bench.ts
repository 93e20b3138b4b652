import os from 'node:os';
import { Ballast } from './ballast.js';
import { LoopMonitor } from './loop-monitor.js';
import { describeMachine } from './machine.js';
import { alternationGroups, driversOf, measureSize, type Measured } from './measure-size.js';
import type { Method, Sample } from './method.js';
import { InvalidArgumentError } from '@forkexec/core';
import { CHILD_PROCESS, collectMethods, FLOOR } from './methods.js';
import { findNativePrograms } from './native.js';
import { REPORT_FORMAT, type BenchReport, type MethodEntry, type ResultRow } from './report.js';
import { formatBytes } from './sizes.js';
import { summarize } from './stats.js';

export interface BenchSettings {
  /** Parent RSS sizes, bytes. */
  rss: number[];
  /** Measured spawns per method and size. */
  runs: number;
  /** Unmeasured spawns per method and size first (lazy loads, pools warming up). */
  warmup: number;
  /** Children running at once in the throughput phase. */
  inFlight: number;
  /** How long the throughput phase keeps starting children, per method and size. */
  throughputMs: number;
  /** Method names (`--backends`); all when undefined. */
  methods?: string[];
  /** For the report. */
  command: string;
}

/** Called as the run goes, for a progress line. */
export type Progress = (text: string) => void;

const values = (samples: Sample[], key: keyof Sample) =>
  samples.flatMap((s) => (s[key] === null ? [] : [s[key] as number]));

function rowsFor(rssBytes: number, parentRssBytes: number, measured: Measured[]): ResultRow[] {
  const rows: ResultRow[] = measured.map(({ method, samples, loopSamples, backToBackMs, spawnsPerSecond, error }) => ({
    method: method.name,
    rssBytes,
    parentRssBytes,
    samples: samples.length,
    latencyMs: summarize(values(samples, 'totalMs')),
    backToBackMs: summarize(backToBackMs),
    syncMs: summarize(values(samples, 'syncMs')),
    pidMs: summarize(values(samples, 'pidMs')),
    busyMs: summarize(values(loopSamples, 'busyMs')),
    lagMs: summarize(values(loopSamples, 'lagMs')),
    spawnsPerSecond,
    speedupVsChildProcess: null,
    vsFloor: null,
    ...(error === undefined ? {} : { error }),
  }));
  const median = (name: string) => rows.find((r) => r.method === name && !r.error)?.latencyMs?.median;
  const reference = median(CHILD_PROCESS);
  const floor = median(FLOOR);
  for (const row of rows) {
    const own = row.latencyMs?.median;
    if (own === undefined || row.error) continue;
    row.speedupVsChildProcess = reference === undefined ? null : reference / own;
    row.vsFloor = floor === undefined ? null : own / floor;
  }
  return rows;
}

/**
 * Refuses sizes this machine cannot hold: the parent's ballast, plus the same again in each
 * process of its own that a group of methods runs at once (each group's are stopped before the next).
 */
function checkMemory(sizes: number[], methods: Method[]): void {
  const largest = Math.max(...sizes);
  const busiest = alternationGroups(methods)
    .map((group) => [...driversOf(group)])
    .reduce((a, b) => (b.length > a.length ? b : a), []);
  const needed = largest * (1 + busiest.length);
  const available = os.freemem() + process.memoryUsage.rss();
  const holders = ['the parent', ...busiest.map((d) => d.name)];
  if (needed > available * 0.9)
    throw new InvalidArgumentError(
      `--rss ${formatBytes(largest)} needs about ${formatBytes(needed)} of memory${busiest.length ? ` (${holders.slice(0, -1).join(', ')} and ${holders.at(-1)} each hold the ballast)` : ''}, and ${formatBytes(available)} is available; choose smaller sizes`,
    );
}

/**
 * Runs the whole benchmark in this process. At each parent RSS (smallest first, a touched
 * ballast grows in between), the methods that do not fork the parent spawn the target in turn,
 * run by run, then keep `inFlight` children going for a while; then the forking methods do the
 * same among themselves. A method that fails is reported and dropped.
 */
export async function runBench(settings: BenchSettings, progress: Progress = () => {}): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadAtStart = os.loadavg()[0];
  const native = findNativePrograms();
  const { methods, skipped } = await collectMethods(settings.methods, native);
  checkMemory(settings.rss, methods);
  const failures = new Map<string, string>();
  const results: ResultRow[] = [];
  const monitor = new LoopMonitor();
  const ballast = new Ballast();
  const sizes = [...new Set(settings.rss)].sort((a, b) => a - b);

  monitor.start();
  try {
    for (const size of sizes) {
      const label = formatBytes(size);
      progress(`${label}: growing the parent to ${label}`);
      const parentRss = ballast.growTo(size);
      const measured = await measureSize(methods, parentRss, settings, monitor, failures, (text) =>
        progress(`${label}: ${text}`),
      );
      results.push(...rowsFor(size, parentRss, measured));
    }
  } finally {
    monitor.stop();
    for (const method of methods) await method.close?.().catch(() => {});
    ballast.release();
  }

  const entries: MethodEntry[] = [
    ...methods.map((m): MethodEntry => ({
      name: m.name,
      kind: m.kind,
      version: m.version,
      forks: m.forks,
      ...(failures.has(m.name) ? { status: 'failed', reason: failures.get(m.name) } : { status: 'measured' }),
    })),
    ...skipped.map((s): MethodEntry => ({
      name: s.name,
      kind: s.kind,
      version: null,
      forks: null,
      status: 'skipped',
      reason: s.reason,
    })),
  ];
  return {
    format: REPORT_FORMAT,
    startedAt,
    finishedAt: new Date().toISOString(),
    command: settings.command,
    machine: describeMachine(),
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    priority: os.getPriority(),
    settings: {
      rssBytes: sizes,
      runs: settings.runs,
      warmup: settings.warmup,
      inFlight: settings.inFlight,
      throughputMs: settings.throughputMs,
      target: native.target,
      targetStatic: native.targetStatic,
      compiler: native.compiler,
    },
    methods: entries,
    results,
  };
}
