import { rollup, type RollupLog } from 'rollup';
import { SourceMapConsumer, type RawSourceMap } from 'source-map';
import forkexec from '../src/rollup.js';

const JOB = `import { fork, execvp, dup2, _exit } from '@forkexec/core/posix';

export function run() {
  const pid = fork();
  if (pid === 0) {
    dup2(2, 1);
    execvp('ls', ['ls']);
    _exit(127);
  }
  return pid;
}
`;
const WRAPPER = `import { fork } from '@forkexec/core/posix';
export const wrap = () => fork();
`;

/** A virtual module graph: `main.js` imports the others. */
function virtual(modules: Record<string, string>) {
  return {
    name: 'virtual',
    resolveId: (id: string) => (id.startsWith('/v/') ? id : id.startsWith('./') ? `/v/${id.slice(2)}` : null),
    load: (id: string) => modules[id.replace('/v/', '')] ?? null,
  };
}

async function build(modules: Record<string, string>, options: Parameters<typeof forkexec>[0] = {}) {
  const warnings: RollupLog[] = [];
  const bundle = await rollup({
    input: '/v/main.js',
    external: (id) => id.startsWith('@forkexec/core'),
    plugins: [virtual(modules), forkexec(options)],
    onwarn: (warning) => warnings.push(warning),
  });
  const { output } = await bundle.generate({ format: 'es', sourcemap: true });
  await bundle.close();
  return { chunk: output[0], warnings };
}

test('rewrites while bundling, with a source map back to the original fork() line', async () => {
  const { chunk, warnings } = await build({ 'main.js': "export { run } from './job.js';\n", 'job.js': JOB });
  expect(warnings).toEqual([]);
  expect(chunk.code).toContain("const pid = fork_before_exec('ls', ['ls'], [dup2(2, 1)]);");
  expect(chunk.code).not.toMatch(/\bfork\(\)/);
  const lines = chunk.code.split('\n');
  const line = lines.findIndex((l) => l.includes('fork_before_exec(')) + 1;
  const column = lines[line - 1].indexOf('fork_before_exec(');
  const consumer = new SourceMapConsumer(chunk.map as unknown as RawSourceMap);
  const original = consumer.originalPositionFor({ line, column });
  expect(original.source).toMatch(/job\.js$/);
  expect(original.line).toBe(4); // `const pid = fork();`
});

test('an unconverted site is a warning at file:line, or an error with failOnUnconverted', async () => {
  const modules = { 'main.js': "export { wrap } from './wrapper.js';\n", 'wrapper.js': WRAPPER };
  const { warnings } = await build(modules);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ plugin: 'forkexec-codemod', id: '/v/wrapper.js', loc: { line: 2, column: 26 } });
  expect(warnings[0].message).toMatch(
    /fork\(\) not rewritten: \/v\/wrapper\.js:2:27 wrapper: fork\(\)'s result is returned/,
  );
  await expect(build(modules, { failOnUnconverted: true })).rejects.toThrow(/wrapper\.js:2:27 wrapper/);
});

test('a syntax error names the file and line', async () => {
  await expect(build({ 'main.js': 'import { fork } from "@forkexec/core/posix";\nfork(;\n' })).rejects.toMatchObject({
    plugin: 'forkexec-codemod',
    loc: { line: 2, column: 5 },
  });
});

test('modules outside the filter and files without fork are left alone', async () => {
  const { chunk } = await build(
    { 'main.js': "export { run } from './job.js';\n", 'job.js': JOB },
    { include: (id) => !id.endsWith('job.js') },
  );
  expect(chunk.code).toContain('const pid = fork();');
});
