// A helper that cannot start because the process limit (RLIMIT_NPROC) is reached: a typed SpawnError
// with errno EAGAIN, like any backend's failed start; the next spawn after the limit works. Runs a
// real Node parent on the built packages (dist/) as an unprivileged user, since root ignores the limit.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

const packageDir = path.join(__dirname, '..');
const coreEntry = path.join(packageDir, '..', 'core', 'dist', 'index.js');
const helperEntry = path.join(packageDir, 'dist', 'index.js');
const NOBODY = 65534;

function missing(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (
    ![coreEntry, helperEntry, path.join(packageDir, 'dist', `${process.platform}-${process.arch}`, 'fxhelper')].every(
      (file) => existsSync(file),
    )
  )
    return 'needs the packages built (npm run build)';
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'needs prlimit (util-linux)';
  }
  if (process.getuid?.() === 0) {
    for (let dir = packageDir; dir !== path.dirname(dir); dir = path.dirname(dir))
      if ((statSync(dir).mode & 0o001) === 0) return `runs as nobody, who cannot enter ${dir}`;
  }
  return undefined;
}

const why = missing();

describe('the process limit', () => {
  if (why) it.skip(`(skipped: ${why})`, () => {});
  (why ? it.skip : it)('no helper can start: SpawnError EAGAIN, then the next spawn works', () => {
    const stdout = execFileSync(
      process.execPath,
      [path.join(__dirname, 'fixtures', 'process-limit-child.mjs'), coreEntry, helperEntry],
      {
        encoding: 'utf8',
        timeout: 60_000,
        cwd: '/',
        ...(process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {}),
      },
    );
    const report = JSON.parse(stdout);
    expect(report.before).toEqual({ ok: 'before' });
    expect(report.limited).toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'EAGAIN' });
    expect(report.limited.message).toMatch(/could not start a helper/);
    expect(report.limitedIgnoring).toMatchObject({ code: 'FORKEXEC_SPAWN', errno: 'EAGAIN' });
    expect(report.after).toEqual({ ok: 'after' });
  });
});
