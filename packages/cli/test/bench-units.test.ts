import { ForkExecError } from '@forkexec/core';
import type { Driver } from '../src/bench/driven.js';
import { LoopMonitor } from '../src/bench/loop-monitor.js';
import { measureSize } from '../src/bench/measure-size.js';
import type { Method } from '../src/bench/method.js';
import { formatBytes, parseList, parsePositiveInt, parseSize } from '../src/bench/sizes.js';
import { terminalProgress } from '../src/bench/progress.js';
import type { BenchReport, ResultRow } from '../src/bench/report.js';
import { summarize } from '../src/bench/stats.js';
import { sizeTables } from '../src/bench/table.js';
import { checkTargets } from '../src/bench/targets.js';

describe('bench option parsing', () => {
  test('sizes are powers of 1024 with an optional iB', () => {
    expect(parseSize('50M')).toBe(50 * 2 ** 20);
    expect(parseSize('1G')).toBe(2 ** 30);
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('64k')).toBe(64 * 1024);
  });

  test.each(['', '0', '-1M', '12Q', 'M', '1 G B'])('%j is a typed error', (text) => {
    expect(() => parseSize(text)).toThrow(ForkExecError);
    expect(() => parseSize(text)).toThrow(/--rss expects sizes/);
  });

  test('lists and integers', () => {
    expect(parseList('ntdll, node,,execa')).toEqual(['ntdll', 'node', 'execa']);
    expect(parsePositiveInt('40', '--runs')).toBe(40);
    expect(parsePositiveInt('0', '--warmup', 0)).toBe(0);
    expect(() => parsePositiveInt('2.5', '--runs')).toThrow(/--runs expects an integer >= 1/);
  });

  test('sizes print back in binary units', () => {
    expect(formatBytes(50 * 2 ** 20)).toBe('50 MiB');
    expect(formatBytes(4 * 2 ** 30)).toBe('4 GiB');
    expect(formatBytes(1.07 * 2 ** 30)).toBe('1.07 GiB');
    expect(formatBytes(512)).toBe('512 B');
  });
});

describe('summarize', () => {
  test('median, nearest-rank p99, mean, min, max', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, p99: 3, mean: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 3, 2])).toMatchObject({ median: 2.5, p99: 4 });
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summarize(hundred)).toMatchObject({ median: 50.5, p99: 99, max: 100 });
    expect(summarize([])).toBeNull();
  });
});

describe('terminalProgress', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return {
      written,
      stream: { isTTY, columns: 40, write: (text: string) => written.push(text) } as unknown as NodeJS.WriteStream,
    };
  };

  test('repaints one line on a terminal and clears it at the end', () => {
    const { written, stream: tty } = stream(true);
    const progress = terminalProgress(tty);
    progress.update('1 GiB: run 3/30 ntdll and a long tail that does not fit');
    progress.done();
    expect(written).toEqual(['\r\x1b[2K', 'forkexec bench [0s] 1 GiB: run 3/30 ntd', '\r\x1b[2K']);
  });

  test('writes nothing when the stream is not a terminal', () => {
    const { written, stream: pipe } = stream(false);
    const progress = terminalProgress(pipe);
    progress.update('anything');
    progress.done();
    expect(written).toEqual([]);
  });
});

describe('checkTargets', () => {
  const GiB = 2 ** 30;
  const row = (method: string, rssBytes: number, median: number, extra: Partial<ResultRow> = {}): ResultRow => {
    const s = { median, p99: median, mean: median, min: median, max: median };
    return {
      method,
      rssBytes,
      parentRssBytes: rssBytes,
      samples: 1,
      latencyMs: s,
      backToBackMs: s,
      syncMs: { ...s, median: median / 10 },
      pidMs: { ...s, median: median / 10 },
      busyMs: s,
      lagMs: s,
      spawnsPerSecond: 1,
      speedupVsChildProcess: 60 / median,
      vsFloor: median,
      ...extra,
    };
  };

  test('checks the issue goals of the methods that were measured', () => {
    const results = [
      row('child_process', GiB, 60),
      row('ntdll', 50 * 2 ** 20, 1.2),
      row('ntdll', GiB, 2, { vsFloor: 2 }),
    ];
    const checks = checkTargets({ results } as BenchReport);
    expect(checks).toEqual([
      {
        goal: 'ntdll within 1.5x of the C posix_spawn floor at every size',
        measured: '1.20x at 50 MiB, 2.00x at 1 GiB',
        met: false,
      },
      { goal: 'ntdll at least 40x faster than child_process at 1 GiB', measured: '30x at 1 GiB', met: false },
      {
        goal: 'ntdll blocks the event loop at most 0.2 ms per spawn (sync) at every size',
        measured: '0.120 ms at 50 MiB, 0.200 ms at 1 GiB',
        met: true,
      },
    ]);
  });

  test('a method slower than child_process is said to be slower, never "0.87x faster"', () => {
    const results = [row('child_process', GiB, 60), row('node', GiB, 69), row('ntdll', GiB, 2)];
    const report = { results, settings: { rssBytes: [GiB] }, methods: [] } as unknown as BenchReport;
    const speed = sizeTables(report)[0].rows.map((cells) => cells.find((c) => / (faster|slower)$|^reference$/.test(c)));
    expect(speed).toEqual(['reference', '1.15x slower', '30x faster']);
  });

  test('ntdll is compared with Bun at the same size, latency and throughput', () => {
    const results = [
      row('bun', GiB, 1, { spawnsPerSecond: 2000 }),
      row('bun', 4 * GiB, 1, { spawnsPerSecond: 2000 }),
      row('ntdll', GiB, 0.9, { spawnsPerSecond: 2100 }),
      row('ntdll', 4 * GiB, 1.1, { spawnsPerSecond: 1000 }),
    ];
    const checks = checkTargets({ results } as BenchReport).filter((c) => c.goal.includes('Bun'));
    expect(checks).toEqual([
      {
        goal: "ntdll's median at or below Bun.spawn's at every size (ntdll / bun)",
        measured: '0.90x at 1 GiB, 1.10x at 4 GiB',
        met: false,
      },
      {
        goal: "ntdll's spawns/s in flight at or above Bun's at every size (ntdll / bun)",
        measured: '1.05x at 1 GiB, 0.50x at 4 GiB',
        met: false,
      },
    ]);
  });

  test('helper-exe is compared with ntdll at the same size', () => {
    const results = [
      row('ntdll', GiB, 1),
      row('helper-exe', GiB, 1.05, { pidMs: { median: 0.04, p99: 0.04, mean: 0.04, min: 0.04, max: 0.04 } }),
    ];
    const checks = checkTargets({ results } as BenchReport).filter((c) => c.goal.startsWith('helper-exe'));
    expect(checks).toEqual([
      { goal: 'helper-exe time to pid under 0.05 ms', measured: '0.040 ms at 1 GiB', met: true },
      { goal: 'helper-exe end to end within 1.1x of ntdll', measured: '1.05x at 1 GiB', met: true },
    ]);
  });
});

describe('measureSize', () => {
  /** A method that records when it is called (the schedule is what is tested here, not spawning). */
  const recorder = (log: string[], name: string, forks: boolean, failAt?: number): Method => {
    let calls = 0;
    return {
      name,
      kind: 'backend',
      version: null,
      forks,
      async prepare() {
        log.push(`prepare ${name}`);
      },
      async sample(monitor) {
        log.push(`${monitor ? 'watched ' : ''}sample ${name}`);
        if (++calls === failAt) throw new Error(`${name} broke\nsecond line`);
        return { totalMs: 1, syncMs: 0.1, pidMs: 0.1, busyMs: 0.1, lagMs: 0 };
      },
      async backToBack(runs) {
        log.push(`back to back ${name}`);
        return Array.from({ length: runs }, () => 0.5);
      },
      async throughput() {
        log.push(`throughput ${name}`);
        return { completed: 10, elapsedMs: 5 };
      },
    };
  };

  test('methods that fork run after the others and never alternate with them; rows come in that order; the loop monitor watches runs of their own', async () => {
    const log: string[] = [];
    const methods = [
      recorder(log, 'child_process', true),
      recorder(log, 'floor', false),
      recorder(log, 'execa', true),
      recorder(log, 'ntdll', false),
    ];
    const failures = new Map<string, string>();
    const rows = await measureSize(
      methods,
      1,
      { runs: 2, warmup: 1, inFlight: 4, throughputMs: 0 },
      new LoopMonitor(),
      failures,
      () => {},
    );
    expect(log).toEqual([
      'prepare floor',
      'prepare ntdll',
      'sample floor',
      'sample ntdll',
      'sample ntdll',
      'sample floor',
      'sample floor',
      'sample ntdll',
      'back to back floor',
      'back to back ntdll',
      'watched sample floor',
      'watched sample floor',
      'watched sample ntdll',
      'watched sample ntdll',
      'throughput floor',
      'throughput ntdll',
      'prepare child_process',
      'prepare execa',
      'sample child_process',
      'sample execa',
      'sample execa',
      'sample child_process',
      'sample child_process',
      'sample execa',
      'back to back child_process',
      'back to back execa',
      'watched sample child_process',
      'watched sample child_process',
      'watched sample execa',
      'watched sample execa',
      'throughput child_process',
      'throughput execa',
    ]);
    expect(
      rows.map((r) => [
        r.method.name,
        r.samples.length,
        r.loopSamples.length,
        r.backToBackMs.length,
        r.spawnsPerSecond,
      ]),
    ).toEqual([
      ['floor', 2, 2, 2, 2000],
      ['ntdll', 2, 2, 2, 2000],
      ['child_process', 2, 2, 2, 2000],
      ['execa', 2, 2, 2, 2000],
    ]);
    expect(failures.size).toBe(0);
  });

  test('the register-hook rows run between the two groups, and each group stops its own processes before the next', async () => {
    const log: string[] = [];
    const driver = (name: string) => ({ stop: async () => void log.push(`stop ${name}`) }) as unknown as Driver;
    const floorDriver = driver('floor process');
    const hookDriver = driver('hook process');
    const methods = [
      recorder(log, 'execa', true),
      { ...recorder(log, 'execa+register', false), separateGroup: true, driver: hookDriver },
      { ...recorder(log, 'floor', false), driver: floorDriver },
      { ...recorder(log, 'tinyexec+register', false), separateGroup: true, driver: hookDriver },
    ];
    const rows = await measureSize(
      methods,
      1,
      { runs: 1, warmup: 0, inFlight: 1, throughputMs: 0 },
      new LoopMonitor(),
      new Map(),
      () => {},
    );
    expect(log.filter((l) => /^(prepare|stop)/.test(l))).toEqual([
      'prepare floor',
      'stop floor process',
      'prepare execa+register',
      'prepare tinyexec+register',
      'stop hook process',
      'prepare execa',
    ]);
    expect(rows.map((r) => r.method.name)).toEqual(['floor', 'execa+register', 'tinyexec+register', 'execa']);
  });

  test('a method that fails is dropped with the first line of its error', async () => {
    const log: string[] = [];
    const failures = new Map<string, string>();
    const rows = await measureSize(
      [recorder(log, 'a', false, 2), recorder(log, 'b', false)],
      1,
      { runs: 3, warmup: 0, inFlight: 1, throughputMs: 0 },
      new LoopMonitor(),
      failures,
      () => {},
    );
    expect(failures).toEqual(new Map([['a', 'a broke']]));
    expect(rows.find((r) => r.method.name === 'a')).toMatchObject({ error: 'a broke', spawnsPerSecond: null });
    expect(log.filter((l) => l.startsWith('throughput') || l.startsWith('back'))).toEqual([
      'back to back b',
      'throughput b',
    ]);
  });
});
