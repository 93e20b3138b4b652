import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lilconfigSync, type LilconfigResult } from 'lilconfig';
import type { ActionOp } from './actions.js';
import { isBackend, type Backend, type BackendSpec, type ProbeResult } from './backend.js';
import { suggestion, unknownKeyProblem } from './did-you-mean.js';
import { BackendLoadError, BackendUnavailableError } from './errors.js';
import { nodeBackend } from './node-backend.js';
import { describe } from './validate-options.js';

/** Built-in backend names and the packages that hold them. */
export const BUILTIN_BACKENDS: Readonly<Record<string, string | null>> = {
  node: null,
  ntdll: '@forkexec/ntdll-backend',
  'helper-exe': '@forkexec/helper-exe',
};

/** The order `auto` tries: the first that loads and probes fine wins; `node` always works. */
const AUTO_ORDER = ['ntdll', 'node'];

export interface ForkExecConfig {
  backend?: string;
  /** Passed to the backend package's `createBackend(options)`. */
  backendOptions?: Record<string, unknown>;
}

const factories = new Map<string, () => Backend>([['node', () => nodeBackend]]);
/** Backends loaded so far, by name, then by their options (see optionsKey). */
const loaded = new Map<string, Map<string, Backend>>();
const probes = new WeakMap<Backend, ProbeResult>();

/**
 * Backends named by option `backend` that loaded and probed fine, by that name: every spawn but the
 * first finds its backend in this one lookup (the probe's verdict is kept per backend anyway).
 */
const usableByName = new Map<string, Backend>();

/** Makes a backend available by name without a package lookup (the CLI registers its own dependencies). */
export function registerBackend(name: string, factory: () => Backend): void {
  factories.set(name, factory);
  loaded.delete(name);
  usableByName.delete(name);
}

const configSearch = lilconfigSync('forkexec', {
  // The first found in a folder wins, in the README's order: forkexec.config.*, .forkexecrc, package.json.
  searchPlaces: [
    'forkexec.config.js',
    'forkexec.config.mjs',
    'forkexec.config.cjs',
    'forkexec.config.json',
    '.forkexecrc',
    '.forkexecrc.json',
    'package.json',
  ],
  loaders: {
    // Node >= 20.19 can require() ES modules, which keeps backend selection synchronous.
    '.js': (file) => unwrapDefault(createRequire(file)(file)),
    '.cjs': (file) => unwrapDefault(createRequire(file)(file)),
    '.mjs': (file) => unwrapDefault(createRequire(file)(file)),
    noExt: (_file, content) => JSON.parse(content),
  },
});

function unwrapDefault(mod: unknown): unknown {
  const m = mod as { default?: unknown; __esModule?: boolean };
  return m && typeof m === 'object' && 'default' in m ? m.default : mod;
}

/** The nearest forkexec config from `cwd` upwards, or null. */
export function findConfig(cwd = process.cwd()): { config: ForkExecConfig; filepath: string } | null {
  let found: LilconfigResult;
  try {
    found = configSearch.search(cwd);
  } catch (error) {
    throw new BackendLoadError(`could not read the forkexec config: ${(error as Error).message}`, { cause: error });
  }
  if (!found || found.isEmpty) return null;
  const config = found.config as ForkExecConfig;
  const problem =
    unknownKeyProblem(config, CONFIG_KEYS) ??
    (config.backend !== undefined && typeof config.backend !== 'string'
      ? `its key "backend" must be a backend name, got ${describe(config.backend)}`
      : undefined) ??
    (config.backendOptions !== undefined &&
    (typeof config.backendOptions !== 'object' ||
      config.backendOptions === null ||
      Array.isArray(config.backendOptions))
      ? `its key "backendOptions" must be an object, got ${describe(config.backendOptions)}`
      : undefined);
  if (problem) {
    const where =
      path.basename(found.filepath) === 'package.json' ? `the "forkexec" key of ${found.filepath}` : found.filepath;
    throw new BackendLoadError(`invalid forkexec config: ${where} ${problem}`, {
      hint: 'A forkexec config is { "backend": "<name>", "backendOptions": { ... } }.',
    });
  }
  return { config, filepath: found.filepath };
}

const CONFIG_KEYS: readonly (keyof ForkExecConfig)[] = ['backend', 'backendOptions'];

/** The options as a cache key: JSON with sorted keys, so that equal options share one backend. */
function optionsKey(options: Record<string, unknown> | undefined): string {
  return options === undefined
    ? ''
    : JSON.stringify(options, (_key, value: unknown) =>
        value && typeof value === 'object' && !Array.isArray(value)
          ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
          : value,
      );
}

function cachedBackend(name: string, options?: Record<string, unknown>): Backend | undefined {
  return loaded.get(name)?.get(optionsKey(options));
}

/** A backend package's one module shape: `createBackend(options)`, which returns a Backend. */
function fromModule(mod: unknown, options: Record<string, unknown> | undefined, name: string): Backend {
  const createBackend = (mod as { createBackend?: unknown } | null)?.createBackend;
  const backend =
    typeof createBackend === 'function' ? (createBackend as (o?: unknown) => unknown)(options) : undefined;
  if (isBackend(backend)) return backend;
  throw new BackendLoadError(`package ${name} does not export a forkexec backend`, {
    hint: 'A backend package exports createBackend(options), which returns a Backend.',
  });
}

function loadPackage(specifier: string, searchDirs: string[], options?: Record<string, unknown>): Backend | undefined {
  for (const dir of searchDirs) {
    const req = createRequire(path.join(dir, '__forkexec_resolve__.js'));
    let resolved: string;
    try {
      resolved = req.resolve(specifier);
    } catch {
      continue;
    }
    try {
      return fromModule(req(resolved), options, specifier);
    } catch (error) {
      if (error instanceof BackendLoadError) throw error;
      throw new BackendLoadError(`backend package ${specifier} failed to load: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  return undefined;
}

interface Origin {
  /** Where the name came from, for messages. */
  source: string;
  dir: string;
  options?: Record<string, unknown>;
}

/** Loads a backend by built-in name, package name or path. */
export function loadBackend(name: string, origin: Origin = { source: 'argument', dir: process.cwd() }): Backend {
  const cached = cachedBackend(name, origin.options);
  if (cached) return cached;
  const factory = factories.get(name);
  const specifier = BUILTIN_BACKENDS[name] ?? name;
  // Last, core's own folder: the built-in backends are its optional dependencies, installed where it can require
  // them (beside it in npm's flat layout, only there under pnpm or a nested install), whatever the caller's folder.
  const dirs = [
    ...new Set([
      origin.dir,
      process.cwd(),
      process.argv[1] ? path.dirname(process.argv[1]) : process.cwd(),
      path.dirname(fileURLToPath(import.meta.url)),
    ]),
  ];
  const backend = factory
    ? factory()
    : loadPackage(specifier.startsWith('.') ? path.resolve(origin.dir, specifier) : specifier, dirs, origin.options);
  if (!backend) {
    const builtin = name in BUILTIN_BACKENDS;
    // Never an install command for a name nobody published as a backend: a typo would invite a typosquatter.
    throw new BackendLoadError(
      builtin
        ? `the ${name} backend (from ${origin.source}) needs the package ${specifier}, which is not installed`
        : `unknown backend ${JSON.stringify(name)} (from ${origin.source})${suggestion(name, knownBackendNames())}`,
      {
        hint: builtin
          ? `Install it: npm install ${specifier}`
          : `Known backends: ${knownBackendNames().join(', ')}; a backend package is named by its package name or path, installed in your project. Or fix ${origin.source}.`,
      },
    );
  }
  let byOptions = loaded.get(name);
  if (!byOptions) loaded.set(name, (byOptions = new Map()));
  byOptions.set(optionsKey(origin.options), backend);
  return backend;
}

/** Probes once per backend object. */
export function probeBackend(backend: Backend): ProbeResult {
  let result = probes.get(backend);
  if (!result) {
    try {
      result = backend.probe();
    } catch (error) {
      result = { ok: false, reason: (error as Error).message };
    }
    probes.set(backend, result);
  }
  return result;
}

function autoBackend(): Backend {
  for (const name of AUTO_ORDER) {
    let backend: Backend;
    try {
      backend = loadBackend(name);
    } catch {
      continue;
    }
    if (backend.capabilities.platforms.includes(process.platform) && probeBackend(backend).ok) return backend;
  }
  return nodeBackend;
}

function usable(backend: Backend, source: string): Backend {
  const probe = probeBackend(backend);
  if (!probe.ok)
    throw new BackendUnavailableError(
      `the ${backend.name} backend (from ${source}) does not work here: ${probe.reason}`,
      {
        hint: 'Run `npx forkexec doctor` to see which backends work on this machine.',
      },
    );
  return backend;
}

/** Picks the backend: the option, then FORKEXEC_BACKEND, then the config file, then `auto`. */
export function resolveBackend(spec?: BackendSpec): Backend {
  if (typeof spec === 'string') {
    const ready = usableByName.get(spec);
    if (ready) return ready;
  } else if (spec !== undefined) {
    if (!isBackend(spec))
      throw new BackendLoadError(
        'option `backend` must be a name or a Backend object with name, capabilities, probe() and spawn()',
      );
    return usable(spec, 'option `backend`');
  }
  // A name loaded before needs no origin (whose process.cwd() is a native call).
  if (spec !== undefined) {
    const cached = cachedBackend(spec);
    if (cached) return rememberUsable(spec, usable(cached, 'option `backend`'));
  }
  let origin: Origin = { source: 'option `backend`', dir: process.cwd() };
  let name = spec;
  if (name === undefined && process.env.FORKEXEC_BACKEND) {
    name = process.env.FORKEXEC_BACKEND;
    origin = { source: 'FORKEXEC_BACKEND', dir: process.cwd() };
  }
  if (name === undefined) {
    const found = findConfig();
    if (found?.config.backend) {
      name = found.config.backend;
      origin = { source: found.filepath, dir: path.dirname(found.filepath), options: found.config.backendOptions };
    }
  }
  if (name === undefined || name === 'auto') return autoBackend();
  const backend = usable(loadBackend(name, origin), origin.source);
  return name === spec ? rememberUsable(name, backend) : backend;
}

function rememberUsable(name: string, backend: Backend): Backend {
  usableByName.set(name, backend);
  return backend;
}

/** Built-in names, then names registered at run time. */
function knownBackendNames(): string[] {
  return [...new Set([...Object.keys(BUILTIN_BACKENDS), ...factories.keys()])];
}

/** Names of the built-in or registered backends that load here and carry out `op`. */
export function backendsSupporting(op: ActionOp): string[] {
  return knownBackendNames().filter((name) => {
    try {
      return loadBackend(name).capabilities.actions.includes(op);
    } catch {
      return false;
    }
  });
}

export interface BackendStatus {
  name: string;
  package: string | null;
  loaded: boolean;
  ok: boolean;
  reason?: string;
  backend?: Backend;
}

/** Every built-in or registered backend with whether it works here and why not (for `forkexec doctor`). */
export function listBackends(): BackendStatus[] {
  return knownBackendNames().map((name) => {
    const pkg = BUILTIN_BACKENDS[name] ?? null;
    let backend: Backend;
    try {
      backend = loadBackend(name);
    } catch (error) {
      return { name, package: pkg, loaded: false, ok: false, reason: (error as Error).message.split('\n')[0] };
    }
    if (!backend.capabilities.platforms.includes(process.platform))
      return { name, package: pkg, loaded: true, ok: false, reason: `not for ${process.platform}`, backend };
    const probe = probeBackend(backend);
    return probe.ok
      ? { name, package: pkg, loaded: true, ok: true, reason: probe.detail, backend }
      : { name, package: pkg, loaded: true, ok: false, reason: probe.reason, backend };
  });
}
