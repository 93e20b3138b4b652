/**
 * The built runner spreads files over worker threads (the worker script exists only in dist/):
 * same report and same rewritten files as the main-thread run from the sources.
 * Needs `npx turbo run build --filter=@forkexec/codemod` (the root `npm test` builds first).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCodemod, type RunReport } from '../src/runner.js';
import { loadFixtures } from './fixtures.js';

const dist = path.resolve(__dirname, '../dist/index.js');

let a: string;
let b: string;
beforeAll(() => {
  if (!existsSync(dist))
    throw new Error('packages/codemod/dist is missing: run `npx turbo run build --filter=@forkexec/codemod` first');
  a = mkdtempSync(path.join(tmpdir(), 'forkexec-workers-'));
  for (const f of loadFixtures()) writeFileSync(path.join(a, `${f.name}${path.extname(f.inputFile)}`), f.input);
  writeFileSync(path.join(a, 'broken.js'), 'const = 1;\n');
  b = mkdtempSync(path.join(tmpdir(), 'forkexec-workers-'));
  cpSync(a, b, { recursive: true });
});
afterAll(() => {
  rmSync(a, { recursive: true, force: true });
  rmSync(b, { recursive: true, force: true });
});

test('worker threads give the same report and files as the main thread', async () => {
  const script = `const { runCodemod } = await import(${JSON.stringify(dist)});
    const report = await runCodemod({ cwd: ${JSON.stringify(a)}, concurrency: 2, workerThreshold: 2, stdout: () => {}, modules: ['my-posix'] });
    process.stdout.write(JSON.stringify(report));`;
  const viaWorkers = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as RunReport;
  const inThread = await runCodemod({ cwd: b, concurrency: 2, stdout: () => {}, modules: ['my-posix'] });

  expect(viaWorkers.workers).toBe(2);
  expect(inThread.workers).toBe(0);
  expect({ ...viaWorkers, workers: 0 }).toEqual(JSON.parse(JSON.stringify(inThread)));
  expect(viaWorkers.exitCode).toBe(2); // broken.js
  expect(viaWorkers.totals.converted).toBeGreaterThan(10);
  for (const { file } of inThread.files)
    expect(readFileSync(path.join(a, file), 'utf8')).toBe(readFileSync(path.join(b, file), 'utf8'));
});
