import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Method, MethodInfo } from './method.js';

const NS_PER_MS = 1e6;

/**
 * A process of its own that holds the same ballast as the parent and spawns the target on
 * request, timing itself: the C floor (native/spawn-floor.c), Bun and Python (peers/), and Node
 * under the register hook (node-driver.ts). Each speaks the same protocol, one line each way:
 *
 *   argv   BALLAST_BYTES TARGET
 *   stdin  "s"              one spawn, waited for                      -> "<spawn_ns> <exit_ns>"
 *          "b N"            N spawns back to back                      -> "<exit_ns> ..." (N numbers)
 *          "t N MS"         keep N children running for MS milliseconds -> "<completed> <elapsed_ns>"
 *   stdout "ready <rss_bytes>" once the ballast is touched; EOF on stdin ends it.
 *
 * A driver that runs several methods (node-driver.ts) takes the method's name before each command.
 */
export class Driver {
  #child: ChildProcess | undefined;
  #rssBytes: number | undefined;
  #waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  #stderr = '';

  constructor(
    /** For messages. */
    readonly name: string,
    readonly program: string,
    readonly args: string[],
    readonly target: string,
  ) {}

  /** Starts the process holding `rssBytes` of ballast, unless it runs with that much already. */
  async start(rssBytes: number): Promise<void> {
    if (this.#child && this.#rssBytes === rssBytes) return;
    await this.stop();
    this.#stderr = '';
    this.#rssBytes = rssBytes;
    const started = spawn(this.program, [...this.args, String(rssBytes), this.target], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = started;
    started.stderr!.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    createInterface({ input: started.stdout! }).on('line', (line) => this.#waiting.shift()?.resolve(line));
    const failAll = (error: Error) => {
      for (const w of this.#waiting) w.reject(error);
      this.#waiting = [];
    };
    started.once('close', (code, signal) => {
      failAll(new Error(`${this.name} exited (${signal ?? code}): ${this.#stderr.trim() || 'no message'}`));
      if (this.#child === started) this.#child = undefined;
    });
    started.once('error', failAll);
    const ready = await this.ask(null);
    if (!ready.startsWith('ready ')) throw new Error(`${this.name}: unexpected greeting ${JSON.stringify(ready)}`);
  }

  /** Sends `command` (null: none, for the greeting) and resolves with the answer line. */
  ask(command: string | null): Promise<string> {
    return new Promise((resolve, reject) => {
      if (!this.#child) return reject(new Error(`${this.name}: its driver is not running`));
      this.#waiting.push({ resolve, reject });
      if (command !== null) this.#child.stdin!.write(`${command}\n`);
    });
  }

  /** Ends the process (EOF on its stdin) and waits for it: its ballast is given back. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise((resolve) => child.once('close', resolve));
    child.stdin!.end();
    await exited;
    this.#child = undefined;
  }
}

/** A method whose spawns `driver` times; `prefix` names the method to a driver that runs several. */
export function drivenMethod(info: MethodInfo, driver: Driver, prefix = ''): Method {
  const ask = (command: string) => driver.ask(`${prefix}${command}`);
  return {
    ...info,
    driver,
    prepare: (rssBytes) => driver.start(rssBytes),
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
    close: () => driver.stop(),
  };
}
