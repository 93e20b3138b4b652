/** Hostile input: each case gets a typed error naming the culprit, before anything runs; nothing reaches a shell. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { forkBeforeExec } from '../fork-before-exec.js';
import type { Options, Result } from '../options.js';
import type { Subprocess } from '../subprocess.js';
import { hostileInputs } from './reliability-hostile-inputs.js';
import { linuxOnly, loadFastCheck, notOnWindows, outcome, type ReliabilityContext } from './reliability-context.js';

export function hostileCases(ctx: ReliabilityContext): void {
  const { test, tally } = ctx;
  const backend = () => ctx.backend();
  const probe = (args: unknown[], opts: Options = {}) =>
    forkBeforeExec(ctx.probe(), args as string[], { backend: backend(), ...opts });
  const cases = () =>
    hostileInputs(ctx).filter((c) => c.only === undefined || (c.only === 'win32') === (process.platform === 'win32'));

  test('each hostile input gets a typed error naming the culprit, and nothing runs', async () => {
    const failures: string[] = [];
    for (const c of cases()) {
      tally.inputs++;
      let child: Subprocess<string | Buffer> | undefined;
      const settled = await outcome((child = c.start()));
      const e = settled.ok ? undefined : settled.error;
      const problems = [
        !e && 'it ran',
        e && e.code !== c.code && `code ${String(e.code)} instead of ${c.code}`,
        e && !String(e.message).includes(c.culprit) && `the message does not name ${c.culprit}`,
        e &&
          c.errno &&
          ![c.errno].flat().includes(String(e.errno)) &&
          `errno ${String(e.errno)} instead of ${[c.errno].flat().join(' or ')}`,
        e &&
          c.actionIndex !== undefined &&
          e.actionIndex !== c.actionIndex &&
          `actionIndex ${String(e.actionIndex)} instead of ${c.actionIndex}`,
        child.pid !== undefined &&
          !(c.atExec && backend().capabilities.pidBeforeExec) &&
          `a child (pid ${child.pid}) was started`,
      ].filter(Boolean);
      if (problems.length)
        failures.push(
          `${c.name}: ${problems.join(', ')}${e ? `\n    message: ${String(e.message).split('\n')[0]}` : ''}`,
        );
    }
    assert.equal(failures.join('\n'), '');
    assert.equal(existsSync(path.join(ctx.tmp(), 'SHELL-RAN')), false, 'a shell ran the script');
  });

  test(
    'shell syntax is plain data: metacharacters in the file name and arguments never reach a shell',
    async () => {
      const marker = path.join(ctx.tmp(), 'shell-marker');
      const tricks = [
        `$(touch ${marker})`,
        `\`touch ${marker}\``,
        `; touch ${marker}`,
        `| touch ${marker}`,
        `&& touch ${marker}`,
        `\n touch ${marker}`,
        `' ; touch ${marker} '`,
      ];
      tally.inputs += tricks.length * 2;
      const lines = ((await ctx.run(['argv', ...tricks], { stripFinalNewline: false })) as Result<string>).stdout.split(
        '\n',
      );
      assert.deepEqual(lines.slice(2, -1).join('\n'), tricks.join('\n'));
      for (const trick of tricks) {
        const settled = await outcome(forkBeforeExec(`touch ${marker}; ${trick}`, [], { backend: backend() }));
        assert.ok(
          !settled.ok && settled.error.code === 'FORKEXEC_SPAWN' && settled.error.errno === 'ENOENT',
          'looked up as one program name',
        );
      }
      assert.equal(existsSync(marker), false, 'a shell ran');
    },
    [],
    () => notOnWindows('POSIX shell syntax: the Windows case tries cmd.exe syntax')() ?? linuxOnly(),
  );

  test(
    'random strings as arguments and env: they round-trip exactly, or are refused naming the argument',
    async () => {
      const fc = await loadFastCheck();
      if (!fc) return void console.warn('fast-check is not installed: random-input property skipped');
      const libuvOnWindows = process.platform === 'win32' && backend().name === 'node';
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.constantFrom('\0', '\uD800', 'a\uDFFFb', '=', '$HOME', '\n'),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(text, { maxLength: 6 }), text, async (args, value) => {
          tally.inputs++;
          tally.spawns++;
          const settled = await outcome(
            probe(['env', 'FX_RANDOM', 'argv', ...args], { env: { FX_RANDOM: value }, stripFinalNewline: false }),
          );
          // Core refuses NUL and lone surrogates, arguments first; then child_process on Windows
          // refuses U+10FFFF (libuv would abort the process on it), arguments first too.
          const refusals = [
            (s: string) => s.includes('\0') || !s.isWellFormed(),
            (s: string) => libuvOnWindows && s.includes('\u{10FFFF}'),
          ];
          const refused = refusals.find((bad) => bad(value) || args.some(bad));
          if (refused) {
            assert.ok(!settled.ok, 'bad input ran');
            assert.equal(settled.error.code, 'FORKEXEC_INVALID_ARGUMENT');
            const culprit = args.some(refused) ? `args[${args.findIndex(refused) + 3}]` : 'env.FX_RANDOM';
            assert.ok(
              String(settled.error.message).includes(culprit),
              `${String(settled.error.message)} should name ${culprit}`,
            );
            return;
          }
          assert.ok(settled.ok, settled.ok ? '' : String(settled.error.message));
          const out = (settled.value as Result<string>).stdout;
          assert.equal(out, `${value}\n${[ctx.probe(), 'env', 'FX_RANDOM', 'argv', ...args].join('\n')}\n`);
        }),
        { numRuns: ctx.options.propertyRuns },
      );
    },
    [],
    undefined,
    Math.max(60_000, ctx.options.propertyRuns * 500),
  );
}
