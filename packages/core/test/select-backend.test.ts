import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  findConfig,
  forkBeforeExec,
  listBackends,
  nodeBackend,
  resolveBackend,
  type Backend,
  type ForkExecError,
} from '@forkexec/core';

const fakePackage = (dir: string, name: string, body: string) => {
  const pkgDir = path.join(dir, 'node_modules', name);
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ name, main: 'index.cjs' }));
  writeFileSync(path.join(pkgDir, 'index.cjs'), body);
};

/** A backend package that renames the node backend, proving which one was loaded. */
const RENAMED_NODE = `
const { nodeBackend } = require(${JSON.stringify(require.resolve('../src/node-backend.ts').replace(/\.ts$/, ''))});
exports.createBackend = (options = {}) => ({ ...nodeBackend, name: options.name ?? 'renamed-node' });
`;

describe('backend selection', () => {
  let dir: string;
  const cwd = process.cwd();
  const env = process.env.FORKEXEC_BACKEND;

  beforeEach(() => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-select-')));
    delete process.env.FORKEXEC_BACKEND;
    process.chdir(dir);
  });
  afterEach(() => {
    process.chdir(cwd);
    if (env === undefined) delete process.env.FORKEXEC_BACKEND;
    else process.env.FORKEXEC_BACKEND = env;
    rmSync(dir, { recursive: true, force: true });
  });

  test('auto picks a working backend when nothing is configured', () => {
    const backend = resolveBackend();
    expect(backend.probe().ok).toBe(true);
  });

  test('the option wins over FORKEXEC_BACKEND and the config file', () => {
    writeFileSync(path.join(dir, '.forkexecrc'), JSON.stringify({ backend: 'nope-from-config' }));
    process.env.FORKEXEC_BACKEND = 'nope-from-env';
    expect(resolveBackend('node')).toBe(nodeBackend);
  });

  test('FORKEXEC_BACKEND wins over the config file', () => {
    writeFileSync(path.join(dir, '.forkexecrc'), JSON.stringify({ backend: 'nope-from-config' }));
    process.env.FORKEXEC_BACKEND = 'node';
    expect(resolveBackend()).toBe(nodeBackend);
  });

  test.each([
    ['.forkexecrc', JSON.stringify({ backend: 'my-backend' })],
    ['forkexec.config.json', JSON.stringify({ backend: 'my-backend' })],
    ['package.json', JSON.stringify({ name: 'app', forkexec: { backend: 'my-backend' } })],
    ['forkexec.config.cjs', `module.exports = { backend: 'my-backend' };`],
    ['forkexec.config.mjs', `export default { backend: 'my-backend' };`],
  ])('a package named in %s is loaded from the config folder', (file, content) => {
    fakePackage(dir, 'my-backend', RENAMED_NODE);
    writeFileSync(path.join(dir, file), content);
    const sub = path.join(dir, 'nested', 'deeper');
    mkdirSync(sub, { recursive: true });
    process.chdir(sub);
    expect(resolveBackend().name).toBe('renamed-node');
  });

  test('backendOptions reach createBackend', () => {
    fakePackage(dir, 'opt-backend', RENAMED_NODE);
    writeFileSync(
      path.join(dir, '.forkexecrc'),
      JSON.stringify({ backend: 'opt-backend', backendOptions: { name: 'with-options' } }),
    );
    expect(resolveBackend().name).toBe('with-options');
  });

  test('a backend is loaded once per name and options', () => {
    fakePackage(dir, 'cached-backend', RENAMED_NODE);
    const configured = (folder: string, name: string) => {
      mkdirSync(path.join(dir, folder));
      const config = { backend: 'cached-backend', backendOptions: { name, other: 1 } };
      writeFileSync(path.join(dir, folder, '.forkexecrc'), JSON.stringify(config));
      process.chdir(path.join(dir, folder));
      return resolveBackend();
    };
    const first = configured('a', 'first');
    const second = configured('b', 'second');
    expect([first.name, second.name]).toEqual(['first', 'second']);
    expect(configured('c', 'first')).toBe(first);
  });

  test('a package whose createBackend returns no backend is refused', () => {
    fakePackage(dir, 'object-only', 'exports.backend = { name: "x", spawn() {} }; exports.createBackend = () => 1;');
    expect(() => resolveBackend('object-only')).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_BACKEND_LOAD', message: expect.stringContaining('object-only') }),
    );
  });

  test('an unknown name says where it came from and never suggests installing it (a typosquatting invitation)', () => {
    process.env.FORKEXEC_BACKEND = 'nope';
    const error = (() => {
      try {
        resolveBackend();
      } catch (e) {
        return e as ForkExecError;
      }
    })();
    expect(error).toMatchObject({
      code: 'FORKEXEC_BACKEND_LOAD',
      message: expect.stringMatching(/"nope" \(from FORKEXEC_BACKEND\)/),
    });
    expect(error!.message).not.toMatch(/npm install/);
  });

  test.each([
    ['nod', 'node'],
    ['NTDLL', 'ntdll'],
    ['helperexe', 'helper-exe'],
  ])('a backend typo %p gets "did you mean %s?"', (typo, meant) => {
    expect(() => resolveBackend(typo)).toThrow(
      expect.objectContaining({
        code: 'FORKEXEC_BACKEND_LOAD',
        message: expect.stringContaining(
          `unknown backend "${typo}" (from option \`backend\`) (did you mean "${meant}"?)`,
        ),
      }),
    );
  });

  test.each([
    [
      '.forkexecrc',
      '{"backnd": "node"}',
      /\.forkexecrc has an unknown key "backnd" \(did you mean "backend"\?\); known keys: backend, backendOptions$/m,
    ],
    ['forkexec.config.json', '[]', /forkexec\.config\.json must be an object, got array \[0 items\]/],
    ['.forkexecrc', '{"backend": 3}', /\.forkexecrc its key "backend" must be a backend name, got number 3/],
    [
      '.forkexecrc',
      '{"backendOptions": "max=3"}',
      /\.forkexecrc its key "backendOptions" must be an object, got "max=3"/,
    ],
    [
      'package.json',
      '{"name": "x", "forkexec": {"backend": "node", "extra": 1}}',
      /the "forkexec" key of .*package\.json has an unknown key "extra"/,
    ],
  ])('a config mistake in %s is an error naming the file and the key', (file, content, message) => {
    writeFileSync(path.join(dir, file), content);
    expect(() => resolveBackend()).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_BACKEND_LOAD', message: expect.stringMatching(message) }),
    );
  });

  test('backendOptions a backend does not know are refused by it, with a did-you-mean', () => {
    writeFileSync(
      path.join(dir, '.forkexecrc'),
      JSON.stringify({ backend: 'helper-exe', backendOptions: { maxx: 3 } }),
    );
    expect(() => resolveBackend()).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/helper-exe options has an unknown key "maxx" \(did you mean "max"\?\)/),
      }),
    );
  });

  test('config files in one folder: forkexec.config.* first, then .forkexecrc, then package.json (as the README says)', () => {
    const files: [string, string][] = [
      ['package.json', JSON.stringify({ name: 'x', forkexec: { backend: 'package.json' } })],
      ['.forkexecrc', JSON.stringify({ backend: '.forkexecrc' })],
      ['forkexec.config.json', JSON.stringify({ backend: 'forkexec.config.json' })],
      ['forkexec.config.cjs', 'module.exports = { backend: "forkexec.config.cjs" };'],
      ['forkexec.config.js', 'module.exports = { backend: "forkexec.config.js" };'],
    ];
    // Each step in a new folder (lilconfig caches by folder): the file added last is the one that wins.
    for (let n = 1; n <= files.length; n++) {
      const folder = path.join(dir, `step-${n}`);
      mkdirSync(folder);
      for (const [file, content] of files.slice(0, n)) writeFileSync(path.join(folder, file), content);
      expect(findConfig(folder)?.config.backend).toBe(files[n - 1][0]);
    }
  });

  test('a broken config file is a typed error', () => {
    writeFileSync(path.join(dir, '.forkexecrc'), '{ not json');
    expect(() => resolveBackend()).toThrow(expect.objectContaining({ code: 'FORKEXEC_BACKEND_LOAD' }));
  });

  test('a package that exports no backend is refused', () => {
    fakePackage(dir, 'not-a-backend', 'exports.hello = 1;');
    expect(() => resolveBackend('not-a-backend')).toThrow(
      expect.objectContaining({
        code: 'FORKEXEC_BACKEND_LOAD',
        message: expect.stringContaining('does not export a forkexec backend'),
      }),
    );
  });

  test('a backend whose probe fails is unavailable, with the reason', async () => {
    const broken: Backend = { ...nodeBackend, name: 'broken', probe: () => ({ ok: false, reason: 'no libc here' }) };
    await expect(forkBeforeExec('true', [], { backend: broken })).rejects.toMatchObject({
      code: 'FORKEXEC_BACKEND_UNAVAILABLE',
      message: expect.stringContaining('no libc here'),
    });
  });

  test('an object that is not a backend is refused', async () => {
    await expect(forkBeforeExec('true', [], { backend: { name: 'x' } as unknown as Backend })).rejects.toMatchObject({
      code: 'FORKEXEC_BACKEND_LOAD',
    });
  });

  test('an unsupported action names the backends that have it', async () => {
    const minimal: Backend = {
      ...nodeBackend,
      name: 'minimal',
      capabilities: { ...nodeBackend.capabilities, actions: [] },
    };
    await expect(
      forkBeforeExec('true', [], { backend: minimal, actions: [{ op: 'chdir', path: '/' }] }),
    ).rejects.toMatchObject({
      code: 'FORKEXEC_UNSUPPORTED_ACTION',
      actionIndex: 0,
      message: expect.stringMatching(/minimal backend cannot carry out chdir[\s\S]*Backends that can: .*node/),
    });
  });

  test('a built-in backend is found beside core wherever the caller runs from (pnpm, a script outside the project)', () => {
    // A script in a folder with no node_modules, run from there, importing the built core by path: only core's own
    // folder can resolve its optional dependency. (In Jest, argv[1] is Jest's own bin, inside the repository.)
    const core = path.resolve(__dirname, '../dist/index.js');
    writeFileSync(
      path.join(dir, 'run.mjs'),
      `import { forkBeforeExec } from ${JSON.stringify(core)};\n` +
        `const r = await forkBeforeExec('/bin/sh', ['-c', 'echo ok'], { backend: 'ntdll' });\n` +
        `console.log(r.backend, r.stdout.trim());\n`,
    );
    expect(execFileSync(process.execPath, ['run.mjs'], { cwd: dir, encoding: 'utf8' }).trim()).toBe('ntdll ok');
  });

  test('listBackends reports every built-in backend with a status', () => {
    const statuses = listBackends();
    expect(statuses.map((s) => s.name)).toEqual(expect.arrayContaining(['node', 'ntdll', 'helper-exe']));
    expect(statuses.find((s) => s.name === 'node')).toMatchObject({ ok: true, loaded: true });
    for (const s of statuses) if (!s.ok) expect(s.reason).toEqual(expect.any(String));
  });
});
