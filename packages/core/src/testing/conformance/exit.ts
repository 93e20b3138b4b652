/** Exit and termination: exit codes and signals as they happened, the pid, kill, timeouts and aborts. */
import assert from 'node:assert/strict';
import { constants as osConstants } from 'node:os';
import { notOnWindows, rejectsWith } from '../cases.js';
import { NO_SIGNALS, type ConformanceContext } from './context.js';

export function exitCases(ctx: ConformanceContext): void {
  const { backend, name, test, run } = ctx;
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
}
