import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { Method } from './method.js';

const NS_PER_MS = 1e6;

/**
 * The C posix_spawn floor: a small C program that holds the same ballast as the parent and
 * spawns the target on request, timing itself (see native/spawn-floor.c).
 */
export function floorMethod(program: string, target: string): Method {
  let child: ChildProcess | undefined;
  let lines: Interface | undefined;
  let waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  let stderr = '';

  const stop = async () => {
    if (!child) return;
    const exited = new Promise((resolve) => child!.once('close', resolve));
    child.stdin!.end();
    await exited;
    child = undefined;
  };

  const ask = (command: string | null): Promise<string> =>
    new Promise((resolve, reject) => {
      if (!child) return reject(new Error('spawn-floor is not running'));
      waiting.push({ resolve, reject });
      if (command !== null) child.stdin!.write(`${command}\n`);
    });

  return {
    name: 'c-posix-spawn',
    kind: 'floor',
    version: null,
    forks: false,
    async prepare(rssBytes) {
      await stop();
      stderr = '';
      const started = spawn(program, [String(rssBytes), target], { stdio: ['pipe', 'pipe', 'pipe'] });
      child = started;
      started.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      lines = createInterface({ input: started.stdout! });
      lines.on('line', (line) => waiting.shift()?.resolve(line));
      started.once('close', (code, signal) => {
        const error = new Error(`spawn-floor exited (${signal ?? code}): ${stderr.trim() || 'no message'}`);
        for (const w of waiting) w.reject(error);
        waiting = [];
        if (child === started) child = undefined;
      });
      started.once('error', (error) => {
        for (const w of waiting) w.reject(error);
        waiting = [];
      });
      const ready = await ask(null);
      if (!ready.startsWith('ready ')) throw new Error(`spawn-floor: unexpected greeting ${JSON.stringify(ready)}`);
    },
    async sample() {
      const [spawnNs, exitNs] = (await ask('s')).split(' ').map(Number);
      const syncMs = spawnNs / NS_PER_MS;
      return { totalMs: exitNs / NS_PER_MS, syncMs, pidMs: syncMs, busyMs: null, lagMs: null };
    },
    async throughput(inFlight, durationMs) {
      const [completed, elapsedNs] = (await ask(`t ${inFlight} ${Math.round(durationMs)}`)).split(' ').map(Number);
      return { completed, elapsedMs: elapsedNs / NS_PER_MS };
    },
    close: stop,
  };
}
