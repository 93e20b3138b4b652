/**
 * The same calls through Node's child_process and through @forkexec/core/child_process, with the
 * observable results compared (events and their order, exit codes, signals, output, error fields),
 * and the route each call took checked in the drop-in's report.
 */
import * as node from 'node:child_process';
import { once } from 'node:events';
import {
  closeSync,
  createWriteStream,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify, types } from 'node:util';
import { loadBackend } from '@forkexec/core';
import * as forkexec from '@forkexec/core/child_process';

type Module = Pick<typeof node, 'spawn' | 'execFile' | 'exec'>;
type Scenario = (cp: Module) => Promise<unknown>;

/** The fields an error shows to a caller. */
function errorView(error: unknown): Record<string, unknown> | undefined {
  // Jest's globals are another realm's: Node's own errors are not `instanceof Error` there.
  if (!types.isNativeError(error) && !(error instanceof Error)) return error as undefined;
  const e = error as Error & Record<string, unknown>;
  const view: Record<string, unknown> = { class: e.constructor.name, name: e.name, message: e.message };
  for (const key of ['code', 'errno', 'syscall', 'path', 'spawnargs', 'killed', 'signal', 'cmd', 'stdout', 'stderr'])
    if (key in e) view[key] = e[key];
  if (e.cause !== undefined) view.cause = e.cause;
  return view;
}

/** Runs a spawned child to 'close' and tells what a caller saw: events in order, fields, output. */
function observe(child: node.ChildProcess, act?: (child: node.ChildProcess) => void): Promise<Record<string, unknown>> {
  const events: unknown[] = [];
  const output = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  return new Promise((resolve) => {
    child.on('spawn', () => {
      events.push('spawn');
      act?.(child);
    });
    child.on('error', (error) => events.push(['error', errorView(error)]));
    child.on('exit', (code, signal) => events.push(['exit', code, signal]));
    child.on('close', (code, signal) => {
      events.push(['close', code, signal]);
      resolve({
        events,
        ...output,
        pid: typeof child.pid,
        exitCode: child.exitCode,
        signalCode: child.signalCode,
        killed: child.killed,
        stdio: child.stdio.map((s) => (s === null ? null : typeof s)),
        spawnfile: child.spawnfile,
        spawnargs: child.spawnargs,
        instance: child instanceof node.ChildProcess,
      });
    });
  });
}

/** Every backend of this platform with a fast path (the drop-in sends everything to Node's own on Windows). */
const BACKENDS = process.platform === 'linux' ? ['ntdll', 'helper-exe'] : [];
const backend = () => process.env.FORKEXEC_BACKEND;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-cp-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const name of BACKENDS) await loadBackend(name).dispose?.(); // a helper pool would keep Jest waiting
});

const fastCalls = (r: forkexec.DropInReport) => Object.values(r.fast).reduce((a, b) => a + b, 0);
const nodeCalls = (r: forkexec.DropInReport) =>
  Object.values(r.node).reduce((a, reasons) => a + Object.values(reasons).reduce((x, y) => x + y, 0), 0);

/**
 * Runs `scenario` through both modules: the results must be equal, and ours must take `route`
 * (`either`: the backend may refuse at once, then Node runs it, or learn the failure after the start).
 */
async function expectSame(scenario: Scenario, route: 'fast' | 'node' | 'either'): Promise<unknown> {
  const expected = await scenario(node);
  const before = forkexec.dropInReport();
  const actual = await scenario(forkexec);
  const after = forkexec.dropInReport();
  expect(actual).toEqual(expected);
  if (route !== 'node')
    expect(fastCalls(after) + nodeCalls(after)).toBeGreaterThan(fastCalls(before) + nodeCalls(before));
  if (route === 'fast') expect([fastCalls(after) > fastCalls(before), after.backend]).toEqual([true, backend()]);
  if (route === 'node') expect(nodeCalls(after)).toBeGreaterThan(nodeCalls(before));
  return actual;
}

describe.each(BACKENDS)('on %s', (name) => {
  beforeAll(() => {
    process.env.FORKEXEC_BACKEND = name;
  });
  afterAll(() => {
    delete process.env.FORKEXEC_BACKEND;
  });

  describe('spawn, side by side with Node', () => {
    test('output, exit code, events in order, fields', async () => {
      const result = await expectSame(
        (cp) => observe(cp.spawn('sh', ['-c', 'echo out; echo err >&2; exit 3'])),
        'fast',
      );
      expect(result).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 3, instance: true });
    });

    test('a signal from kill(): killed, signalCode, and kill() after the exit returns false', async () => {
      await expectSame(async (cp) => {
        const sent: unknown[] = [];
        const seen = await observe(cp.spawn('sleep', ['10']), (child) => sent.push(child.kill('sigint')));
        return { ...seen, sent, again: (seen as { killed: boolean }) && undefined };
      }, 'fast');
      await expectSame(async (cp) => {
        const child = cp.spawn('true');
        await new Promise((resolve) => child.on('close', resolve));
        return [child.kill(), child.killed];
      }, 'fast');
    });

    test('kill() with an unknown signal throws Node’s error', async () => {
      await expectSame(async (cp) => {
        const child = cp.spawn('sleep', ['10']);
        let thrown: unknown;
        try {
          child.kill('SIGNOPE' as NodeJS.Signals);
        } catch (error) {
          thrown = errorView(error);
        }
        child.kill(9);
        return { thrown, seen: await observe(child) };
      }, 'fast');
    });

    test('stdin: written, ended, read back', async () => {
      await expectSame(async (cp) => {
        const child = cp.spawn('cat');
        child.stdin!.end('line one\nline two');
        return observe(child);
      }, 'fast');
    });

    test('stdio forms: a string for all three, arrays with ignore/inherit/null/fd, short arrays', async () => {
      for (const stdio of [
        'ignore',
        'pipe',
        'overlapped',
        ['ignore', 'pipe', 'ignore'],
        [null, 'pipe'],
        ['pipe', 'pipe', 'pipe', 'ignore', null],
      ] as node.StdioOptions[])
        await expectSame((cp) => observe(cp.spawn('sh', ['-c', 'echo to-out; echo to-err >&2'], { stdio })), 'fast');
    });

    test('a parent fd above 2 becomes that fd in the child', async () => {
      await expectSame(async (cp) => {
        const file = path.join(dir, `fd3-${cp === node ? 'node' : 'fx'}`);
        const fd = openSync(file, 'w');
        const seen = await observe(
          cp.spawn('sh', ['-c', 'echo via-three >&3'], { stdio: ['pipe', 'pipe', 'pipe', fd] }),
        );
        closeSync(fd);
        return { seen, written: readFileSync(file, 'utf8') };
      }, 'fast');
    });

    test('a stream with an fd in stdio (an opened fs stream) is that fd', async () => {
      await expectSame(async (cp) => {
        const file = path.join(dir, `stream-${cp === node ? 'node' : 'fx'}`);
        const stream = createWriteStream(file);
        await once(stream, 'open');
        const seen = await observe(
          cp.spawn('sh', ['-c', 'echo via-stream; echo also >&3'], { stdio: ['pipe', stream, 'pipe', stream] }),
        );
        stream.close();
        return { seen, written: readFileSync(file, 'utf8') };
      }, 'fast');
    });

    test('env replaces the environment (values made strings), cwd as a string and as a URL, argv0', async () => {
      await expectSame(
        (cp) => observe(cp.spawn('/usr/bin/env', [], { env: { A: '1', B: 2, C: true, D: undefined } as never })),
        'fast',
      );
      await expectSame((cp) => observe(cp.spawn('pwd', { cwd: dir })), 'fast');
      await expectSame((cp) => observe(cp.spawn('pwd', [], { cwd: pathToFileURL(dir) })), 'fast');
      await expectSame((cp) => observe(cp.spawn('sh', ['-c', 'echo $0'], { argv0: 'named' })), 'fast');
    });

    test('shell: true runs /bin/sh -c with the words joined; a shell by name too', async () => {
      const seen = await expectSame((cp) => observe(cp.spawn('echo $0', ['"a  b"'], { shell: true })), 'fast');
      expect(seen).toMatchObject({ stdout: '/bin/sh a  b\n', spawnargs: ['/bin/sh', '-c', 'echo $0 "a  b"'] });
      await expectSame((cp) => observe(cp.spawn('echo $0', { shell: 'sh' })), 'fast');
    });

    test('detached: the child leads a session of its own', async () => {
      await expectSame(async (cp) => {
        const child = cp.spawn('sh', ['-c', 'cut -d" " -f6 /proc/$$/stat'], { detached: true });
        const seen = (await observe(child)) as { stdout: string };
        return seen.stdout.trim() === String(child.pid);
      }, 'fast');
    });

    test('timeout kills with killSignal', async () => {
      await expectSame((cp) => observe(cp.spawn('sleep', ['10'], { timeout: 50, killSignal: 'SIGUSR1' })), 'fast');
    });

    test('an AbortSignal: AbortError with the reason as cause, then the exit; also when aborted before the call', async () => {
      await expectSame(async (cp) => {
        const controller = new AbortController();
        return observe(cp.spawn('sleep', ['10'], { signal: controller.signal }), () => controller.abort('stop it'));
      }, 'fast');
      await expectSame((cp) => observe(cp.spawn('sleep', ['10'], { signal: AbortSignal.abort('early') })), 'fast');
    });

    test('[Symbol.dispose] kills a running child', async () => {
      await expectSame(async (cp) => {
        const child = cp.spawn('sleep', ['10']);
        return observe(child, () => (child as unknown as Disposable)[Symbol.dispose]());
      }, 'fast');
    });

    test('the program is found as Node finds it: PATH of the given env, a relative path against cwd, a script without #!', async () => {
      writeFileSync(path.join(dir, 'no-shebang'), 'echo from script\n', { mode: 0o755 });
      writeFileSync(path.join(dir, 'with-shebang'), '#!/bin/sh\necho "$0"\n', { mode: 0o755 });
      await expectSame((cp) => observe(cp.spawn('ls', [dir], { env: {} })), 'either');
      await expectSame((cp) => observe(cp.spawn('with-shebang', { env: { PATH: dir } })), 'fast');
      await expectSame((cp) => observe(cp.spawn('./with-shebang', { cwd: dir })), 'node');
      await expectSame((cp) => observe(cp.spawn('./no-shebang', { cwd: dir })), 'either');
      await expectSame((cp) => observe(cp.spawn(dir)), 'either');
    });

    test('what the backend cannot do exactly goes to Node: uid, a pipe above fd 2, a stream', async () => {
      await expectSame((cp) => observe(cp.spawn('forkexec-no-such-program', ['a'])), 'either');
      await expectSame((cp) => observe(cp.spawn('true', { uid: process.getuid!() })), 'node');
      await expectSame(
        (cp) => observe(cp.spawn('sh', ['-c', 'echo x >&3'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] })),
        'node',
      );
      await expectSame(async (cp) => {
        // A pipe socket of another child's: a stream with a handle and no fd property, which Node wraps.
        const other = node.spawn('sleep', ['5'], { stdio: ['ignore', 'pipe', 'ignore'] });
        const seen = await observe(cp.spawn('true', { stdio: [other.stdout, 'pipe', 'pipe'] }));
        other.kill();
        return seen;
      }, 'node');
      const report = forkexec.dropInReport().node.spawn!;
      expect(Object.keys(report).join('\n')).toMatch(
        /uid\/gid[^]*stdio entry 'pipe' above fd 2[^]*stdio entry a stream without an fd/,
      );
    });

    test('arguments Node refuses throw Node’s own errors', async () => {
      for (const call of [
        (cp: Module) => cp.spawn(42 as never),
        (cp: Module) => cp.spawn('true', { timeout: -1 }),
        (cp: Module) => cp.spawn('true', { killSignal: 'SIGNOPE' as never }),
        (cp: Module) => cp.spawn('true', ['a\0b']),
      ])
        await expectSame(async (cp) => {
          try {
            call(cp);
          } catch (error) {
            return errorView(error);
          }
          return 'no throw';
        }, 'node');
    });
  });

  describe('execFile and exec, side by side with Node', () => {
    /** The callback's arguments (the child's fields too). */
    const callback = (start: (cb: (...args: unknown[]) => void) => node.ChildProcess) =>
      new Promise((resolve) => {
        const child = start((error, stdout, stderr) =>
          resolve({ error: errorView(error), stdout, stderr, killed: child.killed, exitCode: child.exitCode }),
        );
      });

    test('success and failure, strings and buffers', async () => {
      await expectSame((cp) => callback((cb) => cp.execFile('sh', ['-c', 'echo hi; echo oh >&2'], cb)), 'fast');
      await expectSame((cp) => callback((cb) => cp.execFile('sh', ['-c', 'echo bad >&2; exit 7'], cb)), 'fast');
      await expectSame((cp) => callback((cb) => cp.execFile('printf', ['\\377'], { encoding: 'buffer' }, cb)), 'fast');
      await expectSame((cp) => callback((cb) => cp.execFile('sh', ['-c', 'kill -TERM $$'], cb)), 'fast');
    });

    test('maxBuffer names the stream and cuts the output; timeout kills', async () => {
      await expectSame(
        (cp) => callback((cb) => cp.execFile('sh', ['-c', 'echo 0123456789; sleep 10'], { maxBuffer: 4 }, cb)),
        'fast',
      );
      await expectSame(
        (cp) => callback((cb) => cp.execFile('sh', ['-c', 'echo abcdef >&2; sleep 10'], { maxBuffer: 3 }, cb)),
        'fast',
      );
      await expectSame((cp) => callback((cb) => cp.execFile('sleep', ['10'], { timeout: 50 }, cb)), 'fast');
    });

    test('a missing program', async () => {
      await expectSame((cp) => callback((cb) => cp.execFile('forkexec-no-such-program', ['x'], cb)), 'either');
    });

    test('exec runs the shell; util.promisify gives { stdout, stderr } and a child, and errors carry the output', async () => {
      await expectSame((cp) => callback((cb) => cp.exec('echo $0 && echo two', cb)), 'fast');
      await expectSame((cp) => callback((cb) => cp.exec('echo $0', { shell: 'sh' }, cb)), 'fast');
      await expectSame(async (cp) => {
        const promise = promisify(cp.exec)('echo out; echo err >&2');
        return { ...(await promise), child: promise.child instanceof node.ChildProcess };
      }, 'fast');
      await expectSame(
        (cp) =>
          promisify(cp.execFile)('sh', ['-c', 'echo o; echo e >&2; exit 2']).then(
            () => 'resolved',
            (error: unknown) => errorView(error),
          ),
        'fast',
      );
    });
  });

  describe('fork, side by side with Node', () => {
    const CHILD = path.join(__dirname, 'fixtures', 'drop-in', 'fork-child.cjs');
    type Fork = (cp: typeof node) => node.ChildProcess;

    /**
     * Forks, sends `message`, then does `afterReply` with the child's first answer; tells what the
     * parent saw up to `until` ('close', or 'exit' where Node never emits 'close': the parent disconnected).
     */
    function observeFork(
      start: Fork,
      message: unknown,
      afterReply: (child: node.ChildProcess) => unknown,
      until: 'close' | 'exit' = 'close',
    ): Scenario {
      return async (cp) => {
        const child = start(cp as typeof node);
        const events: unknown[] = [];
        const output = { stdout: '', stderr: '' };
        const drained = [child.stdout, child.stderr].map((stream) => (stream ? once(stream, 'close') : undefined));
        child.stdout?.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
        child.stderr?.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
        child.on('spawn', () => events.push('spawn'));
        child.on('error', (error) => events.push(['error', errorView(error)]));
        child.on('disconnect', () => events.push(['disconnect', child.connected]));
        child.on('exit', (code, signal) => events.push(['exit', code, signal]));
        child.on('close', (code, signal) => events.push(['close', code, signal]));
        child.once('message', (reply) => {
          events.push(['message', reply]);
          events.push(['after', afterReply(child)]);
        });
        events.push(['sent', child.send(message), child.connected]);
        await once(child, until);
        await Promise.all(drained);
        return {
          events,
          ...output,
          stdio: child.stdio.map((s) => (s === null ? null : typeof s)),
          spawnargs: child.spawnargs,
          instance: child instanceof node.ChildProcess,
          sendError: errorView((child as unknown as { sendError?: unknown }).sendError),
          channel: child.channel === undefined ? 'undefined' : child.channel === null ? null : typeof child.channel,
        };
      };
    }
    const bye = (child: node.ChildProcess) => child.send('bye');

    test("json: a round trip, then the child disconnects; execArgv, args and the child's view of its channel", async () => {
      const result = await expectSame(
        observeFork(
          (cp) => cp.fork(CHILD, ['stay', 'x y'], { execArgv: ['--stack-size=2000'] }),
          { text: 'é\n', list: [1, null, 'z'], nested: { deep: true } },
          bye,
        ),
        'fast',
      );
      expect(result).toMatchObject({ stdout: '', stderr: '' }); // inherited, not piped
      expect((result as { events: unknown[][] }).events[2]).toMatchObject([
        'message',
        { argv: ['stay', 'x y'], execArgv: ['--stack-size=2000'], channelFd: 3, envKeys: [], connected: true },
      ]);
    });

    test("'advanced': values JSON cannot carry make the round trip", async () => {
      const message = {
        big: 2n ** 70n,
        map: new Map([[1, { when: new Date(0) }]]),
        set: new Set(['a']),
        bytes: new Uint8Array([1, 2, 3]),
        buffer: Buffer.from('hi'),
        regexp: /x/g,
      };
      const result = await expectSame(
        observeFork((cp) => cp.fork(CHILD, ['stay'], { serialization: 'advanced', silent: true }), message, bye),
        'fast',
      );
      expect((result as { events: unknown[][] }).events[2]![1]).toMatchObject({ got: { big: 2n ** 70n } });
    });

    test('the parent disconnects: the child sees it, its late send fails, and so does the parent’s', async () => {
      const result = await expectSame(
        observeFork(
          (cp) => cp.fork(CHILD, ['late-send'], { silent: true }),
          'hi',
          (child) => {
            child.disconnect();
            const sent = child.send(
              'after',
              (error) => ((child as unknown as { sendError: unknown }).sendError = error),
            );
            return [sent, child.connected];
          },
          'exit',
        ),
        'fast',
      );
      expect(result).toMatchObject({
        stdout: 'out late-send\nlate send: ERR_IPC_CHANNEL_CLOSED\n',
        sendError: { code: 'ERR_IPC_CHANNEL_CLOSED' },
      });
    });

    test('exit codes, and stdio with the channel at fd 4', async () => {
      const result = await expectSame(
        observeFork(
          (cp) => cp.fork(CHILD, ['exit3'], { stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ipc'] }),
          'hi',
          () => 'nothing',
        ),
        'fast',
      );
      expect(result).toMatchObject({ stdio: [null, 'object', 'object', null, null], stdout: 'out exit3\n' });
      expect(JSON.stringify(result)).toContain('"channelFd":4');
    });

    test("stdio as one word, and 'ipc' among the first three", async () => {
      await expectSame(
        observeFork((cp) => cp.fork(CHILD, ['stay'], { stdio: 'pipe' }), 1, bye),
        'fast',
      );
      await expectSame(
        observeFork((cp) => cp.fork(CHILD, ['stay'], { stdio: ['ipc', 'pipe', 'inherit'] }), [true], bye),
        'fast',
      );
    });

    test('calls Node throws for are thrown by Node', async () => {
      for (const cp of [node, forkexec as unknown as typeof node]) {
        expect(() => cp.fork(CHILD, { stdio: ['pipe', 'pipe', 'pipe'] })).toThrow(
          expect.objectContaining({ code: 'ERR_CHILD_PROCESS_IPC_REQUIRED' }),
        );
        expect(() => cp.fork(CHILD, { stdio: 'bogus' as 'pipe' })).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
        );
      }
    });

    test('no fd is left open in the parent, whichever side disconnects', async () => {
      const roundTrip = async (parentDisconnects: boolean) => {
        const child = forkexec.fork(CHILD, ['stay'], { silent: true });
        const ended = Promise.all([once(child, 'exit'), once(child.stdout!, 'close'), once(child.stderr!, 'close')]);
        child.stdout!.resume();
        child.stderr!.resume();
        child.send('hi');
        await once(child, 'message');
        if (parentDisconnects) child.disconnect();
        else child.send('bye');
        await ended;
        await new Promise(setImmediate);
      };
      const open = () => readdirSync('/proc/self/fd').length;
      await roundTrip(true);
      const before = open();
      for (const parentDisconnects of [true, false, true, false]) await roundTrip(parentDisconnects);
      expect(open()).toBe(before);
    });

    test('send with a handle: a typed error through the callback, counted as refused', async () => {
      const refused = () => Object.values(forkexec.dropInReport().refused?.fork ?? {}).reduce((a, b) => a + b, 0);
      const before = refused();
      const child = forkexec.fork(CHILD, ['stay']);
      const server = (await import('node:net')).createServer();
      const [error] = (await new Promise((resolve) => child.send('x', server, (e) => resolve([e])))) as [
        Error & { code?: string },
      ];
      expect(error).toMatchObject({ code: 'FORKEXEC_UNSUPPORTED_ACTION' });
      expect(refused()).toBe(before + 1);
      child.disconnect();
      await once(child, 'exit');
    });
  });
});
