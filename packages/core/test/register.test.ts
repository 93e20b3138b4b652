/**
 * The register hook in real processes (the built package): execa 9, tinyexec, nano-spawn and
 * cross-spawn work unchanged under it, and its report shows their spawns took the fast path.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DropInReport } from '@forkexec/core/child_process';

const fixtures = path.join(__dirname, 'fixtures', 'drop-in');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-register-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Line = DropInReport & { argv: string[] };
let runs = 0;

/** Runs a fixture with the hook given as `how`; its printed JSON and the report lines of every process. */
async function run(fixture: string, how: string[], env: Record<string, string> = {}) {
  const report = path.join(dir, `${fixture}-${++runs}.jsonl`);
  const { stdout } = await promisify(execFile)(process.execPath, [...how, path.join(fixtures, fixture)], {
    cwd: fixtures,
    env: { ...process.env, ...env, FORKEXEC_REGISTER_REPORT: report },
  });
  const lines = readFileSync(report, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
  return {
    printed: JSON.parse(stdout) as Record<string, unknown>,
    report: lines.find((l) => l.argv[0].endsWith(fixture))!,
  };
}

const BACKENDS = process.platform === 'linux' ? ['ntdll', 'helper-exe'] : [];
const REFUSED = 'the backend refused the start (FORKEXEC_SPAWN ENOENT): Node reports it its own way';

test.each(BACKENDS)(
  'execa 9, tinyexec, nano-spawn and cross-spawn under --import on %s: their basics work, on the fast path',
  async (backend) => {
    const { printed, report } = await run('libraries.mjs', ['--import', '@forkexec/core/register'], {
      FORKEXEC_BACKEND: backend,
    });
    expect(printed).toEqual({
      execa: 'hi',
      execaExit: 3,
      execaTimeout: [true, 'SIGTERM'],
      execaKill: [true, 'SIGTERM'],
      execaInput: 'piped in',
      execaMissing: 'ENOENT',
      execaNodeIpc: 'ping pong',
      tinyexec: 'hi\n',
      tinyexecExit: 4,
      nanoSpawn: 'hi',
      nanoSpawnExit: 5,
      crossSpawn: 6,
    });
    expect(report.backend).toBe(backend);
    // execaNode's IPC channel too. The missing program went to Node where the backend refuses it at
    // once (ntdll); a helper learns it after the start, and the drop-in tells it as Node would.
    const { [REFUSED]: refused = 0, ...others } = report.node.spawn ?? {};
    expect(others).toEqual({});
    expect(report.fast.spawn! + refused).toBe(12);
  },
);

test('--require, and through NODE_OPTIONS: functions taken at load time are the drop-in’s', async () => {
  for (const [how, env] of [
    [['--require', '@forkexec/core/register'], {}],
    [[], { NODE_OPTIONS: '--require @forkexec/core/register' }],
  ] as const) {
    const { printed, report } = await run('commonjs.cjs', [...how], env);
    expect(printed).toEqual({ code: 1, out: 'cjs\n', error: null, stdout: '/bin/sh\n', sync: 'sync\n' });
    expect(report.fast).toEqual({ spawn: 1, exec: 1, execFileSync: 1 });
  }
});

test('an ESM named import bound before the hook was installed calls the drop-in', async () => {
  const { printed, report } = await run('bound-before.mjs', []);
  expect(printed).toEqual({ code: 2, stdout: 'bound\n' });
  expect(report.fast).toEqual({ spawn: 1, execFile: 1 });
});

test('a listener that throws is an uncaught exception, as with Node’s own ChildProcess', async () => {
  const outcome = async (module: string) =>
    (
      await promisify(execFile)(process.execPath, [path.join(fixtures, 'listener-throws.mjs'), module], {
        cwd: fixtures,
      })
    ).stdout;
  expect(await outcome('@forkexec/core/child_process')).toBe(await outcome('node:child_process'));
  expect(await outcome('node:child_process')).toBe('uncaughtException from the listener');
});
