import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Method, MethodInfo } from './method.js';

const NS_PER_MS = 1e6;

/**
 * A method measured in a process of its own that holds the same ballast as the parent and spawns
 * the target on request, timing itself: the C floor (native/spawn-floor.c), Bun and Python
 * (peers/). Each speaks the same protocol, one line each way:
 *
 *   argv   BALLAST_BYTES TARGET
 *   stdin  "s"              one spawn, waited for                      -> "<spawn_ns> <exit_ns>"
 *          "b N"            N spawns back to back                      -> "<exit_ns> ..." (N numbers)
 *          "t N MS"         keep N children running for MS milliseconds -> "<completed> <elapsed_ns>"
 *   stdout "ready <rss_bytes>" once the ballast is touched; EOF on stdin ends it.
 */
export function drivenMethod(info: MethodInfo, program: string, args: string[], target: string): Method {
  let child: ChildProcess | undefined;
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
      if (!child) return reject(new Error(`${info.name}: its driver is not running`));
      waiting.push({ resolve, reject });
      if (command !== null) child.stdin!.write(`${command}\n`);
    });

  return {
    ...info,
    async prepare(rssBytes) {
      await stop();
      stderr = '';
      const started = spawn(program, [...args, String(rssBytes), target], { stdio: ['pipe', 'pipe', 'pipe'] });
      child = started;
      started.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      createInterface({ input: started.stdout! }).on('line', (line) => waiting.shift()?.resolve(line));
      started.once('close', (code, signal) => {
        const error = new Error(`${info.name} exited (${signal ?? code}): ${stderr.trim() || 'no message'}`);
        for (const w of waiting) w.reject(error);
        waiting = [];
        if (child === started) child = undefined;
      });
      started.once('error', (error) => {
        for (const w of waiting) w.reject(error);
        waiting = [];
      });
      const ready = await ask(null);
      if (!ready.startsWith('ready ')) throw new Error(`${info.name}: unexpected greeting ${JSON.stringify(ready)}`);
    },
    async sample() {
      const [spawnNs, exitNs] = (await ask('s')).split(' ').map(Number);
      const syncMs = spawnNs / NS_PER_MS;
      return { totalMs: exitNs / NS_PER_MS, syncMs, pidMs: syncMs, busyMs: null, lagMs: null };
    },
    async backToBack(runs) {
      return (await ask(`b ${runs}`)).split(' ').map((ns) => Number(ns) / NS_PER_MS);
    },
    async throughput(inFlight, durationMs) {
      const [completed, elapsedNs] = (await ask(`t ${inFlight} ${Math.round(durationMs)}`)).split(' ').map(Number);
      return { completed, elapsedMs: elapsedNs / NS_PER_MS };
    },
    close: stop,
  };
}
