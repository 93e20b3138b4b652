/** Finding and checking the program: a missing one, one not executable, one changed since it ran. */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { notOnWindows, rejectsWith } from '../cases.js';
import type { ConformanceContext } from './context.js';

export function programLookupCases(ctx: ConformanceContext): void {
  const { test, spawn, tmp } = ctx;
  test('a missing program is ENOENT', async () => {
    await rejectsWith(spawn('forkexec-no-such-program', []), 'FORKEXEC_SPAWN', { errno: 'ENOENT' });
    await rejectsWith(spawn(path.join(tmp(), 'missing'), []), 'FORKEXEC_SPAWN', { errno: 'ENOENT' });
  });

  test('a non-executable file and a directory are EACCES', async () => {
    const file = path.join(tmp(), 'not-executable');
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o644);
    await rejectsWith(spawn(file, []), 'FORKEXEC_SPAWN', {
      errno: 'EACCES',
    });
    await rejectsWith(spawn(tmp(), []), 'FORKEXEC_SPAWN', {
      errno: 'EACCES',
    });
  });

  test(
    'a program changed since it ran is refused as a fresh check refuses it, and never run by /bin/sh',
    async () => {
      const file = path.join(mkdtempSync(path.join(tmp(), 'changing-')), 'program');
      const runIt = () => spawn(file, []);
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
}
