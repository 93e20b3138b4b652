import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jsFrontend } from '../src/frontends/js/index.js';
import { runCodemod, type RunOptions } from '../src/runner.js';

const CONVERTS = `import { fork, execvp, dup2, _exit } from '@forkexec/core/posix';

const pid = fork(); // start ls
if (pid === 0) {
  dup2(2, 1);
  execvp('ls', ['ls']);
  _exit(127);
}
`;
const WRAPPER = `import { fork } from '@forkexec/core/posix';

export function myFork() {
  return fork();
}
`;

let dir: string;
const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  writeFileSync(path.join(dir, file), text);
};
const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-runner-'));
  write('.gitignore', 'generated/\n');
  write('src/convert.mjs', CONVERTS);
  write('src/nested/wrapper.ts', WRAPPER);
  write('src/plain.js', 'export const fork = 1;\n');
  write('src/types.d.ts', 'export declare function fork(): number;\n');
  write('generated/ignored.mjs', CONVERTS);
  write('node_modules/dep/index.js', CONVERTS);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(options: RunOptions) {
  let stdout = '';
  let stderr = '';
  const report = await runCodemod({ cwd: dir, ...options, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { report, stdout, stderr };
}

test('rewrites in place, skips .gitignore d files and node_modules, reports each site', async () => {
  chmodSync(path.join(dir, 'src/convert.mjs'), 0o750);
  const { report, stdout } = await run({});
  expect(report.exitCode).toBe(0);
  expect(report.files.map((f) => [f.file, f.status])).toEqual([
    ['src/convert.mjs', 'converted'],
    ['src/nested/wrapper.ts', 'skipped'],
    ['src/plain.js', 'unchanged'],
  ]);
  expect(read('src/convert.mjs')).toBe(jsFrontend.transform(CONVERTS, 'src/convert.mjs').code);
  expect(read('src/convert.mjs')).toContain("const pid = fork_before_exec('ls', ['ls'], [dup2(2, 1)]); // start ls");
  expect(read('generated/ignored.mjs')).toBe(CONVERTS);
  expect(read('node_modules/dep/index.js')).toBe(CONVERTS);
  // Atomic write: the mode is kept and no temporary file is left behind.
  expect(statSync(path.join(dir, 'src/convert.mjs')).mode & 0o777).toBe(0o750);
  expect(readdirSync(path.join(dir, 'src'))).toEqual(['convert.mjs', 'nested', 'plain.js', 'types.d.ts']);
  expect(stdout).toBe(
    [
      'converted  src/convert.mjs (1 site)',
      "skipped    src/nested/wrapper.ts:4:10 wrapper: fork()'s result is returned: the child continues in the caller",
      '3 files: 1 converted, 1 unchanged, 1 skipped, 0 errors; 1 fork site converted, 1 left',
      '',
    ].join('\n'),
  );

  const again = await run({});
  expect(again.report.totals).toMatchObject({ converted: 0, sitesConverted: 0, sitesUnconverted: 1 });
  expect(read('src/convert.mjs')).toBe(jsFrontend.transform(CONVERTS, 'src/convert.mjs').code);
});

test('--dry writes nothing and prints a unified diff that patch(1) applies', async () => {
  const { report, stdout, stderr } = await run({ dry: true });
  expect(report.exitCode).toBe(0);
  expect(read('src/convert.mjs')).toBe(CONVERTS);
  expect(stdout.startsWith('--- a/src/convert.mjs\n+++ b/src/convert.mjs\n@@ -1,8 +1,3 @@\n')).toBe(true);
  expect(stdout).toContain('-const pid = fork(); // start ls\n');
  expect(stderr).toContain('1 would be converted');
  expect(stderr).toContain('would convert src/convert.mjs (1 site)');
  expect(stderr).not.toMatch(/^converted/m);
  execFileSync('patch', ['-p1', '--quiet'], { cwd: dir, input: stdout });
  expect(read('src/convert.mjs')).toBe(jsFrontend.transform(CONVERTS, 'src/convert.mjs').code);
});

test('--json reports files, sites and totals', async () => {
  const { report, stdout } = await run({ json: true, dry: true });
  const parsed = JSON.parse(stdout);
  expect(parsed).toEqual(JSON.parse(JSON.stringify(report)));
  expect(parsed.totals).toEqual({
    files: 3,
    converted: 1,
    unchanged: 1,
    skipped: 1,
    errors: 0,
    sitesConverted: 1,
    sitesUnconverted: 1,
  });
  expect(parsed.files[0].sites[0]).toMatchObject({
    file: 'src/convert.mjs',
    line: 3,
    class: 'fork+exec',
    converted: true,
    exec: 'execvp',
    operations: ['dup2', 'execvp', 'exit'],
  });
  expect(parsed.files[0].diff).toContain('+const pid = fork_before_exec');
  expect(parsed.files[1].sites[0]).toMatchObject({
    class: 'wrapper',
    convertible: false,
    reason: expect.stringMatching(/returned/),
  });
});

test('--fail-on-unconverted exits 1 when a site is left', async () => {
  expect((await run({ failOnUnconverted: true, dry: true })).report.exitCode).toBe(1);
  expect((await run({ failOnUnconverted: true, dry: true, paths: ['src/convert.mjs'] })).report.exitCode).toBe(0);
});

test('a syntax error is reported at file:line, exit 2, and the other files are still converted', async () => {
  write('src/broken.ts', 'import { fork } from "@forkexec/core/posix";\nconst pid = fork(;\n');
  const { report, stdout, stderr } = await run({});
  expect(report.exitCode).toBe(2);
  expect(report.files.find((f) => f.file === 'src/broken.ts')).toMatchObject({
    status: 'error',
    error: { line: 2, column: 18 },
  });
  expect(stderr).toMatch(/^error {6}src\/broken\.ts:2:18: Unexpected token$/m);
  expect(stdout).not.toMatch(/^error/m);
  expect(read('src/convert.mjs')).toContain('fork_before_exec');
});

test('paths: files, folders and globs; a path that names nothing is a usage error (exit 2)', async () => {
  const globbed = await run({ dry: true, paths: ['src/**/*.ts'] });
  expect(globbed.report.files.map((f) => f.file)).toEqual(['src/nested/wrapper.ts']);
  const folder = await run({ dry: true, paths: ['src/nested'] });
  expect(folder.report.files.map((f) => f.file)).toEqual(['src/nested/wrapper.ts']);
  // Named explicitly, an ignored file is processed.
  const named = await run({ dry: true, paths: ['generated/ignored.mjs'] });
  expect(named.report.files.map((f) => [f.file, f.status])).toEqual([['generated/ignored.mjs', 'converted']]);
  const missing = await run({ paths: ['nope/', 'src/convert.mjs'] });
  expect(missing.report.exitCode).toBe(2);
  expect(missing.report.missing).toEqual(['nope/']);
  expect(missing.stderr).toContain('error      nope/: no such file, folder, or matching file');
  expect(missing.stdout).not.toContain('nope/');
  expect(read('src/convert.mjs')).toContain('fork_before_exec');
});

test('--module makes another module count', async () => {
  write('src/shim.mjs', CONVERTS.replace('@forkexec/core/posix', 'my-posix'));
  expect((await run({ dry: true, paths: ['src/shim.mjs'] })).report.files[0].status).toBe('unchanged');
  expect((await run({ dry: true, paths: ['src/shim.mjs'], modules: ['my-posix'] })).report.files[0].status).toBe(
    'converted',
  );
});

test('a C child calling a helper of another file of the project: the runner reads the project, the call is inlined', async () => {
  write('cproj/Makefile', 'all:\n');
  write('cproj/fds.c', '#include <unistd.h>\nvoid to_stdout(int fd)\n{\n\tdup2(fd, 1);\n\tclose(fd);\n}\n');
  const child = '\tif (pid == 0) {\n\t\tto_stdout(fd);\n\t\texecvp(argv[0], argv);\n\t\t_exit(127);\n\t}\n';
  const main = `#include <unistd.h>\nvoid to_stdout(int fd);\nint run(char **argv, int fd)\n{\n\tpid_t pid = fork();\n${child}\treturn pid;\n}\n`;
  write('cproj/main.c', main);
  const quiet = { stdout: () => {}, stderr: () => {} };
  // Named alone, the file knows nothing of fds.c: the call stays, with its reason.
  const alone = await runCodemod({ paths: ['cproj/main.c'], cwd: dir, dry: true, ...quiet });
  expect(alone.files[0].sites[0].reason).toMatch(/to_stdout\(\) in the child has no fork_before_exec action/);
  const report = await runCodemod({ paths: ['cproj'], cwd: dir, ...quiet });
  expect(report.files.find((f) => f.file.endsWith('main.c'))!.sites[0].converted).toBe(true);
  expect(read('cproj/main.c')).toContain('forkexec_dup2(fx, fd, 1);\n\t\tforkexec_close(fx, fd);');
  expect(read('cproj/main.c')).toContain(child);
});

test('a C helper of another file that reads its own static: one twin in its file for two callers, both files in the dry diff', async () => {
  write('cproj/Makefile', 'all:\n');
  const fds = '#include <unistd.h>\nstatic int keep;\nvoid to_stdout(int fd)\n{\n\tif (!keep)\n\t\tdup2(fd, 1);\n}\n';
  write('cproj/fds.c', fds);
  const site = (f: string) =>
    `int ${f}(char **argv, int fd)\n{\n\tpid_t pid = fork();\n\tif (pid == 0) {\n\t\tto_stdout(fd);\n\t\texecvp(argv[0], argv);\n\t\t_exit(127);\n\t}\n\treturn pid;\n}\n`;
  write('cproj/a.c', `#include <unistd.h>\nvoid to_stdout(int fd);\n${site('run_a')}`);
  write('cproj/b.c', `#include <unistd.h>\nvoid to_stdout(int fd);\n${site('run_b')}`);
  const quiet = { stdout: () => {}, stderr: () => {} };
  let stdout = '';
  const dry = await runCodemod({
    paths: ['cproj'],
    cwd: dir,
    dry: true,
    stdout: (t) => (stdout += t),
    stderr: () => {},
  });
  expect(read('cproj/fds.c')).toBe(fds); // dry: nothing written
  expect(dry.files.find((f) => f.file.endsWith('fds.c'))!.status).toBe('converted');
  expect(stdout).toContain('+++ b/cproj/fds.c');
  expect(stdout).toContain('+void to_stdout__forkexec_record(forkexec_actions *fx, int fd)');
  expect(stdout).toContain('+\t\tto_stdout__forkexec_record(fx, fd);');
  const report = await runCodemod({ paths: ['cproj'], cwd: dir, ...quiet });
  expect(report.totals.sitesConverted).toBe(2);
  const twinned = read('cproj/fds.c');
  expect(twinned.match(/to_stdout__forkexec_record\(/g)).toHaveLength(1);
  expect(twinned).toContain('#include "forkexec.h"');
  expect(twinned).toContain('\tif (!keep) {\n\t\tforkexec_dup2(fx, fd, 1);\n\t}');
  expect(read('cproj/a.c')).toContain('void to_stdout__forkexec_record(forkexec_actions *fx, int fd);');
  // a second run adds nothing
  await runCodemod({ paths: ['cproj'], cwd: dir, ...quiet });
  expect(read('cproj/fds.c')).toBe(twinned);
});
