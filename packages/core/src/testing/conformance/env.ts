/** What the child starts with: argv exactly, the environment (merged, replaced or live), the cwd. */
import assert from 'node:assert/strict';
import type { ConformanceContext } from './context.js';

export function envCases(ctx: ConformanceContext): void {
  const { test, run, out, tmp } = ctx;
  test('argv round-trips exactly, argv0 included', async () => {
    const args = ['', ' spaced  out ', 'quote"s', "it's", '$HOME', '*', 'ünïcødé ✓', 'a\nb', '-', '--flag=1'];
    const lines = (await out(['argv', ...args], { argv0: 'custom-zero', stripFinalNewline: false })).split('\n');
    assert.deepEqual(lines.slice(0, -1).join('\n'), ['custom-zero', 'argv', ...args].join('\n'));
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
}
