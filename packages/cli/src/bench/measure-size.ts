import type { LoopMonitor } from './loop-monitor.js';
import type { Method, Sample } from './method.js';

export interface Measured {
  method: Method;
  /** The timed runs, methods taking turns: spawn-to-exit, sync and pid (no loop figures). */
  samples: Sample[];
  /** The runs with the loop monitor's timer running, for busy and lag (methods that spawn from this process only). */
  loopSamples: Sample[];
  /** Spawn-to-exit ms of `runs` spawns back to back, after the alternating runs. */
  backToBackMs: number[];
  spawnsPerSecond: number | null;
  error?: string;
}

interface SizeSettings {
  runs: number;
  warmup: number;
  inFlight: number;
  throughputMs: number;
}

/** Lets the children of forking methods finish tearing down their copy of the parent before what follows. */
const SETTLE_MS = 300;

/**
 * Methods that fork the parent leave work behind (copy-on-write faults in the parent, the copied
 * page tables torn down in the child at exec) that would be charged to whatever runs next: they
 * form their own group, measured after the others. The register-hook rows come between (see
 * Method.separateGroup).
 */
export function alternationGroups(methods: Method[]): Method[][] {
  const apart = (m: Method) => m.separateGroup === true;
  return [
    methods.filter((m) => !m.forks && !apart(m)),
    methods.filter((m) => !m.forks && apart(m)),
    methods.filter((m) => m.forks),
  ].filter((g) => g.length > 0);
}

/** The processes of their own that hold the ballast while `group` is measured. */
export function driversOf(group: Method[]): Set<NonNullable<Method['driver']>> {
  return new Set(group.flatMap((m) => (m.driver ? [m.driver] : [])));
}

/** Rotates the order each run so that no method always follows the same one. */
function rotated<T>(items: T[], by: number): T[] {
  const k = items.length ? by % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}

/**
 * Measures every method at the parent RSS reached, group by group: the methods of a group spawn
 * the target in turn, run by run, then each spawns it `runs` times back to back, then each method
 * of this process `runs` times more with the loop monitor running, then each keeps `inFlight`
 * children going for a while.
 * The monitor's 1 ms timer runs only in that third phase: in the timed ones it slowed the
 * spawns of this process by 0.1-0.3 ms each (its wake-ups come between a spawn and its exit),
 * which the methods timing themselves in processes of their own never paid.
 * A method that fails is recorded in `failures` and dropped. Rows come in table order.
 */
export async function measureSize(
  methods: Method[],
  parentRss: number,
  settings: SizeSettings,
  monitor: LoopMonitor,
  failures: Map<string, string>,
  progress: (text: string) => void,
): Promise<Measured[]> {
  const fail = (method: Method, error: unknown) =>
    failures.set(method.name, (error as Error).message?.split('\n')[0] ?? String(error));
  const alive = (group: Method[]) => group.filter((m) => !failures.has(m.name));
  const groups = alternationGroups(alive(methods));
  const measured = new Map<Method, Measured>(
    groups
      .flat()
      .map((method) => [method, { method, samples: [], loopSamples: [], backToBackMs: [], spawnsPerSecond: null }]),
  );
  for (const group of groups) {
    for (const method of group) {
      try {
        await method.prepare?.(parentRss);
      } catch (error) {
        fail(method, error);
      }
    }
    const resume = monitor.pause();
    const total = settings.warmup + settings.runs;
    for (let run = 0; run < total; run++) {
      const warm = run < settings.warmup;
      for (const method of rotated(alive(group), run)) {
        progress(
          `${warm ? 'warm-up' : 'run'} ${warm ? run + 1 : run - settings.warmup + 1}/${warm ? settings.warmup : settings.runs} ${method.name}`,
        );
        try {
          const sample = await method.sample();
          if (!warm) measured.get(method)!.samples.push(sample);
        } catch (error) {
          fail(method, error);
        }
      }
    }
    for (const method of alive(group)) {
      progress(`${settings.runs} back to back, ${method.name}`);
      try {
        measured.get(method)!.backToBackMs = await method.backToBack(settings.runs);
      } catch (error) {
        fail(method, error);
      }
    }
    resume();
    for (const method of alive(group).filter((m) => !m.driver)) {
      progress(`${settings.runs} with the loop monitor, ${method.name}`);
      try {
        for (let run = 0; run < settings.runs; run++)
          measured.get(method)!.loopSamples.push(await method.sample(monitor));
      } catch (error) {
        fail(method, error);
      }
    }
    for (const method of alive(group)) {
      progress(`${settings.inFlight} in flight, ${method.name}`);
      try {
        const { completed, elapsedMs } = await method.throughput(settings.inFlight, settings.throughputMs);
        measured.get(method)!.spawnsPerSecond = elapsedMs > 0 ? (completed / elapsedMs) * 1000 : null;
      } catch (error) {
        fail(method, error);
      }
    }
    // The group's own processes give their ballast back before the next group starts its own.
    for (const driver of driversOf(group)) await driver.stop().catch(() => {});
    if (group.some((m) => m.forks)) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
  for (const m of measured.values()) if (failures.has(m.method.name)) m.error = failures.get(m.method.name);
  return [...measured.values()];
}
