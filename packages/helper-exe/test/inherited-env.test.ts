// A child that inherits the parent's environment sees it as it is at each spawn, though the
// encoded environment is reused while libc's `environ` is unchanged. Runs a real Node parent on the
// built package (dist/): under Jest, process.env is a sandbox object that `environ` never sees.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const dist = path.join(__dirname, '..', 'dist', 'index.js');
const built =
  existsSync(dist) && existsSync(path.join(__dirname, '..', 'dist', `${process.platform}-${process.arch}`, 'fxhelper'));
const maybe = built ? it : it.skip;

describe('the inherited environment', () => {
  if (!built) it.skip('needs the package built (npm run build -w @forkexec/helper-exe)', () => {});

  maybe('follows every change to process.env between spawns', () => {
    // One line per result as it comes, then 'disposed': a run that stops early shows where.
    const script = `
      import { forkBeforeExec } from '@forkexec/core';
      import { createBackend } from ${JSON.stringify(dist)};
      const backend = createBackend();
      const echo = ['-c', 'echo "\${FX_A-unset} \${FX_B-unset} \${FX_C-unset}"'];
      const show = async (env) => console.log((await forkBeforeExec('/bin/sh', echo, { backend, env })).stdout.trim());
      await show();
      await show(); // unchanged: the encoded environment is reused
      process.env.FX_A = 'one';
      await show();
      process.env.FX_A = 'two';
      process.env.FX_B = 'ü';
      await show();
      process.env.FX_A = 'one'; // a value it had before (glibc may hand back the same string)
      await show();
      delete process.env.FX_A;
      await show();
      await show({ FX_C: 'own' }); // an environment of its own
      await show(); // back to the inherited one
      await backend.dispose();
      console.log('disposed');
    `;
    expect(runParent(script)).toEqual({
      stdout: [
        'unset unset unset',
        'unset unset unset',
        'one unset unset',
        'two ü unset',
        'one ü unset',
        'unset ü unset',
        'unset ü own',
        'unset ü unset',
        'disposed',
      ],
      stderr: '',
      status: 0,
    });
  });

  maybe(
    'is the one of the call: a change right after it (before the request goes out) does not reach the child',
    () => {
      const script = `
      import { forkBeforeExec } from '@forkexec/core';
      import { createBackend } from ${JSON.stringify(dist)};
      const backend = createBackend();
      const show = () => forkBeforeExec('/bin/sh', ['-c', 'echo "\${FX_A-unset}"'], { backend });
      await show();
      while (backend.stats().warm === 0) await new Promise((r) => setTimeout(r, 5));
      process.env.FX_A = 'at-the-call';
      const child = show();
      process.env.FX_A = 'changed-after';
      console.log((await child).stdout);
      await backend.dispose();
    `;
      expect(runParent(script)).toEqual({ stdout: ['at-the-call'], stderr: '', status: 0 });
    },
  );
});

/** Runs `script` in a Node parent of its own (module code), without FX_* variables: its output lines, stderr and status. */
function runParent(script: string): { stdout: string[]; stderr: string; status: number | null } {
  const env = { ...process.env };
  delete env.FX_A;
  delete env.FX_B;
  delete env.FX_C;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: path.join(__dirname, '..'),
    env,
    timeout: 20_000,
  });
  return { stdout: run.stdout.trim().split('\n'), stderr: run.stderr, status: run.status };
}
