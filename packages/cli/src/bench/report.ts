import type { Machine } from './machine.js';
import type { MethodKind } from './method.js';
import type { Summary } from './stats.js';

/** Identifies the JSON layout below; bumped on any incompatible change. */
export const REPORT_FORMAT = 'forkexec-bench/3';

export interface MethodEntry {
  name: string;
  kind: MethodKind;
  version: string | null;
  /** Whether it forks the parent (such methods alternate among themselves, after the others); null when skipped. */
  forks: boolean | null;
  status: 'measured' | 'skipped' | 'failed';
  /** Why a method was skipped or failed. */
  reason?: string;
}

/** One method at one parent RSS. Times are milliseconds. */
export interface ResultRow {
  method: string;
  /** The RSS asked for (`--rss`), bytes. */
  rssBytes: number;
  /** The parent's RSS actually reached, bytes. */
  parentRssBytes: number;
  samples: number;
  /** Request to exit, the methods alternating run by run. */
  latencyMs: Summary | null;
  /** Request to exit, `runs` spawns of this method back to back. */
  backToBackMs: Summary | null;
  /** Inside the synchronous call that starts the child. */
  syncMs: Summary | null;
  /** Request to pid. */
  pidMs: Summary | null;
  /** Event-loop busy time per spawn (null for the C floor). */
  busyMs: Summary | null;
  /** Longest lateness of a 1 ms timer during the spawn (null for the C floor). */
  lagMs: Summary | null;
  /** With `inFlight` spawns running at once. */
  spawnsPerSecond: number | null;
  /** child_process median latency / this median latency (how many times faster). */
  speedupVsChildProcess: number | null;
  /** This median latency / the C floor's. */
  vsFloor: number | null;
  error?: string;
}

export interface BenchReport {
  format: typeof REPORT_FORMAT;
  startedAt: string;
  finishedAt: string;
  /** The command line that produced it. */
  command: string;
  machine: Machine;
  /** 1-minute load average when the run started and when it ended: other work on the machine skews absolute numbers. */
  loadAverage: { start: number; end: number };
  /** Niceness of the bench process (`nice -n -10` runs it, and the children it spawns, ahead of other work). */
  priority: number;
  settings: {
    rssBytes: number[];
    runs: number;
    warmup: number;
    inFlight: number;
    throughputMs: number;
    target: string;
    targetStatic: boolean;
    compiler: string | null;
  };
  methods: MethodEntry[];
  results: ResultRow[];
}

const summary = {
  type: ['object', 'null'],
  required: ['median', 'p99', 'mean', 'min', 'max'],
  additionalProperties: false,
  properties: Object.fromEntries(
    ['median', 'p99', 'mean', 'min', 'max'].map((k) => [k, { type: 'number', minimum: 0 }]),
  ),
} as const;
const nullableNumber = { type: ['number', 'null'], minimum: 0 } as const;

/** JSON Schema (draft 2020-12) of `forkexec bench --json`. */
export const REPORT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'forkexec bench report',
  type: 'object',
  required: [
    'format',
    'startedAt',
    'finishedAt',
    'command',
    'machine',
    'loadAverage',
    'priority',
    'settings',
    'methods',
    'results',
  ],
  additionalProperties: false,
  properties: {
    format: { const: REPORT_FORMAT },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    command: { type: 'string' },
    machine: {
      type: 'object',
      required: ['platform', 'arch', 'kernel', 'cpuModel', 'cpus', 'memoryBytes', 'node', 'glibc'],
      additionalProperties: false,
      properties: {
        platform: { type: 'string' },
        arch: { type: 'string' },
        kernel: { type: 'string' },
        cpuModel: { type: 'string' },
        cpus: { type: 'integer', minimum: 1 },
        memoryBytes: { type: 'integer', minimum: 1 },
        node: { type: 'string' },
        glibc: { type: ['string', 'null'] },
      },
    },
    loadAverage: {
      type: 'object',
      required: ['start', 'end'],
      additionalProperties: false,
      properties: { start: { type: 'number', minimum: 0 }, end: { type: 'number', minimum: 0 } },
    },
    priority: { type: 'integer', minimum: -20, maximum: 19 },
    settings: {
      type: 'object',
      required: ['rssBytes', 'runs', 'warmup', 'inFlight', 'throughputMs', 'target', 'targetStatic', 'compiler'],
      additionalProperties: false,
      properties: {
        rssBytes: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
        runs: { type: 'integer', minimum: 1 },
        warmup: { type: 'integer', minimum: 0 },
        inFlight: { type: 'integer', minimum: 1 },
        throughputMs: { type: 'integer', minimum: 0 },
        target: { type: 'string' },
        targetStatic: { type: 'boolean' },
        compiler: { type: ['string', 'null'] },
      },
    },
    methods: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'kind', 'version', 'forks', 'status'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          kind: { enum: ['floor', 'raw', 'backend', 'peer'] },
          version: { type: ['string', 'null'] },
          forks: { type: ['boolean', 'null'] },
          status: { enum: ['measured', 'skipped', 'failed'] },
          reason: { type: 'string' },
        },
      },
    },
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          'method',
          'rssBytes',
          'parentRssBytes',
          'samples',
          'latencyMs',
          'backToBackMs',
          'syncMs',
          'pidMs',
          'busyMs',
          'lagMs',
          'spawnsPerSecond',
          'speedupVsChildProcess',
          'vsFloor',
        ],
        additionalProperties: false,
        properties: {
          method: { type: 'string' },
          rssBytes: { type: 'integer', minimum: 1 },
          parentRssBytes: { type: 'integer', minimum: 1 },
          samples: { type: 'integer', minimum: 0 },
          latencyMs: summary,
          backToBackMs: summary,
          syncMs: summary,
          pidMs: summary,
          busyMs: summary,
          lagMs: summary,
          spawnsPerSecond: nullableNumber,
          speedupVsChildProcess: nullableNumber,
          vsFloor: nullableNumber,
          error: { type: 'string' },
        },
      },
    },
  },
} as const;
