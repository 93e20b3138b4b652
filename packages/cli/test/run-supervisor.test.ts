import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// `forkexec run` as a supervisor, checked on real processes: the built bin, a real child, real signals.
const bin = path.resolve(__dirname, '../bin/forkexec.js');
const onLinux = process.platform === 'linux' ? test : test.skip;

/** A child that prints "ready", then one line per signal it gets; SIGTERM makes it exit 5. */
const LISTENER = `
for (const s of ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'])
  process.on(s, () => console.log('got ' + s));
process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(5); });
setInterval(() => {}, 1000);
console.log('ready');
`;

function start(backend: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [bin, 'run', '--backend', backend, '--', ...args], {
    env: { ...process.env, FORKEXEC_BACKEND: '' },
  });
}

/** Resolves once `text` has appeared on the process's stdout. */
function waitFor(proc: ChildProcessWithoutNullStreams, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk;
      if (seen.includes(text)) {
        proc.stdout.off('data', onData);
        resolve();
      }
    };
    proc.stdout.on('data', onData);
    proc.once('exit', () => reject(new Error(`exited before printing ${text}; saw ${JSON.stringify(seen)}`)));
  });
}

const exited = (proc: ChildProcessWithoutNullStreams) =>
  new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

/** Every live process below `pid` (its children, theirs, ...), from /proc. */
function descendants(pid: number): number[] {
  const found: number[] = [];
  const tasks = `/proc/${pid}/task`;
  if (!existsSync(tasks)) return found;
  for (const task of readdirSync(tasks)) {
    let children = '';
    try {
      children = readFileSync(`${tasks}/${task}/children`, 'utf8');
    } catch {
      continue; // the task ended meanwhile
    }
    for (const child of children.split(' ').filter(Boolean).map(Number)) found.push(child, ...descendants(child));
  }
  return found;
}

/** Whether `pid` still runs (a zombie waiting for init to reap it has ended). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.each(['node', 'ntdll', 'helper-exe'])('forkexec run --backend %s as a supervisor', (backend) => {
  onLinux(
    'passes SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH on, and exits with the status of SIGTERM',
    async () => {
      const proc = start(backend, [process.execPath, '-e', LISTENER]);
      const status = exited(proc);
      await waitFor(proc, 'ready');
      for (const signal of ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const) {
        const got = waitFor(proc, `got ${signal}`);
        proc.kill(signal);
        await got;
      }
      proc.kill('SIGTERM');
      expect(await status).toEqual({ code: 5, signal: null });
    },
  );

  onLinux('kill -TERM on forkexec leaves no process of its tree behind, and forkexec dies of SIGTERM', async () => {
    const proc = start(backend, ['sh', '-c', 'echo ready; exec sleep 30']);
    const status = exited(proc);
    await waitFor(proc, 'ready');
    const tree = descendants(proc.pid!);
    expect(tree.length).toBeGreaterThan(0);
    proc.kill('SIGTERM');
    expect(await status).toEqual({ code: null, signal: 'SIGTERM' });
    // Reparented processes are reaped by init; poll until it has, however long that takes.
    while (tree.some(running)) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tree.filter(running)).toEqual([]);
  });

  onLinux('SIGINT on forkexec ends a child that does not catch it, and forkexec dies of SIGINT', async () => {
    const proc = start(backend, ['sh', '-c', 'echo ready; exec sleep 30']);
    const status = exited(proc);
    await waitFor(proc, 'ready');
    proc.kill('SIGINT');
    expect(await status).toEqual({ code: null, signal: 'SIGINT' });
  });
});
