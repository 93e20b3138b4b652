/**
 * The converted fixtures, run for real through @forkexec/core with the default backend: what
 * the POSIX-style original intends (stdout where dup2 sent it, cwd, env, exit status) happens.
 */
import { transformSync } from '@babel/core';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import forkexecBabelPlugin from '../src/babel-plugin.js';
import { jsFrontend } from '../src/frontends/js/index.js';
import { loadFixtures } from './fixtures.js';
import { runNode, sandbox, type Ran } from './run-program.js';

const fixtures = new Map(loadFixtures().map((f) => [f.name, f]));

let box: ReturnType<typeof sandbox>;
beforeAll(() => {
  box = sandbox();
});
afterAll(() => box.cleanup());

type Way = 'recast' | 'babel';

/** The fixture converted one way or the other, then run with `args`. */
function run(name: string, way: Way, args: string[] = [], env: NodeJS.ProcessEnv = {}): Ran {
  const fixture = fixtures.get(name)!;
  const file = path.basename(fixture.inputFile).replace('input', `${name}-${way}`);
  const code =
    way === 'recast'
      ? jsFrontend.transform(fixture.input, file).code
      : transformSync(fixture.input, {
          filename: file,
          configFile: false,
          babelrc: false,
          plugins: [forkexecBabelPlugin],
        })!.code!;
  return runNode(box.dir, file, code, args, env);
}

const out = (name: string) => path.join(box.dir, name);

describe.each<Way>(['recast', 'babel'])('converted by %s', (way) => {
  test('open + dup2 onto 1 and 2: both streams land in the file, with its mode', () => {
    const file = out(`dup2-${way}.txt`);
    const ran = run('if-strict-equal-open-dup2', way, [file]);
    expect(ran).toEqual({ code: 0, stdout: 'exit 0\n', stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe('to-stdout\nto-stderr\n');
    expect(statSync(file).mode & 0o777).toBe(0o644 & ~process.umask());
  });

  test('chdir: the child runs in the directory', () => {
    const ran = run('if-not-pid-chdir', way, ['/usr']);
    expect(ran).toEqual({ code: 0, stdout: `${realpathSync('/usr')}\n`, stderr: '' });
  });

  test('execve: the child gets exactly the given environment', () => {
    const ran = run('if-loose-else-execve', way, ['world'], { HOME: '/somewhere' });
    expect(ran).toEqual({ code: 0, stdout: 'hello world, HOME=unset\nchild exited with 0\n', stderr: '' });
  });

  test('switch: the parent sees the exit status of the program', () => {
    expect(run('switch-case-zero', way, ['7'])).toEqual({ code: 0, stdout: 'status 7\n', stderr: '' });
  });

  test('assignment in the test, open onto stdout with a mode', () => {
    const file = out(`open-${way}.txt`);
    expect(run('assign-in-test-open', way, [file])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(file, 'utf8')).toBe('opened\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('execv does not search PATH: fork_before_exec fails with ENOENT', () => {
    const ran = run('execv-no-path-search', way);
    expect(ran.code).toBe(1);
    expect(ran.stdout).toBe('');
    expect(ran.stderr).toMatch(/code: 'FORKEXEC_SPAWN'/);
    expect(ran.stderr).toMatch(/errno: 'ENOENT'/);
  });

  test('umask and setpgid: the default backend refuses them with a typed error, never drops them', () => {
    const ran = run('unsupported-umask-setpgid', way);
    expect(ran.code).toBe(1);
    // the default here is ntdll: core's optional dependency, found beside core whatever folder the script is in
    expect(ran.stderr).toMatch(/UnsupportedActionError: actions\[0\]: the ntdll backend cannot carry out umask/);
  });

  test('parent returns first: env assignment and delete reach the child, stderr goes where dup2 sent it', () => {
    const ran = run('parent-returns-env', way, [], { HOME: '/somewhere', NAME: 'other' });
    expect(ran).toEqual({ code: 0, stdout: 'hi ada, HOME=unset\ngreet exited 3\n', stderr: '' });
  });

  test('CommonJS namespace require: chdir, exit status', () => {
    expect(run('require-namespace', way)).toEqual({ code: 0, stdout: '/\nexit 5\n', stderr: '' });
  });

  test('else-if chain: setsid gives the child its own session', () => {
    expect(run('else-if-chain', way)).toEqual({ code: 0, stdout: 'own-session\n', stderr: '' });
  });

  test('execle and execvpe: environment given, PATH searched only by execvpe; process.chdir', () => {
    const ran = run('exec-variants', way, ['/usr'], { MODE: 'inherited' });
    expect(ran).toEqual({ code: 0, stdout: `le: ${realpathSync('/usr')} execle\nvpe: execvpe\n`, stderr: '' });
  });

  test('reversed comparisons and a separate error test: dup2 sends stderr to stdout', () => {
    expect(run('reversed-tests', way)).toEqual({ code: 0, stdout: 'reversed\nexit 0\n', stderr: '' });
  });

  test('renamed imports', () => {
    expect(run('renamed-import', way)).toEqual({ code: 0, stdout: 'renamed\n', stderr: '' });
  });
});

test('unconverted, the same program stops at fork() with FORKEXEC_NOT_TRANSFORMED', () => {
  const fixture = fixtures.get('switch-case-zero')!;
  const ran = runNode(box.dir, 'unconverted.mjs', fixture.input, ['7']);
  expect(ran.code).not.toBe(0);
  expect(ran.stderr).toMatch(/fork\(\) cannot run inside Node/);
  expect(ran.stderr).toMatch(/FORKEXEC_NOT_TRANSFORMED/);
});
