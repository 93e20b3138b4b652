import forkexec from '@forkexec/codemod/rollup';

export default {
  input: 'src/main.js',
  external: (id) => id.startsWith('node:') || id.startsWith('@forkexec/core'),
  // Every fork() must become fork_before_exec(): a site left as it is fails the build.
  plugins: [forkexec({ failOnUnconverted: true })],
  output: { file: 'out/main.js', format: 'es', sourcemap: true },
};
