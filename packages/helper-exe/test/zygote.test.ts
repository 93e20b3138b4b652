// The zygote that refills the pool, on real processes: where its helpers come from, its death and
// replacement, a helper program without one, refills under load, and disposal with forks in flight.
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HelperExeBackend } from '../src/index.js';
import { helperBinary } from './support/helper-binary.js';
import { poolBackends, runProbe as run } from './support/pool-backends.js';
import { childPids, noNewChildren, openFds, processState, until } from './support/processes.js';

const helper = helperBinary();

beforeAll(() => helper.build());
afterAll(() => helper.remove());

const make = poolBackends(() => helper.path);

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

async function warmUp(backend: HelperExeBackend, warm = 2): Promise<void> {
  await run(backend, ['exit', '0']);
  await until(
    () => backend.stats().warm >= warm && backend.stats().zygotePid !== undefined,
    () => JSON.stringify(backend.stats()),
  );
}

describe('the zygote', () => {
  it('refills the pool: its helpers are children of this process, forked from it, and run programs with exact statuses', async () => {
    const backend = make({ min: 3 });
    await warmUp(backend, 3);
    const { zygotePid } = backend.stats();
    expect(parentOf(zygotePid!)).toBe(process.pid);
    expect(readlinkSync(`/proc/${zygotePid}/exe`)).toBe(helper.path);
    expect(backend.stats()).toMatchObject({ zygotes: 1, coldStarted: 1 });
    expect(backend.stats().forked).toBeGreaterThanOrEqual(3);
    const child = run(backend, ['ids', 'exit', '7'], { reject: false });
    expect(parentOf(child.pid!)).toBe(process.pid);
    const result = await child;
    expect(result.stdout).toMatch(new RegExp(`^pid=${child.pid} ppid=${process.pid} `));
    expect(result.exitCode).toBe(7);
    const killed = run(backend, ['raise', '15'], { reject: false });
    expect((await killed).signal).toBe('SIGTERM');
    expect(backend.stats()).toMatchObject({ coldStarted: 1 });
  });

  it('dies: the pool keeps serving (helpers started directly meanwhile) and starts a new zygote', async () => {
    const backend = make({ min: 2 });
    await warmUp(backend);
    const first = backend.stats().zygotePid!;
    process.kill(first, 'SIGKILL');
    const results = [];
    for (let i = 0; i < 20; i++) results.push((await run(backend, ['echo', `after-${i}`])).stdout);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => `after-${i}`));
    await until(
      () => processState(first) === 'gone',
      () => `the dead zygote ${first} is ${processState(first)}`,
    );
    await until(
      () => (backend.stats().zygotePid ?? first) !== first,
      () => JSON.stringify(backend.stats()),
    );
    expect(backend.stats().zygotes).toBe(2);
    const forked = backend.stats().forked!;
    for (let i = 0; i < 5; i++) await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().forked! > forked,
      () => `the new zygote forks: ${JSON.stringify(backend.stats())}`,
    );
  });

  it('a helper program without a zygote: three attempts, then every helper is started directly', async () => {
    const wrapper = path.join(path.dirname(helper.path), 'no-zygote.sh');
    writeFileSync(wrapper, `#!/bin/sh\n[ "$1" = --zygote ] && exit 3\nexec ${JSON.stringify(helper.path)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const children = childPids();
    const backend = make({ helperPath: wrapper, min: 2 });
    for (let i = 0; i < 30; i++) expect((await run(backend, ['echo', String(i)])).stdout).toBe(String(i));
    await until(
      () => backend.stats().zygotes === 3 && backend.stats().zygotePid === undefined,
      () => JSON.stringify(backend.stats()),
    );
    const warmTaken = backend.stats().warmTaken;
    for (let i = 0; i < 10; i++) await run(backend, ['exit', '0']);
    expect(backend.stats().warmTaken).toBeGreaterThan(warmTaken); // refilled by direct starts
    expect(backend.stats()).toMatchObject({ zygotes: 3, forked: 0 });
    await backend.dispose!();
    await until(
      () => noNewChildren(children),
      () => `children left: ${childPids()}`,
    );
  });

  it('zygote: false starts every helper directly', async () => {
    const backend = make({ zygote: false });
    await run(backend, ['exit', '0']);
    await until(
      () => backend.stats().warm === 2,
      () => JSON.stringify(backend.stats()),
    );
    expect(backend.stats()).toMatchObject({ zygotes: 0, forked: 0, zygotePid: undefined });
  });

  it('refills under load: 400 requests with 32 in flight, each exact, and no fd or process growth afterwards', async () => {
    const backend = make({ min: 2, max: 8 });
    await warmUp(backend);
    const settle = async () => {
      await until(
        () => backend.stats().warm >= 2,
        () => JSON.stringify(backend.stats()),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { warm } = backend.stats();
      return { fds: openFds().length - warm, children: childPids().length - warm };
    };
    const before = await settle();
    let next = 0;
    const failures: string[] = [];
    const worker = async () => {
      while (next < 400) {
        const i = next++;
        const r = await run(backend, ['echo', `n${i}`, 'exit', String(i % 7)], { reject: false });
        if (r.stdout !== `n${i}` || r.exitCode !== i % 7) failures.push(`${i}: ${r.stdout} ${r.exitCode}`);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    expect(failures).toEqual([]);
    expect(backend.stats().forked).toBeGreaterThan(0); // most start on demand: 32 in flight outrun max (8) warm helpers
    expect(await settle()).toEqual(before);
  }, 120_000);

  it('a burst takes the helpers the zygote has forked, though the busy loop has not read their announcement yet', async () => {
    const backend = make({ min: 2, max: 8 });
    await warmUp(backend);
    const known = childPids();
    const zygotePid = backend.stats().zygotePid!;
    // One turn of the loop, as in a burst: the two warm helpers are taken, and the third request,
    // finding none, asks the zygote for more and starts a helper itself.
    const burst = [run(backend, ['exit', '0']), run(backend, ['exit', '0']), run(backend, ['exit', '0'])];
    const before = backend.stats();
    const fresh = () => childPids().filter((pid) => !known.includes(pid) && pid !== burst[2].pid);
    // The loop stays blocked until the zygote has forked both and waits for requests again.
    const deadline = Date.now() + 10_000;
    while (fresh().length < 2 || processState(zygotePid) !== 'S') {
      if (Date.now() > deadline) throw new Error(`the zygote did not fork: ${JSON.stringify(backend.stats())}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    const next = run(backend, ['exit', '0']);
    expect(backend.stats()).toMatchObject({
      coldStarted: before.coldStarted,
      warmTaken: before.warmTaken + 1,
      forked: before.forked + 2,
    });
    expect(fresh()).toContain(next.pid);
    await Promise.all([...burst, next]);
  });

  it('dispose() with forks in flight leaves no zygote, helper or fd behind', async () => {
    const fds = openFds();
    const children = childPids();
    const backend = make({ min: 8, max: 8 });
    await warmUp(backend, 1);
    // Take every warm helper at once: the refill asks the zygote for eight more, and dispose comes before they arrive.
    const running = Array.from({ length: 8 }, () => run(backend, ['exit', '0']));
    await new Promise((resolve) => setImmediate(resolve));
    await backend.dispose!();
    await Promise.all(running);
    await until(
      () => noNewChildren(children),
      () => `children left: ${childPids()}`,
    );
    expect(openFds()).toEqual(fds);
  });
});
