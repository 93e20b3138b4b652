// The C fork_before_exec (native/libforkexec.c), compiled with the system compiler and driven
// case by case: each case starts the conformance probe and checks what the child saw.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publicProbeCopy } from '@forkexec/core/testing';

const native = path.join(__dirname, '..', 'native');
let dir = '';
let binary = '';
let probe = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-libtest-'));
  probe = publicProbeCopy(dir); // the credentials case runs it as nobody
  binary = path.join(dir, 'libforkexec-test');
  // The contract's build line: cc -std=c99 -I native prog.c native/libforkexec.c native/action-core.c
  execFileSync(process.env.CC || 'cc', [
    '-std=c99',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-O2',
    `-I${native}`,
    '-o',
    binary,
    path.join(__dirname, 'native', 'libforkexec-test.c'),
    path.join(native, 'libforkexec.c'),
    path.join(native, 'action-core.c'),
  ]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases = [
  'plain',
  'null-actions',
  'dup2',
  'dup2-self-as-posix',
  'close',
  'close-checked',
  'open',
  'chdir',
  'fchdir',
  'setsid',
  'setpgid',
  'umask',
  'signals',
  'sigprocmask-from-caller',
  'next-fd',
  'closefrom',
  'close-range',
  'credentials',
  'credentials-re',
  'setctty',
  'setctty-after-failed-start',
  'setfd',
  'fflush',
  'fclose',
  'foreground',
  'sigaction',
  'setrlimit',
  'nice',
  'env',
  'search-path',
  'search-environ-path',
  'execl-list',
  'order',
  // exec and action failures: -1 with errno, the failed child reaped, or the exit_on_failure status
  'null-envp-is-empty',
  'sticky-error',
  'errno-kept',
  'slow-path',
  'enoent',
  'eacces',
  'action-failure',
  'report-survives-actions',
  'exit-on-failure-127',
  'exit-on-failure-126',
  'bad-arguments',
  'many',
];

describe('C fork_before_exec', () => {
  it.each(cases)('%s', (name) => {
    const scratch = mkdtempSync(path.join(dir, `${name}-`));
    const run = spawnSync(binary, [probe, scratch, name], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect([`ok ${name}`, 'skip: needs root']).toContain(run.stdout.trim());
  });

  it('forkexec.h compiles as C++ and links the C runtime (the C codemod converts .cc files too)', () => {
    // the runtime compiled as C, the caller as C++ (pedantic, as strict projects build): linkage through extern "C"
    const objects = ['libforkexec.c', 'action-core.c'].map((file) => {
      const object = path.join(dir, `${file}.o`);
      execFileSync(process.env.CC || 'cc', [
        '-std=c99',
        '-O2',
        `-I${native}`,
        '-c',
        '-o',
        object,
        path.join(native, file),
      ]);
      return object;
    });
    const cpp = path.join(dir, 'cpp-header-test');
    execFileSync(process.env.CXX || 'g++', [
      '-std=c++11',
      '-Wall',
      '-Wextra',
      '-Werror',
      '-pedantic',
      `-I${native}`,
      '-o',
      cpp,
      path.join(__dirname, 'native', 'cpp-header-test.cc'),
      ...objects,
    ]);
    const run = spawnSync(cpp, [probe], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('ok');
    expect(run.status).toBe(0);
  });

  it('rejects an unknown case, so a typo cannot pass', () => {
    expect(spawnSync(binary, [probe, dir, 'no-such-case']).status).toBe(2);
  });
});
