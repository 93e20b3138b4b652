// Importing the package must not load koffi; a koffi that cannot load makes probe() say so,
// and core's `auto` selection then falls back to node.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Backend } from '@forkexec/core';

type Core = typeof import('@forkexec/core');
type Package = typeof import('../src/index.js');

/** Loads the package (and core) afresh with koffi replaced by `koffi`, counting its loads. */
function isolated(koffi: () => unknown): { pkg: Package; core: Core; loads: () => number } {
  let loads = 0;
  let pkg!: Package;
  let core!: Core;
  jest.isolateModules(() => {
    jest.doMock('koffi', () => {
      loads++;
      return koffi();
    });
    pkg = jest.requireActual('../src/index.js');
    core = jest.requireActual('@forkexec/core');
  });
  return { pkg, core, loads: () => loads };
}

// probe() requires koffi after isolateModules returned, through the main registry: start each test clean.
beforeEach(() => jest.resetModules());
afterEach(() => jest.dontMock('koffi'));

describe('ntdll-backend loading', () => {
  it('importing the package loads no koffi; probe() does', () => {
    const { pkg, loads } = isolated(() => jest.requireActual('koffi'));
    expect(pkg.backend.name).toBe('ntdll');
    expect(typeof pkg.createBackend).toBe('function');
    expect(loads()).toBe(0);
    expect(pkg.backend.probe()).toMatchObject({ ok: true });
    expect(loads()).toBe(1);
  });

  it('probe() reports a koffi that cannot load, and auto picks node', () => {
    const { pkg, core, loads } = isolated(() => {
      throw new Error('Cannot find module @koromix/koffi-linux-x64');
    });
    const probe = pkg.backend.probe();
    expect(probe).toEqual({ ok: false, reason: expect.stringContaining('koffi does not load') });
    expect(loads()).toBe(1);
    core.registerBackend('ntdll', () => pkg.createBackend());
    expect(core.resolveBackend('auto').name).toBe('node');
  });

  it('auto picks ntdll on Linux when its probe succeeds', () => {
    const { pkg, core } = isolated(() => jest.requireActual('koffi'));
    core.registerBackend('ntdll', (): Backend => pkg.createBackend());
    expect(core.resolveBackend('auto').name).toBe(process.platform === 'linux' ? 'ntdll' : 'node');
  });
});

const dist = path.resolve(__dirname, '../dist/index.js');
const whenBuilt = existsSync(dist) ? it : it.skip;

describe(`the built package in a plain Node process${existsSync(dist) ? '' : ' [skipped: build the package first]'}`, () => {
  whenBuilt('loads koffi on the first probe, not on import', () => {
    const script = `
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const koffiLoaded = () => Object.keys(cache).some((file) => /[\\\\/]koffi[\\\\/]/.test(file));
      const { backend } = await import(${JSON.stringify(dist)});
      const before = koffiLoaded();
      const probe = backend.probe();
      console.log(JSON.stringify({ before, after: koffiLoaded(), ok: probe.ok }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, after: true, ok: true });
  });
});
