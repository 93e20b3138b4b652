// The Windows helper's own behaviour, on Windows node (run under Wine by scripts/test-wine.sh):
// suspended helpers whose pid exists before the request, standing in for the program.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { forkBeforeExec } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { createBackend } from '@forkexec/helper-exe';
import { createBackend as createNtdllBackend } from '@forkexec/ntdll-backend';

const probe = probePath();
const tool = process.env.FORKEXEC_WIN_TOOL;
const scratch = realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-helper-win-')));
const backend = createBackend({ min: 2 });
after(() => backend.dispose());

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Pids of running processes with this image name, listed by the test tool (Toolhelp32). */
const ntdll = createNtdllBackend();
const pidsOf = async (image) =>
  (await forkBeforeExec(tool, ['ps', image], { backend: ntdll })).stdout.split('\n').filter(Boolean).map(Number);
const kernel32 = createRequire(import.meta.url)('koffi').load('kernel32.dll');
const CreateFileW = kernel32.func(
  'void * __stdcall CreateFileW(const char16_t *name, uint32_t access, uint32_t share, void *sa, uint32_t disposition, uint32_t flags, void *template)',
);
const CloseHandle = kernel32.func('int __stdcall CloseHandle(void *handle)');
const GENERIC_READ = 0x80000000;
const OPEN_EXISTING = 3;
const GetProcessHandleCount = kernel32.func(
  'int __stdcall GetProcessHandleCount(void *process, _Out_ uint32_t *count)',
);
/** Handles this process holds (GetProcessHandleCount on the current-process pseudo-handle). */
const handleCount = () => {
  const count = [0];
  assert.ok(GetProcessHandleCount(-1n, count));
  return count[0];
};
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(condition, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
async function warm(b, count) {
  await forkBeforeExec(probe, ['exit', '0'], { backend: b });
  await until(() => b.stats().warm >= count, `${count} warm helpers`);
}
const rejectsWith = (promise, extra) =>
  assert.rejects(Promise.resolve(promise), (error) => {
    for (const [key, value] of Object.entries(extra))
      assert.equal(error[key], value, `error.${key} (${error.message})`);
    return true;
  });
/** The first line a child writes on stdout (the chunks stay Buffers: core collects them too). */
const firstLine = (stream) =>
  new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')).trim());
    });
    stream.once('end', () => reject(new Error(`no line before EOF: ${JSON.stringify(text)}`)));
  });

describe('Windows helper: the stand-in', () => {
  it("the pid is known when spawn returns: a warm helper, which becomes the program's parent", async () => {
    await warm(backend, 2);
    const taken = backend.stats().warmTaken;
    const child = forkBeforeExec(tool, ['whoami', '0', '0'], { backend });
    assert.equal(typeof child.pid, 'number');
    assert.equal(backend.stats().warmTaken, taken + 1);
    const { stdout } = await child;
    const [, pid, ppid] = /^pid=(\d+) ppid=(\d+)$/.exec(stdout) ?? assert.fail(stdout);
    assert.equal(Number(ppid), child.pid, 'the helper created the program');
    assert.notEqual(Number(pid), child.pid, 'Windows cannot exec in place: the helper stands in');
  });

  it('exit codes arrive exactly, 32-bit ones included', async () => {
    for (const code of [0, 1, 255, 256, 4242, 0x7fffffff]) {
      const result = await forkBeforeExec(tool, ['whoami', '0', String(code)], { backend, reject: false });
      assert.deepEqual([result.exitCode, result.signal], [code, null]);
    }
  });

  it('kill ends the helper, and its job ends the program', async () => {
    const child = forkBeforeExec(tool, ['whoami', '60000', '0'], { backend, reject: false });
    const program = Number(/pid=(\d+)/.exec(await firstLine(child.stdout))[1]);
    assert.ok(alive(program));
    assert.equal(child.kill(), true);
    const result = await child;
    assert.deepEqual([result.exitCode, result.signal], [null, 'SIGTERM']);
    await until(() => !alive(program), `program ${program} to end after its helper was killed`);
    assert.equal(child.kill(), false, 'a second kill finds it gone');
  });

  it("what the program started outlives it, as after fork+exec (the job lets go at the program's end)", async () => {
    const { stdout } = await forkBeforeExec(tool, ['leave', '60000'], { backend });
    const left = Number(stdout);
    try {
      await sleep(200);
      assert.ok(alive(left), `process ${left} started by the program is gone`);
    } finally {
      if (alive(left)) process.kill(left);
    }
  });

  it("the program's own end (terminated from outside) reaches the caller as its exit code", async () => {
    const child = forkBeforeExec(tool, ['whoami', '60000', '0'], { backend, reject: false });
    const program = Number(/pid=(\d+)/.exec(await firstLine(child.stdout))[1]);
    process.kill(program); // TerminateProcess with exit code 1, as libuv does
    const result = await child;
    assert.deepEqual([result.exitCode, result.signal], [1, null]);
  });

  it('stdio pipes carry large output both ways, nothing lost', async () => {
    const input = Buffer.alloc(4 << 20, 'forkexec\n');
    const { stdout } = await forkBeforeExec(probe, ['cat'], { backend, input, encoding: 'buffer' });
    assert.equal(Buffer.compare(stdout, input), 0);
    const spew = await forkBeforeExec(probe, ['spew', '2', String(8 << 20)], { backend, encoding: 'buffer' });
    assert.equal(spew.stderr.length, 8 << 20);
  });
});

describe('Windows helper: creation failures are typed errors from the helper', () => {
  it('an .exe that is no Windows image is ENOEXEC (CreateProcessW in the helper)', async () => {
    const fake = path.join(scratch, 'fake.exe');
    writeFileSync(fake, 'MZ? not really');
    const error = await forkBeforeExec(fake, [], { backend }).then(
      () => assert.fail('it ran'),
      (e) => e,
    );
    assert.deepEqual([error.code, error.errno], ['FORKEXEC_SPAWN', 'ENOEXEC']);
    assert.match(error.message, /CreateProcessW failed in helper \d+ with Win32 error \d+/);
  });

  it('an .exe held open without sharing is ETXTBSY (a sharing violation in the helper)', async () => {
    const locked = path.join(scratch, 'locked.exe');
    copyFileSync(tool, locked);
    const handle = CreateFileW(locked, GENERIC_READ, 0, null, OPEN_EXISTING, 0, null);
    try {
      const error = await forkBeforeExec(locked, ['whoami', '0', '0'], { backend }).then(
        () => assert.fail('it ran'),
        (e) => e,
      );
      assert.equal(error.code, 'FORKEXEC_SPAWN');
      assert.equal(error.errno, 'ETXTBSY');
      assert.match(error.message, /CreateProcessW failed in helper \d+ with Win32 error 32/);
    } finally {
      CloseHandle(handle);
    }
  });

  it('a missing program is ENOENT before any helper is taken', async () => {
    const before = backend.stats();
    await rejectsWith(forkBeforeExec(path.join(scratch, 'missing.exe'), [], { backend }), {
      code: 'FORKEXEC_SPAWN',
      errno: 'ENOENT',
    });
    assert.equal(backend.stats().warmTaken + backend.stats().coldStarted, before.warmTaken + before.coldStarted);
  });
});

describe('Windows helper: misbehaving helpers fail only their own request', () => {
  const fakeNamed = (name) => {
    const file = path.join(scratch, `fxw-fake-${name}.exe`);
    copyFileSync(process.env.FORKEXEC_WIN_FAKE_HELPER, file);
    return createBackend({ min: 0, helperPath: file });
  };
  const fails = { garbage: 'replies garbage', crash: 'crashes mid-request', mute: 'exits without replying' };
  for (const [name, pattern] of [
    ['garbage', /malformed reply \(bad magic/],
    ['crash', /died before it could start/],
    ['mute', /died before it could start .* \(exit code 0\)/],
  ])
    it(`a helper that ${fails[name]} past the probe: SpawnError, helper gone`, async () => {
      const fake = fakeNamed(name);
      try {
        // Straight to spawn(): forkBeforeExec would not get past the probe, whose handshake these fail.
        const child = fake.spawn({
          file: probe,
          argv: [probe, 'exit', '0'],
          env: { ...process.env },
          actions: [],
          stdio: ['ignore', 'ignore', 'ignore'],
          command: 'fxprobe exit 0',
        });
        const error = await child.exited.then(
          () => assert.fail('it ran'),
          (e) => e,
        );
        assert.equal(error.code, 'FORKEXEC_SPAWN');
        assert.match(error.message, pattern);
        await until(() => !alive(child.pid), `fake helper ${child.pid} to be gone`);
        assert.equal(
          (await forkBeforeExec(probe, ['echo', 'fine'], { backend })).stdout,
          'fine',
          'the real pool is unaffected',
        );
      } finally {
        await fake.dispose();
      }
    });

  it('a warm helper killed from outside is replaced', async () => {
    await backend.dispose(); // so that this pool's helper is the only one
    const b = createBackend({ min: 1 });
    try {
      await warm(b, 1);
      const helpers = await pidsOf('fxhelper.exe');
      assert.equal(helpers.length, 1, 'the one warm helper of this pool (the others are disposed)');
      const before = b.stats().replaced;
      process.kill(helpers[0]);
      await until(() => b.stats().replaced > before, 'the killed helper to be replaced');
      assert.equal((await forkBeforeExec(probe, ['echo', 'ok'], { backend: b })).stdout, 'ok');
    } finally {
      await b.dispose();
    }
  });
});

describe('Windows helper: the probe', () => {
  const built = path.join(import.meta.dirname, '..', '..', 'dist', 'win32-x64', 'fxhelper.exe');
  const copyOf = (from, name) => {
    const file = path.join(scratch, name);
    copyFileSync(from, file);
    return file;
  };

  it('completes one real request on a suspended helper, once per helper program', () => {
    const file = copyOf(built, 'fxhelper-probed.exe');
    const first = createBackend({ helperPath: file }).probe();
    assert.equal(first.ok, true, first.reason);
    assert.match(first.detail, /Windows protocol v1, handshake ok/);
    const handles = handleCount();
    assert.equal(createBackend({ helperPath: copyOf(built, 'fxhelper-probed-2.exe') }).probe().ok, true);
    assert.equal(handleCount(), handles, 'a handshake leaves no handle behind');
    writeFileSync(file, 'MZ? not really'); // the helper and its program have ended: the file is free
    assert.equal(createBackend({ helperPath: file }).probe().ok, true, 'cached: no second handshake');
    const notAHelper = createBackend({ helperPath: copyOf(file, 'not-a-helper.exe') }).probe();
    assert.equal(notAHelper.ok, false);
    assert.match(notAHelper.reason, /not-a-helper\.exe cannot be created: /);
  });

  const failsTheProbe = { garbage: 'replies garbage', crash: 'crashes', mute: 'exits without replying' };
  for (const [name, pattern] of [
    ['garbage', /fxw-fake-probe-garbage\.exe failed the handshake: malformed reply \(bad magic/],
    ['crash', /fxw-fake-probe-crash\.exe failed the handshake: it ended without replying \(exit code 0x[0-9a-f]+\)/],
    ['mute', /fxw-fake-probe-mute\.exe failed the handshake: it ended without replying \(exit code 0x0\)/],
  ])
    it(`a helper program that ${failsTheProbe[name]} fails the probe, which says why, and is gone`, async () => {
      const image = `fxw-fake-probe-${name}.exe`;
      const result = createBackend({ helperPath: copyOf(process.env.FORKEXEC_WIN_FAKE_HELPER, image) }).probe();
      assert.equal(result.ok, false);
      assert.match(result.reason, pattern);
      const deadline = Date.now() + 10_000;
      while ((await pidsOf(image)).length) {
        if (Date.now() > deadline) assert.fail(`${image} is still running`);
        await sleep(50);
      }
    });
});

describe('Windows helper: the pool leaves nothing behind', () => {
  it('dispose() ends every suspended helper', async () => {
    await backend.dispose();
    assert.deepEqual(await pidsOf('fxhelper.exe'), []);
    const b = createBackend({ min: 3 });
    await warm(b, 3);
    assert.equal((await pidsOf('fxhelper.exe')).length, 3);
    await b.dispose();
    assert.deepEqual(await pidsOf('fxhelper.exe'), []);
  });

  for (const how of ['process.exit()', 'being terminated'])
    it(`the parent's end (${how}) ends its suspended helpers (their job closes)`, async () => {
      const script = `
        import { forkBeforeExec } from '@forkexec/core';
        import { createBackend } from '@forkexec/helper-exe';
        const backend = createBackend({ min: 3 });
        await forkBeforeExec(${JSON.stringify(probe)}, ['exit', '0'], { backend });
        while (backend.stats().warm < 3) await new Promise((r) => setTimeout(r, 10));
        console.log('warm');
        setInterval(() => {}, 1000);
        process.stdin.once('data', () => process.exit(0));
      `;
      const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: path.join(import.meta.dirname, '..', '..'),
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      assert.equal(await firstLine(parent.stdout), 'warm');
      assert.equal((await pidsOf('fxhelper.exe')).length, 3);
      if (how === 'process.exit()') parent.stdin.write('exit\n');
      else parent.kill();
      await new Promise((resolve) => parent.once('exit', resolve));
      const deadline = Date.now() + 10_000;
      let left;
      while ((left = await pidsOf('fxhelper.exe')).length && Date.now() < deadline) await sleep(100);
      assert.deepEqual(left, []);
    });
});

describe('Windows helper: many requests', () => {
  it('100 sequential requests leave no handles, helpers or programs behind', async () => {
    const b = createBackend({ min: 1 });
    const programs = async () => (await pidsOf('fxprobe.exe')).length;
    try {
      for (let i = 0; i < 10; i++) await forkBeforeExec(probe, ['echo', String(i)], { backend: b }); // lazily created state settles
      const before = { handles: handleCount(), programs: await programs() };
      for (let i = 0; i < 100; i++)
        assert.equal((await forkBeforeExec(probe, ['echo', String(i)], { backend: b })).stdout, String(i));
      await sleep(200); // the pool refills after the last spawn
      const grown = handleCount() - before.handles;
      assert.ok(grown <= 4, `handles grew by ${grown} over 100 requests`); // a warm helper's pipe and job may be mid-refill
      assert.ok((await programs()) <= before.programs, 'no program outlives its request');
      assert.ok(b.stats().warm <= 8);
    } finally {
      await b.dispose();
    }
    assert.deepEqual(await pidsOf('fxhelper.exe'), []);
  });
});
