/** The helper-exe backend: a lazily started pool of pre-started helpers that exec in place. */
import {
  ACTION_OPS,
  InvalidArgumentError,
  loadBackend,
  nodeBackend,
  probeBackend,
  type Backend,
  type ProbeResult,
  type SpawnedChild,
  type SpawnRequest,
  type SyncSpawnOptions,
} from '@forkexec/core';
import { refuseUnknownKeys } from '@forkexec/core/backend-kit';
import { fdPassing } from './linux/fd-passing.js';
import { helperPath, helperProblem, packageDir } from './locate-helper.js';
import { LinuxHelperPool } from './linux/helper-pool.js';
import { probeHelper } from './linux/probe-helper.js';
import { spawnOnHelper, spawnSyncOnStarter } from './linux/spawn-on-helper.js';
import { PROTOCOL_VERSION } from './linux/wire.js';
import { createWin32HelperBackend } from './win32/index.js';

export interface HelperExeOptions {
  /** Helpers kept warm while the pool is in use (default 2). */
  min?: number;
  /** Most helpers kept warm under demand (default 8). */
  max?: number;
  /** Warm helpers retire after this long without a spawn (default 2000 ms). */
  idleTimeoutMs?: number;
  /** The helper program (default: FORKEXEC_HELPER, then the package's dist/<platform>-<arch>/fxhelper). */
  helperPath?: string;
  /** The backend that starts helpers (default: ntdll when it works here, else node). */
  starter?: Backend | string;
  /**
   * Refill the pool through a zygote that forks helpers (default true). Needs a starter that
   * offers `watchChild` (ntdll does) to reap the helpers it forks; with another starter every
   * helper is started directly.
   */
  zygote?: boolean;
  /**
   * A request that finds no warm helper: 'helper' (default) starts a helper for it on the spot;
   * 'starter' runs it through the starter backend at once when that backend can carry out all its
   * actions and none of them is an `open` (which may block): cheaper (a helper started on the spot
   * costs that same spawn and a round trip more), but the pool's own fds and children then change
   * behind the caller's back more often.
   */
  overflow?: 'starter' | 'helper';
}

const OPTION_KEYS: readonly (keyof HelperExeOptions)[] = [
  'min',
  'max',
  'idleTimeoutMs',
  'helperPath',
  'starter',
  'zygote',
  'overflow',
];

export interface PoolStats {
  /** Warm helpers now. */
  warm: number;
  /** Requests served by a warm helper, by a helper started on the spot, and by the starter itself (none warm). */
  warmTaken: number;
  coldStarted: number;
  overflowed?: number;
  /** Warm helpers retired (idle, stale credentials, dispose) and replaced after dying. */
  retired: number;
  replaced: number;
  /** Linux: helpers forked by a zygote, zygotes started, and the pid of the one running now. */
  forked?: number;
  zygotes?: number;
  zygotePid?: number;
  /** Linux: the warm set the pool aims at now (min when idle, up to max under demand), and helper starts failed in a row (warm-up pauses after 3). */
  target?: number;
  startFailures?: number;
}

export interface HelperExeBackend extends Backend {
  /** Pool counters. */
  stats(): PoolStats;
  /** The backend starting the helpers (resolved on first use). */
  starter(): Backend;
}

const DEFAULTS = { min: 2, max: 8, idleTimeoutMs: 2000 };

function count(value: unknown, name: string, fallback: number, least: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < least)
    throw new InvalidArgumentError(`helper-exe option ${name} must be an integer >= ${least}, got ${String(value)}`);
  return value as number;
}

/** ntdll's posix_spawn when it works here (flat cost), else child_process. */
function defaultStarter(): Backend {
  try {
    const ntdll = loadBackend('ntdll', { source: '@forkexec/helper-exe', dir: packageDir() });
    if (ntdll.capabilities.platforms.includes(process.platform) && probeBackend(ntdll).ok) return ntdll;
  } catch {}
  return nodeBackend;
}

function resolveStarter(spec: Backend | string | undefined): Backend {
  const starter = spec === undefined ? defaultStarter() : typeof spec === 'string' ? loadBackend(spec) : spec;
  if (starter.name === 'helper-exe')
    throw new InvalidArgumentError('helper-exe cannot start its own helpers: choose ntdll or node as the starter');
  return starter;
}

export function createBackend(options: HelperExeOptions = {}): HelperExeBackend {
  refuseUnknownKeys(options, OPTION_KEYS, 'helper-exe options');
  const min = count(options.min, 'min', DEFAULTS.min, 0);
  const max = count(options.max, 'max', Math.max(DEFAULTS.max, min), 1);
  if (min > max) throw new InvalidArgumentError(`helper-exe option min (${min}) exceeds max (${max})`);
  const idleTimeoutMs = count(options.idleTimeoutMs, 'idleTimeoutMs', DEFAULTS.idleTimeoutMs, 1);
  if (process.platform === 'win32')
    return createWin32HelperBackend({ min, max, idleTimeoutMs, helperPath: options.helperPath });
  let starter: Backend | undefined;
  let pool: LinuxHelperPool | undefined;
  const getStarter = () => (starter ??= resolveStarter(options.starter));
  if (options.zygote !== undefined && typeof options.zygote !== 'boolean')
    throw new InvalidArgumentError(`helper-exe option zygote must be a boolean, got ${String(options.zygote)}`);
  if (options.overflow !== undefined && options.overflow !== 'starter' && options.overflow !== 'helper')
    throw new InvalidArgumentError(
      `helper-exe option overflow must be 'starter' or 'helper', got ${String(options.overflow)}`,
    );
  const getPool = () => {
    if (pool) return pool;
    const start = getStarter();
    // The zygote's helpers are children of this process that the starter did not start: a starter that can watch them reaps them.
    const watch = options.zygote !== false ? start.watchChild?.bind(start) : undefined;
    return (pool = new LinuxHelperPool({
      min,
      max,
      idleTimeoutMs,
      helperPath: helperPath(options.helperPath),
      starter: start,
      native: fdPassing(),
      watch,
    }));
  };

  return {
    name: 'helper-exe',
    capabilities: {
      platforms: ['linux'],
      actions: [...ACTION_OPS],
      pidBeforeExec: true,
      preStartsHelpers: true,
      flatCost: true,
      exactExec: true,
      searchesPath: true,
    },
    socketPair: () => fdPassing().socketpair(),
    probe(): ProbeResult {
      if (process.platform !== 'linux')
        return { ok: false, reason: `helper-exe runs on Linux; ${process.platform} is not supported yet` };
      const problem = helperProblem(options.helperPath);
      if (problem) return { ok: false, reason: problem };
      const file = helperPath(options.helperPath);
      let starterName: string;
      try {
        const starterBackend = getStarter();
        starterName = starterBackend.name;
        const failed = probeHelper(starterBackend, file, fdPassing());
        if (failed) return { ok: false, reason: failed };
      } catch (error) {
        return { ok: false, reason: (error as Error).message };
      }
      return {
        ok: true,
        detail: `${file} (protocol v${PROTOCOL_VERSION}, handshake ok), helpers started by the ${starterName} backend`,
      };
    },
    spawn(request: SpawnRequest): SpawnedChild {
      return spawnOnHelper(getPool(), request, options.overflow === 'starter' ? getStarter() : undefined);
    },
    spawnSync: (request: SpawnRequest, sync: SyncSpawnOptions) => spawnSyncOnStarter(getStarter(), request, sync),
    async dispose() {
      const current = pool;
      pool = undefined;
      await current?.dispose();
    },
    stats() {
      const counters = pool?.stats ?? {
        warmTaken: 0,
        coldStarted: 0,
        overflowed: 0,
        retired: 0,
        replaced: 0,
        forked: 0,
        zygotes: 0,
      };
      return { warm: pool?.warmCount ?? 0, ...counters, zygotePid: pool?.zygotePid, ...pool?.health };
    },
    starter: getStarter,
  };
}
