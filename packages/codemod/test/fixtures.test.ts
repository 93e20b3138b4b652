import { transformSync } from '@babel/core';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import forkexecBabelPlugin, { type ForkexecMetadata } from '../src/babel-plugin.js';
import { createJsFrontend } from '../src/frontends/js/index.js';
import { parserPlugins } from '../src/frontends/js/parse.js';
import { loadFixtures, summarise } from './fixtures.js';

const fixtures = loadFixtures();
// UPDATE_FIXTURES=1 rewrites output.* and sites.json from the current code: review the diff before committing.
const update = process.env.UPDATE_FIXTURES === '1';

/** Babel's own printing of `code`, with `plugins`: the plugin's output is compared through it. */
function babelPrint(code: string, file: string, plugins: unknown[] = []) {
  const result = transformSync(code, {
    filename: file,
    configFile: false,
    babelrc: false,
    plugins: plugins as never[],
    parserOpts: { plugins: parserPlugins(file), allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true },
  })!;
  return { code: result.code!, metadata: result.metadata as unknown as { forkexec?: ForkexecMetadata } };
}

describe.each(fixtures.map((f) => [f.name, f] as const))('fixture %s', (_name, fixture) => {
  const frontend = createJsFrontend(fixture.options);
  const file = path.basename(fixture.inputFile);

  test('recast rewrite: expected output (byte for byte) and sites', () => {
    const result = frontend.transform(fixture.input, file);
    if (update) {
      if (result.changed) writeFileSync(fixture.outputFile, result.code);
      writeFileSync(path.join(fixture.dir, 'sites.json'), `${JSON.stringify(summarise(result.sites), null, 2)}\n`);
      return;
    }
    expect(result.code).toBe(fixture.output ?? fixture.input);
    expect(result.changed).toBe(fixture.output !== null);
    expect(summarise(result.sites)).toEqual(fixture.sites);
  });

  test('scan reports the same sites without rewriting', () => {
    const sites = frontend.scan(fixture.input, file);
    expect(summarise(sites).map((s) => ({ ...s, converted: false, reason: undefined }))).toEqual(
      fixture.sites.map((s) => ({ ...s, converted: false, reason: undefined })),
    );
    expect(sites.map((s) => s.convertible)).toEqual(fixture.sites.map((s) => s.converted));
  });

  test('idempotent: a second run changes nothing', () => {
    const once = frontend.transform(fixture.input, file).code;
    const twice = frontend.transform(once, file);
    expect(twice.changed).toBe(false);
    expect(twice.code).toBe(once);
    expect(twice.sites.every((s) => !s.converted)).toBe(true);
    expect(twice.sites.map((s) => s.class)).toEqual(fixture.sites.filter((s) => !s.converted).map((s) => s.class));
  });

  test('Babel plugin: same rewrite as the recast one, same sites in the metadata', () => {
    const viaPlugin = babelPrint(fixture.input, file, [[forkexecBabelPlugin, fixture.options]]);
    expect(viaPlugin.code).toBe(babelPrint(fixture.output ?? fixture.input, file).code);
    expect(summarise(viaPlugin.metadata.forkexec?.sites ?? [])).toEqual(fixture.sites);
  });

  test('Babel plugin before the CommonJS module transform: the new imports are bound', () => {
    const { code } = transformSync(fixture.input, {
      filename: file,
      configFile: false,
      babelrc: false,
      plugins: [[forkexecBabelPlugin, fixture.options]],
      presets: [['@babel/preset-env', { targets: { node: '20.19' }, modules: 'commonjs' }], '@babel/preset-typescript'],
      parserOpts: { allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true },
    })!;
    const converted = fixture.sites.filter((s) => s.converted).length;
    // Every fork_before_exec reads the required module (`(0, _posix.fork_before_exec)(` or `posix.fork_before_exec(`).
    expect(code!.match(/fork_before_exec\b/g) ?? []).toHaveLength(converted);
    expect(code!.match(/(\(0, _\w+\.fork_before_exec\)|\w\.fork_before_exec)\(/g) ?? []).toHaveLength(converted);
  });
});
