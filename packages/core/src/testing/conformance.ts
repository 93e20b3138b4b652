import assert from 'node:assert/strict';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Action, ActionOp } from '../actions.js';
import type { Backend } from '../backend.js';
import { forkBeforeExec } from '../fork-before-exec.js';
import type { Options, Result } from '../options.js';
import { probePath, publicProbeCopy } from './probe.js';
import { inheritableFds, openFds } from './proc.js';

type TestFn = () => Promise<void> | void;

export interface ConformanceOptions {
  /** Test-framework functions; default: the `describe` and `it` globals (Jest, Vitest, node:test with globals). */
  describe?: (name: string, fn: () => void) => void;
  it?: (name: string, fn: TestFn) => void;
  /** Cases to skip, by name, with the reason (printed in the test name). */
  skip?: Record<string, string>;
}

const MiB = 1024 * 1024;

/** What a backend must do, tested on real processes: the same cases for every backend. */
export function runConformanceSuite(
  backendOrFactory: Backend | (() => Backend),
  options: ConformanceOptions = {},
): void {
  const g = globalThis as unknown as { describe: ConformanceOptions['describe']; it: ConformanceOptions['it'] };
  const describe = options.describe ?? g.describe!;
  const it = options.it ?? g.it!;
  const backend = () => (typeof backendOrFactory === 'function' ? backendOrFactory() : backendOrFactory);
  const name = backend().name;
  /** Fds a child may see besides those asked for: a backend without closefrom cannot drop the parent's inheritable ones. */
  const unasked = (fds: string) => {
    const tolerated = new Set(supports('closefrom') ? [] : inheritableFds());
    return fds
      .split(' ')
      .filter((fd) => fd !== '' && !tolerated.has(Number(fd)))
      .join(' ');
  };
  const supports = (op: ActionOp) => backend().capabilities.actions.includes(op);

  /** A case that runs only when the backend declares `ops` and the condition holds; otherwise skipped visibly. */
  const test = (title: string, fn: TestFn, ops: ActionOp[] = [], condition?: () => string | undefined) => {
    const missing = ops.filter((op) => !supports(op));
    const why =
      options.skip?.[title] ?? (missing.length ? `${name} does not support ${missing.join(', ')}` : condition?.());
    if (why) {
      const skip = (it as { skip?: ConformanceOptions['it'] }).skip ?? it;
      return skip(`${title} [skipped: ${why}]`, () => {});
    }
    it(title, fn);
  };

  /** A reason to skip a case whose premise is POSIX-only, on Windows. */
  const notOnWindows = (why: string) => () => (process.platform === 'win32' ? why : undefined);
  const NO_SIGNALS = 'Windows has no signals: a process ends with an exit code or is terminated';
  const ONLY_STDIO = 'a Windows child receives only the standard handles 0-2';

  const rejectsWith = async (promise: PromiseLike<unknown>, code: string, extra: Record<string, unknown> = {}) => {
    await assert.rejects(Promise.resolve(promise), (error: Record<string, unknown>) => {
      assert.equal(error.code, code, `expected ${code}, got ${String(error.code)}: ${String(error.message)}`);
      for (const [key, value] of Object.entries(extra)) assert.equal(error[key], value, `error.${key}`);
      return true;
    });
  };
  let scratch = '';
  let changingPrograms = 0;
  const tmp = () => (scratch ||= realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-conformance-'))));

  /** Every case runs on each path the backend has: off the event loop (the default) and, if it differs, on it. */
  const paths: [label: string, start: Options][] = backend().capabilities.deferredPid
    ? [
        [' (started off the event loop)', {}],
        [' (started on the event loop)', { startOffLoop: false }],
      ]
    : [['', {}]];
  for (const [label, start] of paths) suite(label, start);

  function suite(label: string, start: Options): void {
    const run = (args: string[], opts: Options = {}) =>
      forkBeforeExec(probePath(), args, { backend: backend(), ...start, ...opts });
    const out = async (args: string[], opts: Options = {}) => ((await run(args, opts)) as Result<string>).stdout;
    describe(`forkexec conformance: ${name}${label}`, () => {
      test('probe says it works here', () => {
        const probe = backend().probe();
        assert.ok(probe.ok, probe.ok ? '' : probe.reason);
      });

      test('exit codes 0..255 arrive exactly', async () => {
        for (let base = 0; base < 256; base += 32) {
          const codes = Array.from({ length: 32 }, (_, i) => base + i);
          const results = await Promise.all(codes.map((code) => run(['exit', String(code)], { reject: false })));
          assert.deepEqual(
            results.map((r) => r.exitCode),
            codes,
          );
          assert.ok(results.every((r) => r.signal === null && r.backend === name));
        }
      });

      test('a non-zero exit rejects with FORKEXEC_EXIT carrying the result', async () => {
        await rejectsWith(run(['echo', 'partial', 'exit', '7']), 'FORKEXEC_EXIT', { exitCode: 7, stdout: 'partial' });
      });

      test(
        'death by signal is reported by name',
        async () => {
          for (const signal of ['SIGKILL', 'SIGTERM', 'SIGSEGV'] as const) {
            const result = await run(['raise', String(osConstants.signals[signal])], { reject: false });
            assert.equal(result.signal, signal);
            assert.equal(result.exitCode, null);
            assert.equal(result.failed, true);
          }
        },
        [],
        notOnWindows(NO_SIGNALS),
      );

      test('argv round-trips exactly, argv0 included', async () => {
        const args = ['', ' spaced  out ', 'quote"s', "it's", '$HOME', '*', 'ünïcødé ✓', 'a\nb', '-', '--flag=1'];
        const lines = (await out(['argv', ...args], { argv0: 'custom-zero', stripFinalNewline: false })).split('\n');
        assert.deepEqual(lines.slice(0, -1).join('\n'), ['custom-zero', 'argv', ...args].join('\n'));
      });

      test('captures 16 MiB on stdout and stderr at once without loss', async () => {
        const result = await run(['spew', '1', String(16 * MiB), 'spew', '2', String(16 * MiB)], {
          encoding: 'buffer',
        });
        for (const stream of [result.stdout, result.stderr] as unknown as Buffer[]) {
          assert.equal(stream.length, 16 * MiB);
          assert.equal(stream[0], 97);
          assert.equal(stream[stream.length - 1], 97 + (((16 * MiB - 1) % 65536) % 26));
        }
      });

      test('input reaches stdin and comes back through cat', async () => {
        const input = Buffer.alloc(4 * MiB, 'forkexec ');
        const result = await run(['cat'], { input, encoding: 'buffer' });
        assert.ok(Buffer.compare(result.stdout as unknown as Buffer, input) === 0);
      });

      test('buffer: false: the result waits for the output the caller is reading', async () => {
        const child = run(['spew', '1', String(MiB)], { buffer: false });
        let bytes = 0;
        // A slow reader: the child has exited long before the last chunks are taken. Counted as the
        // stream hands them out: a chunk may still wait in `slow`'s own buffer when the stream ends.
        child.stdout!.on('data', (chunk: Buffer) => (bytes += chunk.length));
        child.stdout!.pipe(new Writable({ highWaterMark: 1, write: (_chunk, _encoding, done) => setTimeout(done, 2) }));
        const result = await child;
        assert.equal(result.stdout, '');
        assert.equal(bytes, MiB);
      });

      test('stdin pipe stream can be written by the caller', async () => {
        const child = run(['cat'], { stdin: 'pipe' });
        child.stdin!.end('streamed\n');
        assert.equal((await child).stdout, 'streamed');
      });

      test('lines can be iterated as they arrive', async () => {
        const lines: string[] = [];
        for await (const line of run(['echo', 'one', 'echo', 'two', 'sleep', '50', 'echo', 'three'])) lines.push(line);
        assert.deepEqual(lines, ['one', 'two', 'three']);
      });

      test('env is merged with the parent unless extendEnv is false', async () => {
        process.env.FORKEXEC_CONFORMANCE_PARENT = 'from-parent';
        try {
          assert.equal(
            await out(['env', 'FOO', 'env', 'FORKEXEC_CONFORMANCE_PARENT'], { env: { FOO: 'bar baz=1' } }),
            'bar baz=1\nfrom-parent',
          );
          assert.equal(
            await out(['env', 'FOO', 'envcount', 'env', 'FORKEXEC_CONFORMANCE_PARENT'], {
              env: { FOO: 'x' },
              extendEnv: false,
            }),
            'x\n1\n<unset>',
          );
          assert.equal(
            await out(['env', 'FORKEXEC_CONFORMANCE_PARENT'], { env: { FORKEXEC_CONFORMANCE_PARENT: undefined } }),
            '<unset>',
          );
        } finally {
          delete process.env.FORKEXEC_CONFORMANCE_PARENT;
        }
      });

      test('without env options the child gets the parent environment as it is at the call', async () => {
        const key = 'FORKEXEC_CONFORMANCE_LIVE';
        // The child has as many variables as the parent (on Windows it also gets the "=C:" kind process.env hides).
        const sameCount = async () =>
          process.platform === 'win32' || (await out(['envcount'])) === String(Object.keys(process.env).length);
        try {
          process.env[key] = 'one';
          assert.equal(await out(['env', key]), 'one');
          assert.ok(await sameCount());
          process.env[key] = 'two';
          assert.equal(await out(['env', key]), 'two');
          process.env[key] = 'one'; // glibc hands back the string it made for "one" the first time
          assert.equal(await out(['env', key]), 'one');
          for (let i = 0; i < 40; i++) process.env[`${key}_${i}`] = String(i); // the variable array grows (and moves)
          assert.equal(await out(['env', `${key}_39`]), '39');
          assert.ok(await sameCount());
          const atCall = run(['env', key]);
          process.env[key] = 'changed after the call';
          assert.equal((await atCall).stdout, 'one');
          delete process.env[key];
          assert.equal(await out(['env', key]), '<unset>');
        } finally {
          for (const name of Object.keys(process.env)) if (name.startsWith(key)) delete process.env[name];
        }
      });

      test('cwd', async () => {
        assert.equal(await out(['cwd'], { cwd: tmp() }), tmp());
      });

      test('stdio: a parent fd number and ignore', async () => {
        const file = path.join(tmp(), 'stdout-fd.txt');
        const fd = openSync(file, 'w');
        try {
          const result = await run(['echo', 'to-file', 'write', '2', 'err'], { stdout: fd, stderr: 'ignore' });
          assert.equal(result.stdout, '');
          assert.equal(result.stderr, '');
        } finally {
          closeSync(fd);
        }
        assert.equal(readFileSync(file, 'utf8'), 'to-file\n');
      });

      test('a stdio fd the caller closes right after the call still reaches the child', async () => {
        const file = path.join(tmp(), `closed-at-once${label.length}.txt`);
        const fd = openSync(file, 'w');
        const child = run(['echo', 'still-there'], { stdout: fd });
        closeSync(fd);
        assert.equal((await child).exitCode, 0);
        assert.equal(readFileSync(file, 'utf8'), 'still-there\n');
      });

      test(
        'a dup2 from a parent fd the caller closes right after the call still reads that fd',
        async () => {
          const file = path.join(tmp(), `dup2-closed-at-once${label.length}.txt`);
          const fd = openSync(file, 'w');
          const child = run(['echo', 'via-dup2'], { actions: [{ op: 'dup2', from: fd, to: 1 }] });
          closeSync(fd);
          await child;
          assert.equal(readFileSync(file, 'utf8'), 'via-dup2\n');
        },
        ['dup2'],
        notOnWindows(ONLY_STDIO),
      );

      test('`started` gives the pid, `pid` holds it from then on, and a kill() sent before is applied', async () => {
        const child = run(['sleep', '20000'], { reject: false });
        assert.equal(child.kill('SIGKILL'), true);
        const pid = await child.started;
        assert.ok(Number.isInteger(pid) && pid > 0);
        assert.equal(child.pid, pid);
        const result = await child;
        assert.equal(result.pid, pid);
        assert.equal(result.signal, 'SIGKILL');
      });

      test(
        'a failure in the child before exec rejects `started` with the same typed error; pid stays undefined, no fd stays open',
        async () => {
          const before = process.platform === 'linux' ? openFds() : [];
          const child = run(['echo', 'never'], {
            actions: [{ op: 'open', fd: 0, path: path.join(tmp(), 'not-there', 'x'), flags: 'r' }],
          });
          const error = await child.started.then(
            () => assert.fail('started resolved'),
            (e: unknown) => e,
          );
          assert.equal((error as { errno?: string }).errno, 'ENOENT');
          await assert.rejects(Promise.resolve(child), (e) => e === error);
          if (!backend().capabilities.pidBeforeExec) assert.equal(child.pid, undefined);
          await new Promise((resolve) => setTimeout(resolve, 20)); // destroyed streams close their fds on a later tick
          if (process.platform === 'linux') assert.deepEqual(openFds(), before);
        },
        ['open'],
      );

      test('kill() ends the child with SIGTERM, and killSignal is honoured', async () => {
        const child = run(['sleep', '20000'], { reject: false });
        assert.ok(typeof (await child.started) === 'number' && child.pid === (await child.started) && child.pid > 0);
        setTimeout(() => child.kill(), 20);
        assert.equal((await child).signal, 'SIGTERM');
        const child2 = run(['sleep', '20000'], { reject: false, killSignal: 'SIGINT' });
        setTimeout(() => child2.kill(), 20);
        assert.equal((await child2).signal, 'SIGINT');
      });

      test('timeout kills the child and rejects with FORKEXEC_TIMEOUT', async () => {
        await rejectsWith(run(['sleep', '20000'], { timeout: 50 }), 'FORKEXEC_TIMEOUT', {
          timedOut: true,
          signal: 'SIGTERM',
        });
      });

      test(
        'forceKillAfterDelay escalates to SIGKILL',
        async () => {
          const result = await run(['sleep', '20000'], {
            reject: false,
            timeout: 50,
            killSignal: 'SIGCHLD',
            forceKillAfterDelay: 50,
          });
          assert.equal(result.signal, 'SIGKILL');
        },
        [],
        notOnWindows(`${NO_SIGNALS}: no signal leaves it running to escalate from`),
      );

      test('an AbortSignal cancels before and during the run', async () => {
        await rejectsWith(run(['exit', '0'], { signal: AbortSignal.abort() }), 'FORKEXEC_ABORTED');
        const controller = new AbortController();
        const child = run(['sleep', '20000'], { signal: controller.signal });
        setTimeout(() => controller.abort(), 20);
        await rejectsWith(child, 'FORKEXEC_ABORTED', { isCanceled: true });
      });

      test('maxBuffer is enforced with FORKEXEC_MAX_BUFFER', async () => {
        await rejectsWith(run(['spew', '1', String(4 * MiB)], { maxBuffer: 1000 }), 'FORKEXEC_MAX_BUFFER');
      });

      // Actions, each where the backend declares it.
      test(
        'dup2 sends stdout into a parent fd and onto a high fd',
        async () => {
          const file = path.join(tmp(), 'dup2.txt');
          const fd = openSync(file, 'w');
          try {
            await run(['echo', 'via-dup2', 'write', '7', 'on-seven'], {
              actions: [
                { op: 'dup2', from: fd, to: 1 },
                { op: 'dup2', from: fd, to: 7 },
              ],
            });
          } finally {
            closeSync(fd);
          }
          assert.equal(readFileSync(file, 'utf8'), 'via-dup2\non-seven');
        },
        ['dup2'],
        notOnWindows(ONLY_STDIO),
      );

      test(
        'dup2(2, 1) makes stdout share stderr',
        async () => {
          const result = (await run(['echo', 'both'], { actions: [{ op: 'dup2', from: 2, to: 1 }] }).catch(
            (e: unknown) => e,
          )) as Record<string, unknown>;
          if (result.code === 'FORKEXEC_UNSUPPORTED_ACTION') return; // a backend may refuse to share a pipe, but must say so
          assert.equal(result.stderr, 'both');
          assert.equal(result.stdout, '');
        },
        ['dup2'],
      );

      test(
        'open puts a file onto an fd, created with the given mode',
        async () => {
          const file = path.join(tmp(), 'opened.txt');
          await run(['echo', 'opened'], { actions: [{ op: 'open', fd: 1, path: file, flags: 'w', mode: 0o600 }] });
          assert.equal(readFileSync(file, 'utf8'), 'opened\n');
          await run(['echo', 'again'], { actions: [{ op: 'open', fd: 1, path: file, flags: 'a' }] });
          assert.equal(readFileSync(file, 'utf8'), 'opened\nagain\n');
          assert.equal(await out(['cat'], { actions: [{ op: 'open', fd: 0, path: file }] }), 'opened\nagain');
        },
        ['open'],
      );

      test(
        'close removes an fd the request gave the child',
        async () => {
          const fd = openSync(path.join(tmp(), 'close.txt'), 'w');
          try {
            assert.equal(
              unasked(
                await out(['fds'], {
                  actions: [
                    { op: 'dup2', from: fd, to: 9 },
                    { op: 'close', fd: 9 },
                  ],
                }),
              ),
              '0 1 2',
            );
          } finally {
            closeSync(fd);
          }
        },
        ['dup2', 'close'],
        notOnWindows(`${ONLY_STDIO}, and the probe cannot list fds there`),
      );

      test(
        'chdir',
        async () => {
          assert.equal(await out(['cwd'], { actions: [{ op: 'chdir', path: tmp() }] }), tmp());
        },
        ['chdir'],
      );

      test(
        'setsid makes the child a session leader',
        async () => {
          const ids = parseIds(await out(['ids'], { actions: [{ op: 'setsid' }] }));
          assert.equal(ids.sid, ids.pid);
          assert.equal(ids.pgid, ids.pid);
          const detached = parseIds(await out(['ids'], { detached: true }));
          assert.equal(detached.sid, detached.pid);
        },
        ['setsid'],
      );

      test(
        'setpgid(0) makes the child a group leader in the same session',
        async () => {
          const ids = parseIds(await out(['ids'], { actions: [{ op: 'setpgid', pgid: 0 }] }));
          assert.equal(ids.pgid, ids.pid);
          assert.notEqual(ids.sid, ids.pid);
        },
        ['setpgid'],
      );

      test(
        'umask',
        async () => {
          assert.equal(await out(['umask'], { actions: [{ op: 'umask', mask: 0o077 }] }), '077');
        },
        ['umask'],
      );

      test(
        'signals: defaults restored, a chosen one ignored, an empty mask',
        async () => {
          const sigs = await out(['sigs'], {
            actions: [
              { op: 'sigdefault', signals: 'all' },
              { op: 'sigmask', signals: [] },
            ],
          });
          assert.equal(sigs, 'blocked= ignored=');
        },
        ['sigdefault', 'sigmask'],
      );

      test(
        'sigmask blocks the listed signals',
        async () => {
          const sigs = await out(['sigs'], { actions: [{ op: 'sigmask', signals: ['SIGUSR1', 'SIGUSR2'] }] });
          assert.match(sigs, new RegExp(`blocked=${osConstants.signals.SIGUSR1},${osConstants.signals.SIGUSR2} `));
        },
        ['sigmask'],
        () => (backend().name === 'node' ? 'child_process always empties the mask' : undefined),
      );

      test(
        'sigignore',
        async () => {
          const sigs = await out(['sigs'], { actions: [{ op: 'sigignore', signals: ['SIGHUP'] }] });
          assert.match(sigs, /ignored=1$/);
        },
        ['sigignore'],
      );

      test(
        'closefrom leaves only the fds below it',
        async () => {
          const fd = openSync(path.join(tmp(), 'closefrom.txt'), 'w');
          try {
            const fds = await out(['fds'], {
              actions: [
                { op: 'dup2', from: fd, to: 4 },
                { op: 'dup2', from: fd, to: 12 },
                { op: 'closefrom', fd: 5 },
              ],
            });
            assert.equal(fds, '0 1 2 4');
          } finally {
            closeSync(fd);
          }
        },
        ['closefrom', 'dup2'],
      );

      const asRoot = () => (process.getuid?.() === 0 ? undefined : 'needs root');
      /** After setuid the probe must be reachable by `nobody`: the checkout may sit in a private folder. */
      const publicProbe = () => {
        chmodSync(tmp(), 0o755);
        return publicProbeCopy(path.join(tmp(), 'public'));
      };
      const runAsNobody = async (actions: Action[]) =>
        parseIds(
          (
            (await forkBeforeExec(publicProbe(), ['ids'], {
              backend: backend(),
              ...start,
              actions,
              cwd: '/',
            })) as Result<string>
          ).stdout,
        );
      test(
        'setgroups, setgid, setuid in that order drop privileges',
        async () => {
          const actions: Action[] = [
            { op: 'setgroups', groups: [65534] },
            { op: 'setgid', gid: 65534 },
            { op: 'setuid', uid: 65534 },
          ];
          const ids = await runAsNobody(actions);
          assert.deepEqual([ids.uid, ids.gid, ids.groups], [65534, 65534, '65534']);
        },
        ['setgroups', 'setgid', 'setuid'],
        asRoot,
      );

      test(
        'setgid and setuid',
        async () => {
          const ids = await runAsNobody([
            { op: 'setgid', gid: 65534 },
            { op: 'setuid', uid: 65534 },
          ]);
          assert.deepEqual([ids.uid, ids.gid], [65534, 65534]);
        },
        ['setgid', 'setuid'],
        asRoot,
      );

      test(
        'setrlimit',
        async () => {
          assert.equal(
            await out(['rlimit', 'nofile'], {
              actions: [{ op: 'setrlimit', resource: 'nofile', soft: 123, hard: 456 }],
            }),
            '123 456',
          );
        },
        ['setrlimit'],
      );

      test(
        'nice',
        async () => {
          const base = Number(await out(['nice']));
          assert.equal(Number(await out(['nice'], { actions: [{ op: 'nice', inc: 5 }] })), Math.min(19, base + 5));
        },
        ['nice'],
      );

      test(
        'actions run in order: open onto 1 then dup2(1, 2)',
        async () => {
          const file = path.join(tmp(), 'order.txt');
          await run(['echo', 'out', 'write', '2', 'err'], {
            actions: [
              { op: 'open', fd: 1, path: file, flags: 'w' },
              { op: 'dup2', from: 1, to: 2 },
            ],
          });
          assert.equal(readFileSync(file, 'utf8'), 'out\nerr');
        },
        ['open', 'dup2'],
      );

      test('an action the backend lacks is refused up front, naming the op', async () => {
        const all: ActionOp[] = [
          'dup2',
          'close',
          'open',
          'chdir',
          'setsid',
          'setpgid',
          'umask',
          'sigdefault',
          'sigignore',
          'sigmask',
          'closefrom',
          'setuid',
          'setgid',
          'setgroups',
          'setrlimit',
          'nice',
        ];
        const missing = all.find((op) => !supports(op));
        if (!missing) return;
        const samples: Record<ActionOp, Action> = {
          dup2: { op: 'dup2', from: 1, to: 1 },
          close: { op: 'close', fd: 9 },
          open: { op: 'open', fd: 5, path: '/dev/null' },
          chdir: { op: 'chdir', path: '/' },
          setsid: { op: 'setsid' },
          setpgid: { op: 'setpgid', pgid: 0 },
          umask: { op: 'umask', mask: 0o22 },
          sigdefault: { op: 'sigdefault', signals: 'all' },
          sigignore: { op: 'sigignore', signals: ['SIGHUP'] },
          sigmask: { op: 'sigmask', signals: [] },
          closefrom: { op: 'closefrom', fd: 3 },
          setuid: { op: 'setuid', uid: 0 },
          setgid: { op: 'setgid', gid: 0 },
          setgroups: { op: 'setgroups', groups: [] },
          setrlimit: { op: 'setrlimit', resource: 'core', soft: 0, hard: 0 },
          nice: { op: 'nice', inc: 1 },
        };
        await rejectsWith(run(['exit', '0'], { actions: [samples[missing]] }), 'FORKEXEC_UNSUPPORTED_ACTION', {
          actionIndex: 0,
        });
      });

      // Errors and bad input.
      test('a missing program is ENOENT', async () => {
        await rejectsWith(
          forkBeforeExec('forkexec-no-such-program', [], { backend: backend(), ...start }),
          'FORKEXEC_SPAWN',
          { errno: 'ENOENT' },
        );
        await rejectsWith(
          forkBeforeExec(path.join(tmp(), 'missing'), [], { backend: backend(), ...start }),
          'FORKEXEC_SPAWN',
          { errno: 'ENOENT' },
        );
      });

      test('a non-executable file and a directory are EACCES', async () => {
        const file = path.join(tmp(), 'not-executable');
        writeFileSync(file, '#!/bin/sh\n');
        chmodSync(file, 0o644);
        await rejectsWith(forkBeforeExec(file, [], { backend: backend(), ...start }), 'FORKEXEC_SPAWN', {
          errno: 'EACCES',
        });
        await rejectsWith(forkBeforeExec(tmp(), [], { backend: backend(), ...start }), 'FORKEXEC_SPAWN', {
          errno: 'EACCES',
        });
      });

      test(
        'a program changed since it ran is refused as a fresh check refuses it, and never run by /bin/sh',
        async () => {
          const file = path.join(tmp(), `changing-${++changingPrograms}`);
          const runIt = () => forkBeforeExec(file, [], { backend: backend(), ...start });
          const refusal = async (errno: string, why: RegExp) => {
            const error = (await runIt().then(
              () => undefined,
              (e: unknown) => e,
            )) as { errno?: string; message: string } | undefined;
            assert.equal(error?.errno, errno, `expected ${errno}, got ${String(error?.message)}`);
            assert.match(error.message, why);
          };
          writeFileSync(file, '#!/bin/sh\necho ran\n', { mode: 0o755 });
          assert.equal((await runIt()).stdout, 'ran');
          chmodSync(file, 0o644);
          await refusal('EACCES', /is not executable/);
          chmodSync(file, 0o755);
          assert.equal((await runIt()).stdout, 'ran');
          writeFileSync(file, `touch ${file}.ran-by-sh\n`);
          await refusal('ENOEXEC', /neither a binary nor a script/);
          assert.equal(existsSync(`${file}.ran-by-sh`), false, 'a shell ran the file');
          writeFileSync(file, '#!/bin/sh\necho again\n');
          assert.equal((await runIt()).stdout, 'again');
          writeFileSync(file, '#!/nonexistent/interpreter\n');
          await refusal('ENOENT', /needs the interpreter \/nonexistent\/interpreter/);
          rmSync(file);
          await refusal('ENOENT', /does not exist/);
        },
        [],
        notOnWindows('Windows has no execute bit, no #! scripts and no /bin/sh fallback'),
      );

      test('empty file name, NUL bytes and non-string arguments are refused before running', async () => {
        await rejectsWith(forkBeforeExec('', [], { backend: backend(), ...start }), 'FORKEXEC_INVALID_ARGUMENT');
        await rejectsWith(forkBeforeExec('tr\0ue', [], { backend: backend(), ...start }), 'FORKEXEC_INVALID_ARGUMENT');
        await rejectsWith(run(['echo', 'a\0b']), 'FORKEXEC_INVALID_ARGUMENT');
        await rejectsWith(run(['exit', '0'], { env: { BAD: 'x\0y' } }), 'FORKEXEC_INVALID_ARGUMENT');
        await rejectsWith(run(['exit', '0'], { env: { 'A=B': 'x' } }), 'FORKEXEC_INVALID_ARGUMENT');
        await rejectsWith(run(['exit', 0 as unknown as string]), 'FORKEXEC_INVALID_ARGUMENT');
      });

      test('bad actions are refused with the index of the action', async () => {
        await rejectsWith(
          run(['exit', '0'], {
            actions: [
              { op: 'chdir', path: '/' },
              { op: 'dup2', from: -1, to: 1 },
            ],
          }),
          'FORKEXEC_INVALID_ACTION',
          { actionIndex: 1 },
        );
        await rejectsWith(
          run(['exit', '0'], { actions: [{ op: 'chdir', path: 'relative' }] }),
          'FORKEXEC_INVALID_ACTION',
          { actionIndex: 0 },
        );
        await rejectsWith(
          run(['exit', '0'], { actions: [{ op: 'fork' } as unknown as Action] }),
          'FORKEXEC_INVALID_ACTION',
          { actionIndex: 0 },
        );
        await rejectsWith(
          run(['exit', '0'], { actions: [{ op: 'dup2', from: 987654, to: 1 }] }),
          'FORKEXEC_INVALID_ACTION',
          { errno: 'EBADF' },
        );
      });

      // Load and hygiene.
      test('200 concurrent spawns each get their own output', async () => {
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) => run(['echo', `child-${i}`, 'exit', String(i % 7)], { reject: false })),
        );
        results.forEach((r, i) => {
          assert.equal(r.stdout, `child-${i}`);
          assert.equal(r.exitCode, i % 7);
        });
      });

      test(
        'no parent fd leaks into the child, and the parent keeps no fds afterwards',
        async () => {
          const parentFile = openSync(path.join(tmp(), 'parent-only.txt'), 'w');
          try {
            const before = openFds();
            for (let i = 0; i < 20; i++) assert.equal(unasked(await out(['fds'])), '0 1 2');
            await new Promise((resolve) => setTimeout(resolve, 50));
            assert.deepEqual(openFds(), before);
          } finally {
            closeSync(parentFile);
          }
        },
        [],
        () => (process.platform === 'linux' ? undefined : 'reads /proc'),
      );

      test(
        'no zombie is left behind',
        async () => {
          const pids = (await Promise.all(Array.from({ length: 50 }, () => run(['exit', '0'])))).map((r) => r.pid!);
          await new Promise((resolve) => setTimeout(resolve, 50));
          for (const pid of pids) {
            let state = 'gone';
            try {
              state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
            } catch {}
            assert.notEqual(state, 'Z', `pid ${pid} is a zombie`);
          }
        },
        [],
        () => (process.platform === 'linux' ? undefined : 'reads /proc'),
      );
    });
  }

  if (typeof (globalThis as { afterAll?: unknown }).afterAll === 'function')
    (globalThis as unknown as { afterAll: (fn: () => void) => void }).afterAll(
      () => scratch && rmSync(scratch, { recursive: true, force: true }),
    );
}

function parseIds(line: string): { pid: number; pgid: number; sid: number; uid: number; gid: number; groups: string } {
  const fields = Object.fromEntries(line.split(' ').map((kv) => kv.split('=')));
  return {
    pid: +fields.pid,
    pgid: +fields.pgid,
    sid: +fields.sid,
    uid: +fields.uid,
    gid: +fields.gid,
    groups: fields.groups,
  };
}
