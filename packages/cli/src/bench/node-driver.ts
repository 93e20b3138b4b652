/**
 * The Node side of the registered rows of `forkexec bench`: started by the bench as
 *   node --import @forkexec/core/register forkexec.js bench-driver BALLAST_BYTES TARGET
 * it holds the ballast and times child_process and the peers, each as the bench times them
 * unregistered (nodeMethod), speaking driven.ts's protocol with the way's name before each command
 * ("execa s", "execa b N", "execa t N MS").
 */
import { createInterface } from 'node:readline';
import { dropInReport } from '@forkexec/core/child_process';
import { Ballast } from './ballast.js';
import type { Method } from './method.js';
import { nodeMethod, type NodeWay } from './methods.js';

const NS_PER_MS = 1e6;
const ns = (ms: number) => Math.round(ms * NS_PER_MS);

/** Calls the hook carried out on its fast path so far. */
const fastCalls = () => Object.values(dropInReport().fast).reduce((a, b) => a + b, 0);

export async function runNodeDriver(ballastBytes: number, target: string): Promise<void> {
  const rss = new Ballast().growTo(ballastBytes);
  const methods = new Map<string, Method>();
  const methodFor = async (name: string): Promise<Method> => {
    let method = methods.get(name);
    if (method) return method;
    const made = await nodeMethod(name as NodeWay, target);
    if (typeof made === 'string') throw new Error(`${name}: ${made}`);
    // The first call shows whether the hook took the fast path: a row that went to Node's own would be mislabelled.
    const before = fastCalls();
    await made.sample();
    if (fastCalls() === before)
      throw new Error(`${name} did not take the register hook's fast path: ${JSON.stringify(dropInReport().node)}`);
    methods.set(name, (method = made));
    return method;
  };

  process.stdout.write(`ready ${rss}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const [name, command, count, ms] = line.trim().split(' ');
    const method = await methodFor(name);
    let answer: string;
    if (command === 's') {
      const sample = await method.sample();
      answer = `${ns(sample.syncMs)} ${ns(sample.totalMs)}`;
    } else if (command === 'b' && Number(count) > 0) {
      answer = (await method.backToBack(Number(count))).map(ns).join(' ');
    } else if (command === 't' && Number(count) > 0 && Number(ms) >= 0) {
      const { completed, elapsedMs } = await method.throughput(Number(count), Number(ms));
      answer = `${completed} ${ns(elapsedMs)}`;
    } else throw new Error(`bench-driver: bad command: ${line}`);
    process.stdout.write(`${answer}\n`);
  }
}
