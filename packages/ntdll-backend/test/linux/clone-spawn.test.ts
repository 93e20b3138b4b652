// The clone path (x86-64 Linux, dist/linux-x64/libfxclone.so): the child sets itself up and execs
// after spawn returned, in the parent's memory. Real processes; each failure must come back typed,
// with the exact action, and nothing may leak.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  constants as fsConstants,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, type Action, type SpawnRequest } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { createBackend } from '../../src/index.js';
import { cloneLibraryPath } from '../../src/linux/clone-spawn.js';

const backend = createBackend({ spawner: 'clone' });
const hasClone = cloneLibraryPath() !== undefined;
const describeClone = hasClone ? describe : describe.skip;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ntdll-clone-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = () => readdirSync('/proc/self/fd').length;
/** Children of this process that exited and were not reaped. */
const zombies = () =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const [, state, ppid] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return state === 'Z' && Number(ppid) === process.pid;
      } catch {
        return false; // gone meanwhile
      }
    });
const run = (args: string[], options: Parameters<typeof forkBeforeExec>[2] = {}) =>
  forkBeforeExec(probePath(), args, { backend, ...options });
const request = (args: string[], extra: Partial<SpawnRequest> = {}): SpawnRequest => ({
  file: probePath(),
  argv: ['fxprobe', ...args],
  env: {},
  actions: [],
  stdio: ['ignore', 'pipe', 'ignore'],
  command: `fxprobe ${args.join(' ')}`,
  ...extra,
});

describe(`ntdll's spawner${hasClone ? '' : ' [clone path skipped: not x86-64 Linux, or libfxclone.so not built]'}`, () => {
  it('is clone where the library is, and says so in its capabilities and probe', () => {
    expect(backend.capabilities).toMatchObject({ pidBeforeExec: hasClone, deferredPid: !hasClone });
    const probe = backend.probe();
    expect(probe.ok && probe.detail).toMatch(hasClone ? /clone\(CLONE_VM\)/ : /posix_spawn/);
    expect(createBackend({ spawner: 'posix_spawn' }).capabilities).toMatchObject({
      pidBeforeExec: false,
      deferredPid: true,
    });
    expect(() => createBackend({ spawner: 'fork' as 'clone' })).toThrow(/spawner must be/);
  });

  const dist = path.resolve(__dirname, '../../dist');
  (existsSync(path.join(dist, 'index.cjs')) ? it : it.skip)(
    'without its library (another architecture, a package built without a compiler) it keeps posix_spawn',
    () => {
      // A copy of the built package without dist/linux-x64/, inside this one so that its dependencies resolve.
      const copy = mkdtempSync(path.join(__dirname, '../../.no-clone-'));
      try {
        cpSync(dist, path.join(copy, 'dist'), { recursive: true, filter: (from) => !from.includes('linux-x64') });
        writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ name: '@forkexec/ntdll-backend' }));
        const script = `
          const { backend } = require(${JSON.stringify(path.join(copy, 'dist', 'index.cjs'))});
          const { forkBeforeExec } = require('@forkexec/core');
          forkBeforeExec(${JSON.stringify(probePath())}, ['echo', 'ran'], { backend }).then((r) =>
            console.log(JSON.stringify({ caps: backend.capabilities, detail: backend.probe().detail, out: r.stdout })));`;
        const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: copy, encoding: 'utf8' }));
        expect(out).toMatchObject({
          caps: { pidBeforeExec: false, deferredPid: true },
          detail: expect.stringMatching(/^posix_spawn/),
          out: 'ran',
        });
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    },
  );
});

describeClone('ntdll clone path', () => {
  it('returns the pid at once; the child execs with its argv, env, cwd and stdio', async () => {
    const child = run(['argv'], { stdout: 'pipe', argv0: 'zeroth' });
    expect(child.pid).toBeGreaterThan(0);
    expect((await child).stdout).toBe(`zeroth\nargv`);
    const env = await run(['env', 'ONLY', 'cwd'], { env: { ONLY: 'this' }, extendEnv: false, cwd: dir });
    expect(env.stdout).toBe(`this\n${dir}`);
  });

  it('a missing program rejects `exited` and `started` with ENOENT and no action', async () => {
    const child = backend.spawn({ ...request([]), file: path.join(dir, 'missing'), argv: ['missing'] });
    expect(child.pid).toBeGreaterThan(0);
    await expect(child.exited).rejects.toMatchObject({
      name: 'SpawnError',
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOENT',
      actionIndex: undefined,
    });
    await expect(child.started).rejects.toMatchObject({ errno: 'ENOENT' }); // first read after the reap
    const running = backend.spawn(request(['sleep', '200', 'echo', 'done']));
    const started = running.started; // read while the child runs: resolves once it exec'd, before its exit
    let exitedYet = false;
    void running.exited.then(() => (exitedYet = true));
    expect(await started).toBe(running.pid);
    expect(exitedYet).toBe(false);
    await running.exited;
    await expect(forkBeforeExec('forkexec-no-such-program', [], { backend })).rejects.toMatchObject({
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOENT',
    });
  });

  it('each failing action is reported with its errno and exact index', async () => {
    const missing = path.join(dir, 'no-dir', 'x');
    const file = path.join(dir, 'a-file');
    closeSync(openSync(file, 'w'));
    const cases: { actions: Action[]; errno: string; actionIndex: number }[] = [
      {
        actions: [
          { op: 'chdir', path: '/' },
          { op: 'open', fd: 4, path: missing, flags: 'r' },
        ],
        errno: 'ENOENT',
        actionIndex: 1,
      },
      { actions: [{ op: 'chdir', path: file }], errno: 'ENOTDIR', actionIndex: 0 },
      { actions: [{ op: 'open', fd: 5, path: file, flags: 'wx' }], errno: 'EEXIST', actionIndex: 0 },
      // Not the open before it, which would fail the same way in the parent: blame-action's guess would name it.
      {
        actions: [
          { op: 'close', fd: 0 },
          { op: 'chdir', path: dir },
          { op: 'dup2', from: 0, to: 7 },
        ],
        errno: 'EBADF',
        actionIndex: 2,
      },
      { actions: [{ op: 'dup2', from: 1, to: 1_000_000 }], errno: 'EBADF', actionIndex: 0 },
      {
        actions: [
          { op: 'closefrom', fd: 3 },
          { op: 'setpgid', pgid: 1 },
        ],
        errno: 'EPERM',
        actionIndex: 1,
      },
    ];
    for (const { actions, errno, actionIndex } of cases) {
      const child = backend.spawn(request(['echo', 'never'], { actions }));
      expect(child.pid).toBeGreaterThan(0);
      await expect(child.exited).rejects.toMatchObject({ code: 'FORKEXEC_SPAWN', errno, actionIndex });
      // Through core too (which may refuse some of them before spawning): the same error.
      await expect(run(['echo', 'never'], { actions })).rejects.toMatchObject({ errno, actionIndex });
    }
  });

  it('a signal sent while the child sets itself up is delivered once it unblocks signals, before exec', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // The child blocks in its open action (a FIFO with no writer) with every signal blocked.
    const child = backend.spawn(request(['echo', 'ran'], { actions: [{ op: 'open', fd: 0, path: fifo, flags: 0 }] }));
    expect(child.kill('SIGTERM')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync('/proc').includes(String(child.pid))).toBe(true); // still in setup
    const writer = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK); // lets the open return
    closeSync(writer);
    expect(await child.exited).toEqual({ exitCode: null, signal: 'SIGTERM' });

    const stuck = backend.spawn(request(['echo', 'ran'], { actions: [{ op: 'open', fd: 0, path: fifo, flags: 0 }] }));
    stuck.kill('SIGKILL'); // cannot be blocked: ends the child inside its setup
    expect(await stuck.exited).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });

  it('children see their own request while the parent keeps allocating and rewriting memory', async () => {
    let churn = true;
    const garbage: Buffer[] = [];
    const mutate = async () => {
      while (churn) {
        for (let i = 0; i < 50; i++) garbage[i % 20] = Buffer.alloc(4096 + i, i); // new and freed memory, rewritten
        garbage[20] = Buffer.from(Object.keys(process.env).join()); // environ read while children read their copy of it
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const mutating = mutate();
    const outputs = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const value = `value-${i}-${'v'.repeat(i * 37)}`;
        const result = await run(['echo', `arg-${i}`, 'env', 'VALUE'], { env: { VALUE: value }, stdout: 'pipe' });
        return result.stdout === `arg-${i}\n${value}`;
      }),
    );
    churn = false;
    await mutating;
    expect(outputs.every(Boolean)).toBe(true);
  });

  it('a slot reused for a shorter request carries nothing of the longer one before it', async () => {
    // One at a time, so each child takes the slot (and its request blob) the one before gave back.
    const words = Array.from({ length: 40 }, (_, i) => `long-argument-${i}-${'x'.repeat(i * 13)}`);
    const long = await run(
      words.flatMap((word) => ['echo', word]),
      { env: { BIG: 'b'.repeat(3000) }, stdout: 'pipe' },
    );
    expect(long.stdout).toBe(words.join('\n'));
    expect((await run(['echo', 'short'], { stdout: 'pipe' })).stdout).toBe('short');
    const masked = await run(['sigs'], { actions: [{ op: 'sigmask', signals: ['SIGSYS', 'SIGUSR2'] }] });
    expect(masked.stdout).toBe('blocked=12,31 ignored=');
    expect((await run(['sigs'])).stdout).toBe('blocked= ignored='); // the mask is gone from the next request
    expect((await run(['env', 'BIG'], { env: { OTHER: '1' }, stdout: 'pipe' })).stdout).toBe('<unset>');
  });

  const built = path.resolve(__dirname, '../../dist/index.js');
  (existsSync(built) ? it : it.skip)(
    'a slot serving the same command again spawns its blob as it is; any difference is written anew',
    () => {
      // One at a time, the parent's environment (a plain Node process: Jest's process.env is not
      // libc's, and takes the other path), no actions: each child takes the slot (and its blob) the
      // one before gave back, which serves again unwritten when program, argv and stdio are the same.
      const script = `
        const { forkBeforeExec } = await import(${JSON.stringify(path.resolve(__dirname, '../../../core/dist/index.js'))});
        const { createBackend } = await import(${JSON.stringify(built)});
        const backend = createBackend({ spawner: 'clone' });
        const probe = ${JSON.stringify(probePath())};
        const run = (file, args, options) => forkBeforeExec(file, args, { backend, reject: false, argv0: 'probe', stdio: 'ignore', ...options });
        const results = [];
        for (const code of [3, 3, 4, 4, 3, 3]) results.push((await run(probe, ['exit', String(code)])).exitCode);
        results.push((await run('/bin/false', ['exit', '3'])).exitCode); // the same argv, another program
        results.push((await run(probe, ['exit', '3'])).exitCode);
        for (const argv0 of ['first', 'second']) results.push((await run(probe, ['argv'], { stdout: 'pipe', argv0 })).stdout);
        results.push((await run(probe, ['echo', 'hidden'])).stdout); // stdio ignored
        for (let i = 0; i < 2; i++) results.push((await run(probe, ['echo', 'hidden'], { stdout: 'pipe' })).stdout);
        console.log(JSON.stringify(results));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      expect(JSON.parse(out)).toEqual([3, 3, 4, 4, 3, 3, 1, 3, 'first\nargv', 'second\nargv', '', 'hidden', 'hidden']);
    },
  );

  it('64 in flight, failures among them: every result right, no fd or zombie left', async () => {
    const fdsBefore = openFds();
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        i % 8 === 7
          ? run(['echo', 'never'], { actions: [{ op: 'chdir', path: path.join(dir, 'missing') }] }).then(
              () => 'ran',
              (error: { errno?: string; actionIndex?: number }) => `${error.errno}@${error.actionIndex}`,
            )
          : run(['echo', `child-${i}`], { stdout: 'pipe', stderr: 'pipe', stdin: 'pipe' }).then((r) => r.stdout),
      ),
    );
    expect(results).toEqual(Array.from({ length: 64 }, (_, i) => (i % 8 === 7 ? 'ENOENT@0' : `child-${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 20)); // destroyed streams close their fds on a later tick
    expect(openFds()).toBe(fdsBefore);
    expect(zombies()).toEqual([]);
  });

  it('the child starts with default dispositions and the requested mask, whatever the parent ignores or blocks', async () => {
    const { stdout } = await run(['sigs']);
    expect(stdout).toBe('blocked= ignored='); // Node ignores SIGPIPE and SIGXFSZ; the child must not
    const masked = await run(['sigs'], { actions: [{ op: 'sigmask', signals: ['SIGUSR1', 'SIGTERM'] }] });
    expect(masked.stdout).toBe('blocked=10,15 ignored=');
  });
});
