// The parent's exit leaves no helper behind, whether it calls process.exit() with helpers warm
// or simply runs out of work. Runs a real Node parent on the built package (dist/), as users do.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { processState, until } from './support/processes.js';

const dist = path.join(__dirname, '..', 'dist', 'index.js');
const built =
  existsSync(dist) && existsSync(path.join(__dirname, '..', 'dist', `${process.platform}-${process.arch}`, 'fxhelper'));
const maybe = built ? it : it.skip;

/** Runs a parent that spawns once, prints the pids of its children (warm helpers and the zygote), then ends as `how` says. */
function parent(how: 'exit' | 'natural' | 'dispose'): { helpers: number[]; ms: number; after: string } {
  const script = `
    import { readdirSync, readFileSync } from 'node:fs';
    import { forkBeforeExec } from '@forkexec/core';
    import { createBackend } from ${JSON.stringify(dist)};
    const backend = createBackend({ min: 3, idleTimeoutMs: 300 });
    await forkBeforeExec('/bin/true', [], { backend });
    while (backend.stats().warm < 3) await new Promise((r) => setTimeout(r, 5));
    const children = readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
      try {
        const s = readFileSync('/proc/' + p + '/stat', 'utf8');
        return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch { return false; }
    });
    console.log(children.join(' '));
    ${how === 'exit' ? 'process.exit(0);' : ''}
    ${how === 'dispose' ? "await backend.dispose(); console.log('disposed');" : ''}
  `;
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    cwd: path.join(__dirname, '..'),
    timeout: 20_000,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const [pids, after = ''] = run.stdout.trim().split('\n');
  return { helpers: pids.split(' ').map(Number), ms: Date.now() - started, after };
}

describe("the parent's exit", () => {
  if (!built) it.skip('needs the package built (npm run build -w @forkexec/helper-exe)', () => {});

  maybe('process.exit() with warm helpers: they die with the parent', async () => {
    const { helpers } = parent('exit');
    expect(helpers.length).toBeGreaterThanOrEqual(4); // three warm, the zygote (and maybe the probe's helper, exiting)
    await until(
      () => helpers.every((pid) => ['gone', 'Z'].includes(processState(pid))),
      () => helpers.map((p) => `${p}:${processState(p)}`).join(' '),
    );
  });

  maybe(
    'dispose() with nothing else keeping Node alive: it waits until every helper and the zygote are reaped',
    async () => {
      const { helpers, after } = parent('dispose');
      expect(after).toBe('disposed'); // not exit code 13 with dispose() still waiting
      expect(helpers.every((pid) => processState(pid) === 'gone')).toBe(true);
    },
  );

  maybe('running out of work: Node exits once the pool retires its idle helpers, leaving none', async () => {
    const { helpers, ms } = parent('natural');
    expect(helpers.length).toBeGreaterThanOrEqual(4);
    expect(ms).toBeLessThan(15_000);
    await until(
      () => helpers.every((pid) => ['gone', 'Z'].includes(processState(pid))),
      () => helpers.map((p) => `${p}:${processState(p)}`).join(' '),
    );
  });
});
