import { transformSync } from '@babel/core';
import { SourceMapConsumer, type RawSourceMap } from 'source-map';
import forkexecBabelPlugin from '../src/babel-plugin.js';
import type { ForkSite } from '../src/model.js';

const SOURCE = `import { fork, execvp } from '@forkexec/core/posix';

function start() {
  const pid = fork();
  if (pid === 0) {
    execvp('ls', ['ls']);
  }
  return pid;
}
export const wrap = () => fork();
`;

test('source map from fork_before_exec back to the fork() line; sites to onSites and the metadata', () => {
  const seen: [ForkSite[], string][] = [];
  const result = transformSync(SOURCE, {
    filename: '/src/start.js',
    configFile: false,
    babelrc: false,
    sourceMaps: true,
    plugins: [[forkexecBabelPlugin, { onSites: (sites: ForkSite[], file: string) => seen.push([sites, file]) }]],
  })!;
  const lines = result.code!.split('\n');
  const line = lines.findIndex((l) => l.includes('fork_before_exec(')) + 1;
  const original = new SourceMapConsumer(result.map as unknown as RawSourceMap).originalPositionFor({
    line,
    column: lines[line - 1].indexOf('fork_before_exec('),
  });
  expect(original).toMatchObject({ source: 'start.js', line: 4 });

  expect(seen).toHaveLength(1);
  expect(seen[0][1]).toBe('/src/start.js');
  expect(seen[0][0].map((s) => [s.line, s.class, Boolean(s.converted)])).toEqual([
    [4, 'fork+exec', true],
    [10, 'wrapper', false],
  ]);
  expect((result.metadata as unknown as { forkexec: { sites: ForkSite[] } }).forkexec.sites).toEqual(seen[0][0]);
});

test('a site left unconverted is a warning, or with failOnUnconverted an error at its line', () => {
  const warnings: string[] = [];
  const transform = (options: object) =>
    transformSync(SOURCE, {
      filename: '/src/start.js',
      configFile: false,
      babelrc: false,
      highlightCode: false, // no colours in the code frame, also where CI=true makes Babel colour it
      plugins: [[forkexecBabelPlugin, options]],
    });
  transform({ warn: (message: string) => warnings.push(message) });
  expect(warnings).toEqual([
    "forkexec: fork() not rewritten: /src/start.js:10:27 wrapper: fork()'s result is returned: the child continues in the caller",
  ]);
  expect(() => transform({ failOnUnconverted: true })).toThrow(
    /fork\(\) not rewritten: .*start\.js:10:27 wrapper[\s\S]*> 10 \| export const wrap/,
  );
  expect(() => transform({ warn: false })).not.toThrow();
});

test('a rewritten site whose actions only some backends carry out (umask) is a warning naming them', () => {
  const source = `import { fork, execvp, umask } from '@forkexec/core/posix';

export function start() {
  const pid = fork();
  if (pid === 0) {
    umask(0o077);
    execvp('ls', ['ls']);
  }
  return pid;
}
`;
  const warnings: string[] = [];
  const result = transformSync(source, {
    filename: '/src/umask.js',
    configFile: false,
    babelrc: false,
    plugins: [[forkexecBabelPlugin, { warn: (message: string) => warnings.push(message), failOnUnconverted: true }]],
  })!;
  expect(result.code).toContain('fork_before_exec(');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(
    /^forkexec: fork\(\) rewritten, but \/src\/umask\.js:4:15: umask runs only on helper-exe: the other backends refuse it \(FORKEXEC_UNSUPPORTED_ACTION\)/,
  );
});
