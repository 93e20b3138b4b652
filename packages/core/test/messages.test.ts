import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, nodeBackend, probeBackend, type Backend, type ForkExecError } from '@forkexec/core';
import { backend as helperExe } from '@forkexec/helper-exe';
import { backend as ntdll } from '@forkexec/ntdll-backend';

const backends: Backend[] = [nodeBackend, ntdll, helperExe].filter(
  (b) => b.capabilities.platforms.includes(process.platform) && probeBackend(b).ok,
);
afterAll(() => Promise.all(backends.map((backend) => backend.dispose?.())));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-messages-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const failure = (promise: PromiseLike<unknown>) =>
  Promise.resolve(promise).then(
    () => {
      throw new Error('it ran');
    },
    (error: unknown) => error as ForkExecError,
  );

const occurrences = (text: string, part: string) => text.split(part).length - 1;

describe('messages are bounded', () => {
  test('a 4 MiB argument makes a short message that names it and its size', async () => {
    const error = await failure(forkBeforeExec('echo', ['x'.repeat(4 << 20)]));
    expect(error).toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'E2BIG' });
    expect(error.message.length).toBeLessThan(1500);
    expect(error.message).toMatch(/^args\[0\] is 4194304 bytes/);
    expect(error.message).toContain('…(4194304 characters)');
    expect(error.command!.length).toBeLessThan(400);
  });

  test('arguments over ARG_MAX together: the message names the largest, and stays short', async () => {
    const args = Array.from({ length: 80 }, (_, i) => `${i}`.padEnd(100_000, 'y'));
    const error = await failure(forkBeforeExec('true', args));
    expect(error).toMatchObject({ errno: 'E2BIG', message: expect.stringMatching(/the largest is args\[\d+\]/) });
    expect(error.message.length).toBeLessThan(3500);
    expect(error.message).toMatch(/…\(\d+ more arguments\)/);
  });

  test('a bad value is shortened in the message', async () => {
    const error = await failure(forkBeforeExec('true', [], { encoding: 'z'.repeat(1 << 20) as 'utf8' }));
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toMatch(/… \(1048578 characters\)$/);
  });
});

describe('the command line appears once', () => {
  test('in a failed run', async () => {
    const error = await failure(forkBeforeExec('sh', ['-c', 'echo oops >&2; exit 3']));
    expect(error.message).toBe(`sh -c 'echo oops >&2; exit 3': exited with code 3\noops`);
    expect(occurrences(error.message, 'exit 3')).toBe(1);
  });

  test('in a timeout', async () => {
    const error = await failure(forkBeforeExec('sleep', ['5'], { timeout: 10 }));
    expect(occurrences(error.message, 'sleep 5')).toBe(1);
  });
});

describe.each(backends.map((b) => [b.name, b] as const))(
  'hints match the cause on the %s backend',
  (_name, backend) => {
    test('a failed open action names its path, with advice about the file, not the program', async () => {
      const missing = path.join(dir, 'no-such-folder', 'file.txt');
      const error = await failure(
        forkBeforeExec('true', [], { backend, actions: [{ op: 'open', fd: 3, path: missing }] }),
      );
      expect(error).toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT', actionIndex: 0 });
      expect(error.message.split('\n')[0]).toContain(missing);
      expect(error.message).not.toMatch(/program name|PATH/);
      expect(error.hint).toMatch(/does not exist: create it/);
    });

    test('a script whose #! interpreter is missing is told to install it or fix the #! line', async () => {
      const script = path.join(dir, `needs-interpreter-${backend.name}`);
      writeFileSync(script, '#!/no/such/interpreter\necho hi\n');
      chmodSync(script, 0o755);
      const error = await failure(forkBeforeExec(script, [], { backend }));
      expect(error).toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'ENOENT' });
      expect(error.message).toContain('needs the interpreter /no/such/interpreter');
      expect(error.hint).toMatch(/^Install \/no\/such\/interpreter, or change the script's #! line/);
    });
  },
);
