// The pool and the helpers under stress and misbehaviour, on real processes: exhaustion, crashes
// mid-request, malformed replies, large requests, long runs, disposal and the parent's death.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { forkBeforeExec, loadBackend, type Result } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { createBackend, PROTOCOL_VERSION, type HelperExeBackend } from '../src/index.js';
import { helperBinary } from './support/helper-binary.js';
import { poolBackends, runProbe as run } from './support/pool-backends.js';
import { childPids, noNewChildren, openFds, processState, until } from './support/processes.js';
import { rejection } from './support/rejection.js';

const helper = helperBinary();
const dir = path.dirname(helper.path);
const fake = (mode: string) => path.join(dir, `fake-${mode}`);
const FAKE_MODES = {
  'garbage-hello': 1,
  'wrong-version': 2,
  'garbage-reply': 3,
  'crash-mid-request': 4,
  'truncated-reply': 5,
  'dies-when-warm': 6,
};

beforeAll(() => {
  helper.build();
  const cc = process.env.CC || 'cc';
  for (const [mode, n] of Object.entries(FAKE_MODES))
    execFileSync(cc, [
      '-std=c99',
      '-Wall',
      `-DFAKE_MODE=${n}`,
      `-DPROTOCOL=${PROTOCOL_VERSION}`,
      '-o',
      fake(mode),
      path.join(__dirname, 'native', 'fake-helper.c'),
    ]);
  execFileSync(cc, [
    '-std=c99',
    '-Wall',
    '-o',
    path.join(dir, 'helper-parent'),
    path.join(__dirname, 'native', 'helper-parent.c'),
  ]);
});

afterAll(() => helper.remove());

const make = poolBackends(() => helper.path);

/** Our children that are helpers of `backend` (not its zygote), apart from those in `except`. */
function helperPids(backend: HelperExeBackend, except: number[] = []): number[] {
  return childPids().filter((pid) => !except.includes(pid) && pid !== backend.stats().zygotePid);
}

describe('helper-exe pool', () => {
  it('starts nothing before the first spawn, then keeps min helpers warm', async () => {
    const children = childPids();
    const backend = make({ min: 2 });
    expect(backend.stats().warm).toBe(0);
    expect(childPids()).toEqual(children);
    expect((await run(backend, ['echo', 'first'])).stdout).toBe('first');
    await until(
      () => backend.stats().warm === 2,
      () => JSON.stringify(backend.stats()),
    );
    expect(backend.stats()).toMatchObject({ coldStarted: 1, overflowed: 0, warmTaken: 0 });
    const pid = run(backend, ['exit', '0']).pid;
    expect(backend.stats().warmTaken).toBe(1);
    expect(pid).toBeGreaterThan(0);
  });

  it("the pid is known before the exec and is the program's own pid", async () => {
    const backend = make();
    const child = run(backend, ['ids']);
    const pid = child.pid;
    expect((await child).stdout).toMatch(new RegExp(`^pid=${pid} ppid=${process.pid} `));
  });

  it("waiting helpers and the zygote keep the parent's scheduling policy: a request's wake-up is never held back", async () => {
    // SCHED_BATCH wake-ups never preempt: on a busy machine the helper waited whole ticks to run.
    const policy = (pid: number) => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]); // field 41: 0 SCHED_OTHER, 3 SCHED_BATCH
    };
    const children = childPids();
    const backend = make({ min: 2 });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 2,
      () => JSON.stringify(backend.stats()),
    );
    const parent = policy(process.pid);
    const waiting = [...helperPids(backend, children), backend.stats().zygotePid!];
    expect(waiting.length).toBeGreaterThanOrEqual(3);
    expect(waiting.map(policy)).toEqual(waiting.map(() => parent));
  });

  it("a warm helper starts the program in the parent's current directory, not the one it started in", async () => {
    const backend = make();
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 2,
      () => JSON.stringify(backend.stats()),
    );
    const before = process.cwd();
    const probe = probePath(); // found from the working directory: before leaving it
    process.chdir(dir);
    try {
      expect((await forkBeforeExec(probe, ['cwd'], { backend })).stdout).toBe(realpathSync(dir));
    } finally {
      process.chdir(before);
    }
    expect(backend.stats().warmTaken).toBe(1);
  });

  (process.getuid?.() === 0 ? it : it.skip)(
    'warm helpers started before a credential change are never used after it (needs root)',
    async () => {
      const backend = make({ min: 2 });
      await run(backend, ['exit', '0']);
      await until(
        () => backend.stats().warm === 2,
        () => JSON.stringify(backend.stats()),
      );
      const egid = process.getegid!();
      process.setegid!(65534);
      try {
        const child = run(backend, ['sleep', '5000'], { reject: false });
        const gids = /^Gid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        child.kill('SIGKILL');
        await child;
        expect(gids?.[2]).toBe('65534');
        expect(backend.stats()).toMatchObject({ retired: 2, warmTaken: 0 });
      } finally {
        process.setegid!(egid);
      }
    },
  );

  it.each([
    ['starter', 'run through the starter', 'overflowed'],
    ['helper', 'start helpers on demand', 'coldStarted'],
  ] as const)(
    'pool exhaustion (overflow: %s): more concurrent spawns than warm helpers %s',
    async (overflow, _what, counter) => {
      const backend = make({ min: 1, max: 3, overflow });
      await run(backend, ['exit', '0']);
      await until(
        () => backend.stats().warm === 1,
        () => JSON.stringify(backend.stats()),
      );
      const missedBefore = backend.stats()[counter] ?? 0;
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => run(backend, ['echo', `n${i}`, 'exit', String(i % 5)], { reject: false })),
      );
      results.forEach((r, i) => expect([r.stdout, r.exitCode]).toEqual([`n${i}`, i % 5]));
      const missed = (backend.stats()[counter] ?? 0) - missedBefore;
      expect(missed).toBeGreaterThan(0);
      // Each request that found none warm doubled the warm set, up to max (how many missed depends on
      // how fast the zygote's helpers came back), and the pool refills to that.
      const target = Math.min(3, 2 ** missed);
      expect(backend.stats().target).toBe(target);
      await until(
        () => backend.stats().warm === target,
        () => `demand raises the warm set to ${target}: ${JSON.stringify(backend.stats())}`,
        20_000, // helpers start at the machine's pace: a loaded one may take seconds
      );
    },
  );

  it('warm helpers retire after idleTimeoutMs, and the pool warms again on demand', async () => {
    const children = childPids();
    const backend = make({ min: 2, idleTimeoutMs: 150 });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 2,
      () => JSON.stringify(backend.stats()),
    );
    await until(
      () => backend.stats().warm === 0 && backend.stats().zygotePid === undefined && noNewChildren(children),
      () => `retired: ${JSON.stringify(backend.stats())}, children ${childPids()}`,
    );
    expect(backend.stats().retired).toBe(2);
    expect((await run(backend, ['echo', 'again'])).stdout).toBe('again');
  });

  it('dispose() kills the warm helpers and leaves no fd or process behind', async () => {
    const fds = openFds();
    const children = childPids();
    const backend = make({ min: 3 });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 3,
      () => JSON.stringify(backend.stats()),
    );
    const { zygotePid } = backend.stats();
    expect(zygotePid).toBeGreaterThan(0);
    const warm = childPids().filter((pid) => !children.includes(pid));
    expect(warm.sort()).toEqual([...helperPids(backend, children), zygotePid].sort());
    expect(warm).toHaveLength(4);
    await backend.dispose!();
    expect(childPids()).toEqual(children);
    for (const pid of warm) expect(processState(pid)).toBe('gone');
    expect(openFds()).toEqual(fds);
  });

  it('1,000 sequential requests: no fd or process growth', async () => {
    const fds = openFds();
    const children = childPids();
    const backend = make({ min: 2, max: 4 });
    for (let i = 0; i < 1000; i++) {
      const result = await run(backend, ['echo', String(i)]);
      if (result.stdout !== String(i)) throw new Error(`request ${i} got ${result.stdout}`);
    }
    expect(backend.stats().warmTaken).toBeGreaterThan(900);
    // Counted once the pool is disposed: while it runs, a refill may have a helper on its way (under
    // load, for longer than any fixed wait). What a request leaked (an fd, a helper) would remain.
    await backend.dispose();
    await until(
      () => openFds().length === fds.length,
      () => `fds ${openFds()} (before: ${fds})`,
    ); // streams close their fds on a later tick
    expect(openFds()).toEqual(fds);
    expect(childPids()).toEqual(children);
  }, 300_000); // about 2 s on an idle machine; generous for a loaded CI box

  it('a program on a helper the zygote forked starts with default signal dispositions and an empty mask', async () => {
    // Node ignores SIGPIPE; the zygote resets its own dispositions once, and its helpers inherit them.
    const backend = make({ min: 2 });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 2 && backend.stats().forked >= 2,
      () => JSON.stringify(backend.stats()),
    );
    expect((await run(backend, ['sigs'])).stdout).toBe('blocked= ignored=');
    expect(backend.stats().warmTaken).toBe(1);
  });

  it("a program that runs on keeps no fd of its helper in the parent once it has exec'd", async () => {
    // A helper's socket is read at the program's exit unless watched: one still running after a
    // few ms (10-20) is watched, and its socket closes at the exec, as a short-lived one's does at its exit.
    const backend = make({ min: 1, max: 1 });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 1,
      () => JSON.stringify(backend.stats()),
    );
    const fds = openFds();
    const child = run(backend, ['sleep', '5000'], { stdio: 'ignore', reject: false });
    expect(backend.stats().warmTaken).toBe(1);
    await until(
      () => backend.stats().warm === 1 && openFds().length === fds.length,
      () => `fds ${openFds()} (before: ${fds}), ${JSON.stringify(backend.stats())}`,
    );
    child.kill('SIGKILL');
    expect((await child).signal).toBe('SIGKILL');
  });

  it('a stdin pipe nobody ended, and output nobody read, close once the program exited (warm helpers)', async () => {
    const backend = make({ min: 2, max: 2 });
    await run(backend, ['exit', '0']); // the pool warms: the requests below go to helpers
    await until(
      () => backend.stats().warm > 0,
      () => 'no warm helper',
    );
    const fds = openFds();
    for (let i = 0; i < 10; i++) {
      const child = forkBeforeExec(probePath(), ['exit', '0'], { backend, stdin: 'pipe', buffer: false });
      expect((await child).exitCode).toBe(0);
    }
    await until(
      () => openFds().length <= fds.length,
      () => `fds ${openFds()} (before: ${fds})`,
    ); // a Socket closes its fd on a later tick
    expect(backend.stats().warmTaken).toBeGreaterThan(0);
    await backend.dispose();
  });

  it('carries a request larger than the socket buffer', async () => {
    const socketBuffer = Number(readFileSync('/proc/sys/net/core/wmem_default', 'utf8'));
    const args = Array.from({ length: 12 }, (_, i) => String.fromCharCode(97 + i).repeat(100 * 1024));
    const env = { FORKEXEC_BIG: 'x'.repeat(100 * 1024), FORKEXEC_BIG2: 'y'.repeat(100 * 1024) };
    expect(args.join('').length + 200 * 1024).toBeGreaterThan(4 * socketBuffer);
    const result = (await run(make(), ['argv', ...args], { env })) as Result<string>;
    expect(result.stdout.split('\n').slice(2)).toEqual(args);
    expect((await run(make(), ['env', 'FORKEXEC_BIG'], { env })).stdout).toBe(env.FORKEXEC_BIG);
  });

  it('a helper killed mid-request fails only its own request, and the next request runs', async () => {
    const fifo = path.join(dir, 'blocking-fifo');
    execFileSync('mkfifo', [fifo]);
    const backend = make();
    await run(backend, ['exit', '0']);
    // open() of a FIFO without a writer blocks: the helper is stuck between request and exec.
    const stuck = run(backend, ['exit', '0'], { actions: [{ op: 'open', fd: 5, path: fifo, flags: 'r' }] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(processState(stuck.pid!)).toBe('S');
    process.kill(stuck.pid!, 'SIGKILL');
    const error = await rejection(stuck);
    expect(error.code).toBe('FORKEXEC_SPAWN');
    expect(error.message).toMatch(/died before it could exec .*killed by SIGKILL/);
    expect((await run(backend, ['echo', 'next'])).stdout).toBe('next');
  });

  it('warm helpers killed an instant before use: the request goes to another helper, transparently', async () => {
    const children = childPids();
    const backend = make({ min: 4 });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 4,
      () => JSON.stringify(backend.stats()),
    );
    const victims = helperPids(backend, children);
    expect(victims.length).toBeGreaterThanOrEqual(4); // all of them: the pool skips every dead one, however many
    // Killed and gone (zombies) before the event loop can notice: the pool still counts them warm.
    for (const pid of victims) process.kill(pid, 'SIGKILL');
    for (const pid of victims) while (processState(pid) !== 'Z'); // spins without yielding to the event loop
    const child = run(backend, ['echo', 'delivered']);
    expect(victims).not.toContain(child.pid);
    expect((await child).stdout).toBe('delivered');
    await until(
      () => victims.every((pid) => processState(pid) === 'gone'),
      () => victims.map((p) => `${p}:${processState(p)}`).join(' '),
    );
  });

  it('the probe shakes hands with a real helper, once per helper program', () => {
    const log = path.join(dir, 'probe-runs.log');
    const wrapper = path.join(dir, 'counting-helper.sh');
    writeFileSync(wrapper, `#!/bin/sh\necho run >> ${JSON.stringify(log)}\nexec ${JSON.stringify(helper.path)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const probe = make({ helperPath: wrapper }).probe();
    expect(probe.ok && probe.detail).toMatch(
      new RegExp(`protocol v${PROTOCOL_VERSION}, handshake ok\\), helpers started by the ntdll backend`),
    );
    expect(make({ helperPath: wrapper }).probe().ok).toBe(true);
    expect(readFileSync(log, 'utf8')).toBe('run\n');
    const notAHelper = make({ helperPath: '/bin/true' }).probe();
    expect(!notAHelper.ok && notAHelper.reason).toMatch(/\/bin\/true exited before saying hello/);
  });

  it('a failure before the exec rejects `started` and the result with the same SpawnError, and keeps no fd', async () => {
    const backend = make({ min: 2 });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 2,
      () => JSON.stringify(backend.stats()),
    );
    const fds = openFds().length;
    const child = run(backend, ['echo', 'never'], {
      actions: [{ op: 'open', fd: 0, path: path.join(dir, 'not-there', 'x'), flags: 'r' }],
    });
    expect(child.pid).toBeGreaterThan(0); // known before the exec, by design
    const error = await rejection(child.started);
    expect(error).toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT', actionIndex: 0 });
    expect(await rejection(child)).toBe(error);
    await until(
      () => backend.stats().warm === 2,
      () => JSON.stringify(backend.stats()),
    );
    await new Promise((resolve) => setTimeout(resolve, 20)); // destroyed streams close their fds on a later tick
    expect(openFds().length).toBe(fds);
  });

  it("the caller's kill() before the exec reports the signal, not a spawn error", async () => {
    const fifo = path.join(dir, 'kill-fifo');
    execFileSync('mkfifo', [fifo]);
    // With an open (which may block) a request goes to a helper even when none is warm, never through the starter.
    const stuck = run(make(), ['exit', '0'], {
      actions: [{ op: 'open', fd: 5, path: fifo, flags: 'r' }],
      reject: false,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    stuck.kill('SIGTERM');
    expect((await stuck).signal).toBe('SIGTERM');
  });

  it.each([
    ['garbage-hello', /failed the handshake: bad frame magic/],
    [
      'wrong-version',
      new RegExp(`failed the handshake: it speaks protocol version 99, this package version ${PROTOCOL_VERSION}`),
    ],
  ])(
    'a helper program that misbehaves before any request (%s) fails the probe, which says why',
    async (mode, message) => {
      const children = childPids();
      const backend = make({ helperPath: fake(mode), min: 0, overflow: 'helper' });
      const probe = backend.probe();
      expect(!probe.ok && probe.reason).toMatch(message);
      const error = await rejection(run(backend, ['echo', 'never']));
      expect(error.code).toBe('FORKEXEC_BACKEND_UNAVAILABLE');
      expect(error.message).toMatch(message);
      await until(
        () => noNewChildren(children),
        () => `children left: ${childPids()}`,
      );
    },
  );

  it.each([
    ['garbage-hello', /malformed reply \(bad frame magic/],
    ['wrong-version', new RegExp(`protocol version 99, this package version ${PROTOCOL_VERSION}`)],
  ])(
    'a helper that misbehaves in its hello (%s) past the probe fails only its request, with a SpawnError',
    async (mode, message) => {
      const children = childPids();
      const backend = make({ helperPath: fake(mode), min: 0, overflow: 'helper' });
      const child = backend.spawn({
        file: '/bin/true',
        argv: ['true'],
        env: {},
        actions: [],
        stdio: ['ignore', 'ignore', 'ignore'],
        command: 'true',
      });
      const error = await rejection(child.exited);
      expect(error.code).toBe('FORKEXEC_SPAWN');
      expect(error.message).toMatch(message);
      await backend.dispose!();
      await until(
        () => noNewChildren(children),
        () => `children left: ${childPids()}`,
      );
    },
  );

  it.each([
    ['garbage-reply', /malformed reply \(bad frame magic/],
    ['truncated-reply', /malformed reply \(the socket closed inside a frame/],
    ['crash-mid-request', /died before it could exec .*killed by SIGSEGV/],
  ])('a helper that misbehaves (%s) fails its request with a SpawnError and is not reused', async (mode, message) => {
    const children = childPids();
    const backend = make({ helperPath: fake(mode), min: 0, overflow: 'helper' });
    const error = await rejection(run(backend, ['echo', 'never']));
    expect(error.code).toBe('FORKEXEC_SPAWN');
    expect(error.message).toMatch(message);
    await backend.dispose!();
    await until(
      () => noNewChildren(children),
      () => `children left: ${childPids()}`,
    );
  });

  it('warm helpers that die are replaced, and warm-up pauses when they keep dying', async () => {
    const children = childPids();
    const backend = make({ helperPath: fake('dies-when-warm'), min: 2, overflow: 'helper' });
    expect((await rejection(run(backend, ['exit', '0']))).message).toMatch(/died before it could exec .*exit code 3/);
    await until(
      () => backend.stats().replaced >= 3,
      () => JSON.stringify(backend.stats()),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { replaced } = backend.stats();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Warm-up stops after 3 deaths in a row; helpers already starting then still die and count (demand
    // doubles the warm set, so up to 2 × min of them).
    expect(backend.stats()).toMatchObject({ warm: 0, replaced });
    expect(replaced).toBeLessThanOrEqual(3 + 2 * 2);
    await until(
      () => noNewChildren(children),
      () => `children left: ${childPids()}`,
    );
  });

  it('helpers can be started by the node backend when ntdll is not available', async () => {
    const backend = make({ starter: 'node', overflow: 'helper' });
    expect(backend.starter().name).toBe('node');
    const child = run(backend, ['echo', 'via-node', 'exit', '4'], { reject: false });
    expect(child.pid).toBeGreaterThan(0);
    expect(await child).toMatchObject({ stdout: 'via-node', exitCode: 4 });
  });

  it('a missing helper program is explained by the probe and by spawn', async () => {
    const backend = make({ helperPath: path.join(dir, 'no-such-helper') });
    const probe = backend.probe();
    expect(probe.ok).toBe(false);
    expect(!probe.ok && probe.reason).toMatch(/no-such-helper \(option helperPath\) is not an executable file/);
    const error = await rejection(run(backend, ['exit', '0']));
    expect(error.code).toBe('FORKEXEC_BACKEND_UNAVAILABLE');
  });

  it('a FORKEXEC_HELPER that names no program is said to be the cause', () => {
    const saved = process.env.FORKEXEC_HELPER;
    process.env.FORKEXEC_HELPER = path.join(dir, 'no-such-helper');
    try {
      const probe = createBackend({}).probe();
      expect(!probe.ok && probe.reason).toMatch(/FORKEXEC_HELPER names .*no-such-helper, which is not an executable/);
    } finally {
      if (saved === undefined) delete process.env.FORKEXEC_HELPER;
      else process.env.FORKEXEC_HELPER = saved;
    }
  });

  it('a platform without a prebuilt helper gets the from-source command, or what compiler is missing', () => {
    const arch = Object.getOwnPropertyDescriptor(process, 'arch')!;
    const savedCc = process.env.CC;
    const savedHelper = process.env.FORKEXEC_HELPER;
    delete process.env.FORKEXEC_HELPER;
    Object.defineProperty(process, 'arch', { ...arch, value: 'riscv64' });
    try {
      const probe = createBackend({}).probe();
      const script = path.join(__dirname, '..', 'scripts', 'build-native.mjs');
      expect(!probe.ok && probe.reason).toContain(
        `has no helper program for linux-riscv64 (${path.join(__dirname, '..', 'dist', 'linux-riscv64', 'fxhelper')}): build it from source with cc: node ${script}`,
      );
      process.env.CC = path.join(dir, 'no-such-cc');
      const noCompiler = createBackend({}).probe();
      expect(!noCompiler.ok && noCompiler.reason).toMatch(/no C compiler .*no-such-cc.* is found/);
    } finally {
      Object.defineProperty(process, 'arch', arch);
      if (savedCc === undefined) delete process.env.CC;
      else process.env.CC = savedCc;
      if (savedHelper !== undefined) process.env.FORKEXEC_HELPER = savedHelper;
    }
  });

  it('bad options are refused with a typed error', () => {
    expect(() => createBackend({ min: -1 })).toThrow(expect.objectContaining({ code: 'FORKEXEC_INVALID_ARGUMENT' }));
    expect(() => createBackend({ min: 5, max: 2 })).toThrow(/min \(5\) exceeds max \(2\)/);
    expect(() => createBackend({ idleTimeoutMs: 0 })).toThrow(/idleTimeoutMs/);
    expect(() => createBackend({ overflow: 'never' as 'helper' })).toThrow(/overflow must be 'starter' or 'helper'/);
    expect(() => make({ starter: createBackend() }).starter()).toThrow(/cannot start its own helpers/);
  });
});

describe('the helper program on its own', () => {
  it('exits when its socket closes while it waits', () => {
    const out = execFileSync(path.join(dir, 'helper-parent'), [helper.path, 'close'], { encoding: 'utf8' });
    expect(out).toMatch(/^helper=\d+\nexited=1 code=0\n$/);
  });

  it('dies with its parent even while the socket stays open elsewhere (PR_SET_PDEATHSIG)', async () => {
    const out = execFileSync(path.join(dir, 'helper-parent'), [helper.path, 'die'], { encoding: 'utf8' });
    const helperPid = Number(/helper=(\d+)/.exec(out)![1]);
    const holder = Number(/holder=(\d+)/.exec(out)![1]);
    try {
      await until(
        () => ['gone', 'Z'].includes(processState(helperPid)),
        () => `helper ${helperPid} is ${processState(helperPid)}`,
      );
    } finally {
      process.kill(holder, 'SIGKILL');
    }
  });

  it('is built by the package build script, which fails clearly without a compiler', () => {
    const build = spawnSync(
      process.execPath,
      [path.join(__dirname, '..', 'scripts', 'build-native.mjs'), path.join(dir, 'unused')],
      {
        encoding: 'utf8',
        env: { ...process.env, CC: path.join(dir, 'no-such-cc') },
      },
    );
    expect(build.status).toBe(1);
    expect(build.stderr).toMatch(/no C compiler .*no-such-cc found\n.*install one/);
  });

  it('refuses a request of another protocol version, and a malformed one', async () => {
    const { HelperProcess } = await import('../src/linux/helper-process.js');
    const { fdPassing } = await import('../src/linux/fd-passing.js');
    const { encodeRequest } = await import('../src/linux/wire.js');
    const native = fdPassing();
    const starter = loadBackend('ntdll');
    const good = encodeRequest({ file: '/bin/true', cwd: '', argv: ['true'], env: {}, actions: [] }, [], 0);
    const cases = [
      {
        header: Buffer.from(good.header)
          .fill(0, 4, 5)
          .fill(PROTOCOL_VERSION + 1, 4, 5),
        body: good.body,
        errno: 93 /* EPROTONOSUPPORT */,
      },
      { header: good.header, body: Buffer.from('not a request body at all'), errno: 71 /* EPROTO */ },
    ];
    for (const { header, body, errno } of cases) {
      const helperProcess = HelperProcess.start(starter, helper.path, native);
      helperProcess.setActive(true);
      const fixed = Buffer.from(header);
      fixed.writeUInt32LE(body.length, 8);
      helperProcess.send({ header: fixed, body }, [], native);
      expect(await helperProcess.outcome).toEqual({ kind: 'fail', errno, index: -2 });
      expect(await helperProcess.exited).toEqual({ exitCode: 127, signal: null });
    }
  });
});
