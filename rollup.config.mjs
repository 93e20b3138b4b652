// Shared Rollup config: run from a package folder. Bundles each entry of the package's
// "exports" map (./dist/NAME.js ← src/NAME.ts or src/NAME/index.ts) as ESM and CJS with Babel.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { babel } from '@rollup/plugin-babel';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const root = path.dirname(new URL(import.meta.url).pathname);
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const input = {};
for (const target of Object.values(pkg.exports ?? {})) {
  const file = typeof target === 'object' ? target.import : undefined;
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

export default {
  input,
  external,
  plugins,
  output: [
    {
      dir: 'dist',
      format: 'es',
      entryFileNames: '[name].js',
      chunkFileNames: 'chunks/[name]-[hash].js',
      sourcemap: true,
    },
    {
      dir: 'dist',
      format: 'cjs',
      entryFileNames: '[name].cjs',
      chunkFileNames: 'chunks/[name]-[hash].cjs',
      sourcemap: true,
      exports: 'named',
    },
  ],
};
