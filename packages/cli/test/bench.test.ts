import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { XMLValidator } from 'fast-xml-parser';
import { REPORT_SCHEMA, type BenchReport } from '../src/bench/report.js';

// `forkexec bench` as users run it: the built bin (the root `npm test` builds first), on tiny
// settings. These tests check what it produces, never how fast anything was.
const bin = path.resolve(__dirname, '../bin/forkexec.js');
const forkexec = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, [bin, ...args], {
    env: { ...process.env, FORKEXEC_BACKEND: '', ...env },
    maxBuffer: 10_000_000,
  })
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }))
    .catch((error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }));

const TINY = ['--rss', '1M', '--runs', '3', '--warmup', '1', '--duration', '30'];
const STABLE = ['c-posix-spawn', 'child_process', 'node', 'execa', 'tinyexec', 'nano-spawn'];
/** Table and results order: the methods that do not fork the parent first, each group in collection order. */
const ROWS = ['c-posix-spawn', 'child_process', 'node', 'execa', 'tinyexec', 'nano-spawn'];
const FORKS: Record<string, boolean> = {
  'c-posix-spawn': false,
  child_process: true,
  node: true,
  execa: true,
  tinyexec: true,
  'nano-spawn': true,
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-bench-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const validate = new Ajv2020({ allErrors: true, formats: { 'date-time': true } }).compile(REPORT_SCHEMA);

describe('forkexec bench on tiny settings', () => {
  let run: { code: number; stdout: string; stderr: string };
  let report: BenchReport;
  const file = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    run = await forkexec([
      'bench',
      '--backends',
      STABLE.join(','),
      ...TINY,
      '--json',
      file('bench.json'),
      '--chart',
      file('chart.svg'),
      '--markdown',
      file('docs/performance.md'),
    ]);
    report = JSON.parse(readFileSync(file('bench.json'), 'utf8'));
  }, 120_000);

  test('exits 0 and prints one table row per method, with the machine', () => {
    expect(run.stderr).toBe(''); // no progress display when stderr is not a terminal
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^forkexec bench — .+ \(\d+ CPUs\), \d+ GiB RAM, .*Node v\d+.*; load average [\d.]+ → [\d.]+$/m,
    );
    expect(run.stdout).toMatch(/^parent RSS 1 MiB \(reached [\d.]+ MiB\)$/m);
    expect(run.stdout).toMatch(
      /^method\s+forks\s+median ms\s+p99 ms\s+b2b ms\s+sync ms\s+busy ms\s+lag ms\s+pid ms\s+spawns\/s\s+vs child_process\s+vs C floor$/m,
    );
    for (const name of STABLE)
      expect(run.stdout).toMatch(new RegExp(`^${name}\\s+${FORKS[name] ? 'yes' : 'no'}\\s+[\\d.]+\\s+[\\d.]+\\s`, 'm'));
    const order = ROWS.map((name) => run.stdout.search(new RegExp(`^${name}\\s`, 'm')));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(run.stdout).toMatch(/^child_process\s.*\sreference\s+[\d.]+x$/m);
    expect(run.stdout).toMatch(/^c-posix-spawn\s.*\s[\d.]+x faster\s+floor$/m);
  });

  test('--json follows the documented schema', () => {
    expect(validate(report) ? [] : validate.errors).toEqual([]);
    expect(report.settings).toMatchObject({ rssBytes: [2 ** 20], runs: 3, warmup: 1, inFlight: 64, throughputMs: 30 });
    // Options in the order the command defines them, as given.
    const given = ['--backends', STABLE.join(','), ...TINY, '--json', file('bench.json'), '--chart', file('chart.svg')];
    expect(report.command).toBe(`forkexec bench ${[...given, '--markdown', file('docs/performance.md')].join(' ')}`);
    expect(report.methods.map((m) => [m.name, m.status, m.forks])).toEqual(
      STABLE.map((name) => [name, 'measured', FORKS[name]]),
    );
    expect(report.results.map((r) => r.method)).toEqual(ROWS);
    for (const row of report.results) {
      expect(row.samples).toBe(3);
      expect(row.parentRssBytes).toBeGreaterThan(2 ** 20);
      expect(row.spawnsPerSecond).not.toBeNull();
      expect(row.backToBackMs?.median).toBeGreaterThan(0);
      // Loop figures exist for the Node methods and not for the C floor, which runs outside Node.
      expect(row.busyMs === null).toBe(row.method === 'c-posix-spawn');
    }
    expect(report.results.find((r) => r.method === 'child_process')!.speedupVsChildProcess).toBe(1);
    expect(report.results.find((r) => r.method === 'c-posix-spawn')!.vsFloor).toBe(1);
  });

  test('--chart writes well-formed SVG with one line per method', () => {
    const svg = readFileSync(file('chart.svg'), 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(STABLE.length);
    const legend = svg.slice(svg.indexOf('role-legend'));
    for (const name of STABLE) expect(legend).toContain(`>${name}</text>`);
  });

  test('--markdown writes the page with the machine, the command, the tables and the chart', () => {
    const md = readFileSync(file('docs/performance.md'), 'utf8');
    expect(md).toMatch(/^# Performance\n/);
    expect(md).toContain(`Generated by \`${report.command}\``);
    expect(md).toMatch(/^Machine: .+ \(\d+ CPUs\), \d+ GiB RAM.*; 1-minute load average [\d.]+ at the start/m);
    expect(md).toContain('![median spawn-to-exit latency against parent RSS, log scale](../chart.svg)');
    expect(md).toContain('| method | forks | median ms | p99 ms |');
    for (const name of STABLE)
      expect(md).toMatch(new RegExp(`^\\| ${name} \\| ${FORKS[name] ? 'yes' : 'no'} \\| [\\d.]+ \\|`, 'm'));
    expect(md).toContain('the methods that do not fork alternate among themselves first');
  });
});

describe('forkexec bench options', () => {
  test('every backend is measured or named as skipped, with the reason', async () => {
    const { stdout } = await forkexec([
      'bench',
      ...TINY,
      '--backends',
      'ntdll,helper-exe',
      '--json',
      path.join(dir, 'backends.json'),
    ]);
    const report: BenchReport = JSON.parse(readFileSync(path.join(dir, 'backends.json'), 'utf8'));
    expect(report.methods.map((m) => m.name).sort()).toEqual(['helper-exe', 'ntdll']);
    for (const m of report.methods) {
      if (m.status === 'measured') expect(report.results.some((r) => r.method === m.name && !r.error)).toBe(true);
      else expect(stdout).toContain(`${m.status} ${m.name}: ${m.reason}`);
    }
  }, 120_000);

  test('an unknown method is a usage error that lists the known ones', async () => {
    const { code, stderr } = await forkexec(['bench', '--backends', 'node,nope']);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /--backends: unknown "nope"; choose from c-posix-spawn, child_process, execFileSync, node, ntdll, helper-exe, execa, tinyexec, nano-spawn, child_process\+register, execFileSync\+register, execa\+register, tinyexec\+register, nano-spawn\+register, bun, python/,
    );
  });

  test.each([
    [['--rss', '12Q'], /--rss expects sizes such as 50M, 1G or 4G, got "12Q"/],
    [['--runs', '0'], /--runs expects an integer >= 1, got "0"/],
    [['--chart', 'chart.png'], /--chart writes SVG/],
    [
      ['--rss', '64T'],
      /--rss 64 TiB needs about \d+ TiB of memory \(the parent, c-posix-spawn.* each hold the ballast\), and [\d.]+ GiB is available; choose smaller sizes/,
    ],
  ])('bad option %j exits 2 with a message', async (args, message) => {
    const { code, stderr } = await forkexec(['bench', ...args]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  test('--schema prints the JSON Schema of the report', async () => {
    const { code, stdout } = await forkexec(['bench', '--schema']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(REPORT_SCHEMA);
  });
});

/** Whether a program runs here (`program --version` succeeds). */
function runs(program: string): boolean {
  try {
    execFileSync(program, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const BUN_PACKAGE = '@oven/bun-linux-x64';
const bunHere =
  runs('bun') ||
  [process.cwd(), path.resolve(__dirname, '..')].some((dir) => {
    try {
      createRequire(path.join(dir, 'noop.js')).resolve(`${BUN_PACKAGE}/package.json`);
      return true;
    } catch {
      return false;
    }
  });
const pythonHere = runs('python3');

describe('the register hook rows', () => {
  test('child_process, execFileSync and the peers under --import @forkexec/core/register, in one process of their own, with the targets of issue 19', async () => {
    const json = path.join(dir, 'registered.json');
    const registered = ['child_process', 'execFileSync', 'execa', 'tinyexec', 'nano-spawn'].map((n) => `${n}+register`);
    const { code, stdout } = await forkexec([
      'bench',
      ...TINY,
      '--backends',
      ['ntdll', 'execa', ...registered].join(','),
      '--json',
      json,
    ]);
    expect(code).toBe(0);
    const report: BenchReport = JSON.parse(readFileSync(json, 'utf8'));
    for (const name of registered) {
      expect(report.methods.find((m) => m.name === name)).toMatchObject({ status: 'measured', forks: false });
      const row = report.results.find((r) => r.method === name)!;
      expect(row).toMatchObject({ samples: 3, busyMs: null, lagMs: null });
      expect(row.spawnsPerSecond).toBeGreaterThan(0);
      expect(stdout).toMatch(
        new RegExp(`^\\s+(met|not met)\\s+${name.replace('+', '\\+')} within 1.3x of forkBeforeExec`, 'm'),
      );
    }
    // Rows come by group: ntdll, then the hook's, then the forking execa.
    expect(report.results.map((r) => r.method)).toEqual(['ntdll', ...registered, 'execa']);
  }, 180_000);

  test("a row the hook sent to Node's own child_process is failed, never reported as registered", async () => {
    const json = path.join(dir, 'registered-node.json');
    const { code, stdout } = await forkexec(['bench', ...TINY, '--backends', 'execa+register', '--json', json], {
      FORKEXEC_BACKEND: 'node',
    });
    expect(code).toBe(1);
    const report: BenchReport = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.methods.find((m) => m.name === 'execa+register')).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining("execa did not take the register hook's fast path"),
    });
    expect(stdout).toContain('the chosen backend is node');
  }, 120_000);
});

describe('Bun and Python as peers', () => {
  test('each runs in a process of its own when present, else is skipped with how to install it', async () => {
    const json = path.join(dir, 'runtimes.json');
    const { code, stdout } = await forkexec([
      'bench',
      ...TINY,
      '--backends',
      'c-posix-spawn,bun,python',
      '--json',
      json,
    ]);
    expect(code).toBe(0);
    const report: BenchReport = JSON.parse(readFileSync(json, 'utf8'));
    const present: Record<string, boolean> = { bun: bunHere, python: pythonHere };
    for (const name of ['bun', 'python']) {
      const entry = report.methods.find((m) => m.name === name)!;
      expect(entry).toMatchObject({ kind: 'peer', status: present[name] ? 'measured' : 'skipped' });
      if (!present[name]) {
        expect(stdout).toContain(`skipped ${name}: ${entry.reason}`);
        continue;
      }
      expect(entry.version).toMatch(new RegExp(`^${name} \\d+\\.\\d+`));
      expect(entry.forks).toBe(false);
      const row = report.results.find((r) => r.method === name)!;
      expect(row).toMatchObject({ samples: 3, busyMs: null, lagMs: null });
      expect(row.latencyMs!.median).toBeGreaterThan(0);
      expect(row.backToBackMs!.median).toBeGreaterThan(0);
      expect(row.spawnsPerSecond).toBeGreaterThan(0);
      expect(row.vsFloor).not.toBeNull();
      expect(stdout).toMatch(new RegExp(`^${name}\\s+no\\s+[\\d.]+\\s`, 'm'));
    }
  }, 120_000);

  test('without python3 on PATH, python is skipped with an install hint', async () => {
    const json = path.join(dir, 'no-python.json');
    const { code, stdout } = await forkexec(['bench', ...TINY, '--backends', 'python', '--json', json], {
      PATH: dir, // holds no programs
    });
    expect(code).toBe(0);
    expect(stdout).toContain('skipped python: python3 not found on PATH (apt-get install python3)');
    const report: BenchReport = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.methods).toEqual([expect.objectContaining({ name: 'python', status: 'skipped', forks: null })]);
    expect(report.results).toEqual([]);
  }, 60_000);
});
