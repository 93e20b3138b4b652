import { performance } from 'node:perf_hooks';
import type { Driver } from './driven.js';
import type { LoopMonitor } from './loop-monitor.js';

/** One spawn-to-exit, in milliseconds. Loop figures are null for the C floor, which runs outside Node. */
export interface Sample {
  /** From the request to the child's exit being known. */
  totalMs: number;
  /** Inside the synchronous call that starts the child (the loop is blocked for all of it). */
  syncMs: number;
  /** From the request to the pid being known. */
  pidMs: number;
  /** Loop figures, from a sample taken with the loop monitor running (null otherwise, and for methods outside this process). */
  busyMs: number | null;
  lagMs: number | null;
}

interface Throughput {
  completed: number;
  elapsedMs: number;
}

export type MethodKind = 'floor' | 'raw' | 'backend' | 'peer';

/** A way of spawning the target that the bench compares. */
export interface Method {
  /** The name `--backends` takes. */
  name: string;
  kind: MethodKind;
  /** Package and version, when the method comes from a package. */
  version: string | null;
  /**
   * Whether starting a child forks this process (copies its page tables). What a fork leaves
   * behind (copy-on-write faults in the parent, the copy torn down in the child on exec) slows
   * whatever runs next, so forking methods alternate among themselves, apart from the others.
   */
  forks: boolean;
  /**
   * Measured in a group of its own between the methods that do not fork and those that do (the
   * register-hook rows): its process of its own then holds the ballast alone beside the parent, and
   * no fork's leftovers are charged to it.
   */
  separateGroup?: boolean;
  /** The process of its own that holds the ballast for it and times its spawns (several methods may share one). */
  driver?: Driver;
  /** Runs before each parent RSS with the RSS reached: a method measured in a process of its own holds the same ballast there. */
  prepare?(rssBytes: number): Promise<void>;
  /** One spawn, timed; with `monitor`, the loop figures too (the monitor's timer must be running). */
  sample(monitor?: LoopMonitor): Promise<Sample>;
  /** `runs` spawns in a tight loop, nothing else between them (no loop monitor): each one's spawn-to-exit ms. */
  backToBack(runs: number): Promise<number[]>;
  /** Keeps `inFlight` spawns running until `durationMs` has passed, then lets them finish. */
  throughput(inFlight: number, durationMs: number): Promise<Throughput>;
  close?(): Promise<void>;
}

/** A started child as a Node method reports it: the pid, maybe late, and its exit (rejecting unless it exited 0). */
export interface Launch {
  pid: number | undefined | PromiseLike<number | undefined>;
  exited: PromiseLike<unknown>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

export type MethodInfo = Pick<Method, 'name' | 'kind' | 'version' | 'forks' | 'separateGroup'>;

/** A method made from a function that starts one child from Node. */
export function launchMethod(info: MethodInfo, launch: () => Launch, close?: () => Promise<void>): Method {
  return {
    ...info,
    close,
    async backToBack(runs) {
      const totals: number[] = [];
      for (let run = 0; run < runs; run++) {
        const t0 = performance.now();
        await launch().exited;
        totals.push(performance.now() - t0);
      }
      return totals;
    },
    async sample(monitor) {
      monitor?.mark();
      const t0 = performance.now();
      const started = launch();
      const t1 = performance.now();
      const exitedAt = Promise.resolve(started.exited).then(() => performance.now());
      exitedAt.catch(() => {}); // observed below; a late pid must not leave it unhandled meanwhile
      let pidAt = t1;
      if (isThenable(started.pid)) {
        await started.pid;
        pidAt = performance.now();
      }
      const t2 = await exitedAt;
      const { busyMs, lagMs } = monitor ? await monitor.read() : { busyMs: null, lagMs: null };
      return { totalMs: t2 - t0, syncMs: t1 - t0, pidMs: pidAt - t0, busyMs, lagMs };
    },
    throughput(inFlight, durationMs) {
      const t0 = performance.now();
      const deadline = t0 + durationMs;
      return new Promise<Throughput>((resolve, reject) => {
        let running = 0;
        let completed = 0;
        let failed = false;
        const fail = (error: unknown) => {
          if (!failed) reject(error);
          failed = true;
        };
        const done = () => {
          if (running === 0 && !failed) resolve({ completed, elapsedMs: performance.now() - t0 });
        };
        const startOne = () => {
          running++;
          let started: Launch;
          try {
            started = launch();
          } catch (error) {
            fail(error);
            return;
          }
          Promise.resolve(started.exited).then(() => {
            running--;
            completed++;
            if (!failed && performance.now() < deadline) startOne();
            done();
          }, fail);
        };
        // The clock is checked before every start: a fork-based start may block for 200 ms.
        while (running < inFlight && performance.now() < deadline && !failed) startOne();
        done();
      });
    },
  };
}
