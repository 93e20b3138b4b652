// Spawn cost of execa 9, tinyexec, nano-spawn, child_process.execFile, execFileSync and fork (with one
// message there and back, to a Node child) with and without
// `--import @forkexec/core/register`, at a large parent RSS, side by side (forkBeforeExec as the
// floor). Prints medians and ratios; nothing is asserted.
//   node packages/core/scripts/bench-register.mjs [RSS in MiB ...] (default: 50 1024), or npm run bench:register -w @forkexec/core
import { execFile as execFileCb } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SPAWNS = Number(process.env.BENCH_SPAWNS ?? 40);
const self = fileURLToPath(import.meta.url);
const forkEcho = fileURLToPath(new URL('./fork-echo.cjs', import.meta.url));

/** In a worker: grow the RSS, then time each way of running `true` (after a warm-up run). */
async function worker(rssMiB) {
  const ballast = [];
  while (process.memoryUsage.rss() < rssMiB * 2 ** 20)
    ballast.push(Buffer.alloc(Math.min(256 * 2 ** 20, rssMiB * 2 ** 20 - process.memoryUsage.rss() + 1)).fill(1));
  const { execa } = await import('execa');
  const { x } = await import('tinyexec');
  const { default: nanoSpawn } = await import('nano-spawn');
  const { execFile, execFileSync, fork } = await import('node:child_process');
  const { forkBeforeExec } = await import('@forkexec/core');
  const ways = {
    execa: () => execa('true'),
    tinyexec: () => x('true', [], { throwOnError: true }),
    'nano-spawn': () => nanoSpawn('true'),
    'child_process.execFile': () => promisify(execFile)('true'),
    // Blocking: Node's own forks the whole parent; the hook's runs Backend.spawnSync where the backend has it.
    'child_process.execFileSync': async () => execFileSync('true'),
    'child_process.fork + 1 message': async () => {
      const child = fork(forkEcho);
      child.send('ping');
      await Promise.all([once(child, 'message'), once(child, 'exit')]);
    },
    forkBeforeExec: () => forkBeforeExec('true'),
  };
  const medians = {};
  for (const [name, run] of Object.entries(ways)) {
    await run();
    const times = [];
    for (let i = 0; i < SPAWNS; i++) {
      const start = performance.now();
      await run();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    medians[name] = times[times.length >> 1];
  }
  process.stdout.write(JSON.stringify({ rss: process.memoryUsage.rss(), medians, ballast: ballast.length }));
}

async function main(sizes) {
  const run = async (rssMiB, hook) => {
    const args = [...(hook ? ['--import', '@forkexec/core/register'] : []), self, '--worker', String(rssMiB)];
    const { stdout } = await promisify(execFileCb)(process.execPath, args, { maxBuffer: 2 ** 20 });
    return JSON.parse(stdout);
  };
  console.log(`median ms per spawn of \`true\` (${SPAWNS} each), unregistered vs --import @forkexec/core/register`);
  for (const rssMiB of sizes) {
    const plain = await run(rssMiB, false);
    const registered = await run(rssMiB, true);
    console.log(`\nparent RSS ${(plain.rss / 2 ** 20).toFixed(0)} MiB / ${(registered.rss / 2 ** 20).toFixed(0)} MiB`);
    console.log(
      `${'way'.padEnd(32)}${'plain'.padStart(10)}${'hook'.padStart(10)}${'speed-up'.padStart(10)}${'vs floor'.padStart(10)}`,
    );
    const floor = registered.medians.forkBeforeExec;
    for (const name of Object.keys(plain.medians)) {
      const [a, b] = [plain.medians[name], registered.medians[name]];
      console.log(
        `${name.padEnd(32)}${a.toFixed(2).padStart(10)}${b.toFixed(2).padStart(10)}${`x${(a / b).toFixed(1)}`.padStart(10)}${`x${(b / floor).toFixed(2)}`.padStart(10)}`,
      );
    }
  }
}

if (process.argv[2] === '--worker') await worker(Number(process.argv[3]));
else await main(process.argv.length > 2 ? process.argv.slice(2).map(Number) : [50, 1024]);
