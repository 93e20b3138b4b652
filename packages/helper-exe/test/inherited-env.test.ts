// A child that inherits the parent's environment sees it as it is at each spawn, though the
// encoded environment is reused while libc's `environ` is unchanged. Runs a real Node parent on the
// built package (dist/): under Jest, process.env is a sandbox object that `environ` never sees.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const dist = path.join(__dirname, '..', 'dist', 'index.js');
const built = existsSync(dist) && existsSync(path.join(__dirname, '..', 'dist', 'fxhelper'));
const maybe = built ? it : it.skip;

describe('the inherited environment', () => {
  if (!built) it.skip('needs the package built (npm run build -w @forkexec/helper-exe)', () => {});

  maybe('follows every change to process.env between spawns', () => {
    const script = `
      import { forkBeforeExec } from '@forkexec/core';
      import { createBackend } from ${JSON.stringify(dist)};
      const backend = createBackend();
      const seen = async () => (await forkBeforeExec('/bin/sh', ['-c', 'echo "\${FX_A-unset} \${FX_B-unset}"'], { backend })).stdout.trim();
      const out = [];
      out.push(await seen());
      out.push(await seen()); // unchanged: the encoded environment is reused
      process.env.FX_A = 'one';
      out.push(await seen());
      process.env.FX_A = 'two';
      process.env.FX_B = 'ü';
      out.push(await seen());
      process.env.FX_A = 'one'; // a value it had before (glibc may hand back the same string)
      out.push(await seen());
      delete process.env.FX_A;
      out.push(await seen());
      out.push((await forkBeforeExec('/bin/sh', ['-c', 'echo "\${FX_A-unset} \${FX_C-unset}"'], { backend, env: { FX_C: 'own' } })).stdout.trim());
      out.push(await seen()); // back to the inherited one
      await backend.dispose();
      console.log(JSON.stringify(out));
    `;
    const env = { ...process.env };
    delete env.FX_A;
    delete env.FX_B;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: path.join(__dirname, '..'), env, timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(['unset unset', 'unset unset', 'one unset', 'two ü', 'one ü', 'unset ü', 'unset own', 'unset ü']);
  });
});
