// Shared Rollup config: run from a package folder. Bundles each entry of the package's
// "exports" map (./dist/NAME.js ← src/NAME.ts or src/NAME/index.ts) with Babel, as CommonJS under an ESM wrapper.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { babel } from '@rollup/plugin-babel';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const root = path.dirname(new URL(import.meta.url).pathname);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const input = {};
for (const target of Object.values(pkg.exports ?? {})) {
  const file = target?.import?.default;
  const name = file && /^\.\/dist\/(.+)\.js$/.exec(file)?.[1];
  if (!name) continue;
  input[name] = [`src/${name}.ts`, `src/${name}/index.ts`].find((f) => existsSync(f));
}
for (const bin of Object.values(pkg.forkexecEntries ?? {})) input[path.basename(bin, '.ts')] = bin;

const deps = [
  ...Object.keys(pkg.dependencies ?? {}),
  ...Object.keys(pkg.peerDependencies ?? {}),
  ...Object.keys(pkg.optionalDependencies ?? {}),
];
const external = (id) =>
  id.startsWith('node:') || builtinModules.includes(id) || deps.some((d) => id === d || id.startsWith(`${d}/`));

const plugins = [
  nodeResolve({ extensions: ['.ts', '.js'], preferBuiltins: true }),
  babel({ babelHelpers: 'bundled', extensions: ['.ts', '.js'], configFile: path.join(root, 'babel.config.cjs') }),
];

// The ESM entry (dist/NAME.js) of each export re-exports the CommonJS build (dist/NAME.cjs) by name: a process
// then holds one copy of a package whichever way the program, core and the backends load it, so errors stay
// `instanceof` the same classes and registries, caches and helper pools are not doubled (Node's recommended
// wrapper against the dual package hazard).
const esmWrappers = {
  name: 'esm-wrappers',
  generateBundle(_options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk' || !chunk.isEntry) continue;
      const named = chunk.exports.filter((name) => name !== 'default');
      const lines = [`import cjs from './${path.posix.basename(chunk.fileName)}';`];
      if (named.length > 0) lines.push(`export const { ${named.join(', ')} } = cjs;`);
      if (chunk.exports.includes('default')) lines.push('export default cjs.default;');
      this.emitFile({
        type: 'asset',
        fileName: chunk.fileName.replace(/\.cjs$/, '.js'),
        source: `${lines.join('\n')}\n`,
      });
    }
  },
};

export default {
  input,
  external,
  plugins,
  output: {
    dir: 'dist',
    format: 'cjs',
    entryFileNames: '[name].cjs',
    chunkFileNames: 'chunks/[name]-[hash].cjs',
    sourcemap: true,
    exports: 'named',
    plugins: [esmWrappers],
  },
};
