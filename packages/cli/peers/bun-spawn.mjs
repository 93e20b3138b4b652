// Bun's peer of `forkexec bench`: Bun.spawn + `await exited`, run by Bun with the same ballast as
// the Node parent and driven line by line like native/spawn-floor.c (see src/bench/driven.ts):
//   bun bun-spawn.mjs BALLAST_BYTES TARGET; stdin "s" | "b N" | "t N MS"; stdout "ready <rss>" first.
const CHUNK = 256 * 2 ** 20;
const [wanted, target] = process.argv.slice(2).map((a, i) => (i === 0 ? Number(a) : a));
const ballast = [];
for (let missing = wanted - process.memoryUsage.rss(); missing > 0; missing -= CHUNK)
  ballast.push(Buffer.alloc(Math.min(CHUNK, missing)).fill(1)); // filled, so every page is resident

const start = () => Bun.spawn([target], { stdio: ['ignore', 'ignore', 'ignore'] });

async function exitedZero(child) {
  const code = await child.exited;
  if (code !== 0) throw new Error(`${target} exited with ${child.signalCode ?? code}`);
}

/** One spawn waited for: `[spawn_ns, exit_ns]`. */
async function one() {
  const t0 = Bun.nanoseconds();
  const child = start();
  const t1 = Bun.nanoseconds();
  await exitedZero(child);
  return [t1 - t0, Bun.nanoseconds() - t0];
}

async function backToBack(n) {
  const exits = [];
  for (let i = 0; i < n; i++) exits.push((await one())[1]);
  return exits.join(' ');
}

function throughput(inFlight, ms) {
  const t0 = Bun.nanoseconds();
  const deadline = t0 + ms * 1e6;
  let completed = 0;
  const worker = async () => {
    while (Bun.nanoseconds() < deadline) {
      await exitedZero(start());
      completed++;
    }
  };
  return Promise.all(Array.from({ length: inFlight }, worker)).then(() => `${completed} ${Bun.nanoseconds() - t0}`);
}

console.log(`ready ${process.memoryUsage.rss()}`);
for await (const line of console) {
  if (!line.trim()) continue; // Bun yields an empty last line at EOF
  const [command, count, ms] = line.trim().split(' ');
  if (command === 's') console.log((await one()).join(' '));
  else if (command === 'b' && Number(count) > 0) console.log(await backToBack(Number(count)));
  else if (command === 't' && Number(count) > 0 && Number(ms) >= 0)
    console.log(await throughput(Number(count), Number(ms)));
  else {
    console.error(`bun-spawn: bad command: ${line}`);
    process.exit(2);
  }
}
