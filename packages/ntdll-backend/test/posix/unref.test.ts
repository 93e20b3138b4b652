import { execFileSync } from 'node:child_process';
import path from 'node:path';

// In a plain Node process (the built package): an unref'd child must not keep Node alive, a ref'd one must.
const dist = path.resolve(__dirname, '../../dist/index.js');
const childAliveWhenNodeExits = (unref: boolean): string => {
  const script = `
    const { backend } = await import(${JSON.stringify(dist)});
    const child = backend.spawn({ file: '/bin/sleep', argv: ['sleep', '1'], env: {}, actions: [], stdio: ['ignore', 'ignore', 'ignore'], command: 'sleep 1' });
    ${unref ? 'child.unref();' : ''}
    process.on('exit', () => {
      let alive = true;
      try { process.kill(child.pid, 0); } catch { alive = false; }
      console.log(alive ? 'alive' : 'gone');
      if (alive) process.kill(child.pid, 'SIGKILL');
    });`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
};

test('unref() lets Node exit while the child runs; without it Node waits for the child', () => {
  expect(childAliveWhenNodeExits(true)).toBe('alive');
  expect(childAliveWhenNodeExits(false)).toBe('gone');
});
