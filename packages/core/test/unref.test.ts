import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

// A real parent process (the built package, as users load it) that starts a detached daemon and unrefs it.
const dist = path.resolve(__dirname, '../dist/index.js');
const repo = path.resolve(__dirname, '../../..');
const onPosix = process.platform === 'win32' ? test.skip : test;

const PARENT = `
import { forkBeforeExec } from ${JSON.stringify(dist)};
const [backend, stdio] = process.argv.slice(1);
const daemon = forkBeforeExec('sleep', ['600'], { detached: true, stdio, backend, timeout: 600_000 });
console.log(await daemon.started);
daemon.unref();
`;

/** unref() then ref(): the parent waits for the child again, and sees its result. */
const REFFED_AGAIN = `
import { forkBeforeExec } from ${JSON.stringify(dist)};
const child = forkBeforeExec('sleep', ['0.3'], { backend: process.argv[1] });
child.unref().ref();
child.then((result) => console.log('waited', result.exitCode));
`;

const run = (script: string, args: string[]) =>
  promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd: repo });

const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each(['node', 'ntdll', 'helper-exe'])('unref() on the %s backend', (backend) => {
  onPosix.each(['ignore', 'pipe'])('a detached daemon (stdio %s) no longer keeps the parent alive', async (stdio) => {
    // The parent's exit is the proof: were the daemon still holding it, it would wait the 600 s of sleep.
    const { stdout } = await run(PARENT, [backend, stdio]);
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(running(pid)).toBe(true); // the daemon outlives its parent
    process.kill(pid, 'SIGKILL');
  });

  onPosix('ref() after unref() makes the parent wait for the child again', async () => {
    expect((await run(REFFED_AGAIN, [backend])).stdout).toBe('waited 0\n');
  });
});
