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

test("a child started while every other pending child is unref'd still keeps Node alive", () => {
  const script = `
    const { backend } = await import(${JSON.stringify(dist)});
    const start = (ms) => backend.spawn({
      file: '/bin/sleep', argv: ['sleep', ms], env: {}, actions: [], stdio: ['ignore', 'ignore', 'ignore'], command: 'sleep ' + ms,
    });
    await start('0').exited; // a SIGCHLD has been seen: the reaper's timer now only polls as a safety net
    const idle = start('5');
    idle.unref();
    const awaited = start('0.3');
    awaited.exited.then(() => console.log('awaited child reaped'));
    process.on('exit', () => process.kill(idle.pid, 'SIGKILL'));`;
  expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe(
    'awaited child reaped',
  );
});
