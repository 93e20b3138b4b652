import assert from 'node:assert/strict';
import fs, { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend } from '../backend.js';
import { forkBeforeExec } from '../fork-before-exec.js';
import type { Options } from '../options.js';
import { processEnvIsEnviron } from '../process-env.js';

/** Counts fs.statSync calls (ES module bindings included) until `stop()`. */
function countStats(): { count: number; stop(): void } {
  const writable = fs as { statSync: typeof fs.statSync };
  const original = fs.statSync;
  const counter = {
    count: 0,
    stop() {
      writable.statSync = original;
      syncBuiltinESMExports();
    },
  };
  writable.statSync = ((...args: Parameters<typeof original>) => {
    counter.count++;
    return original(...args);
  }) as typeof original;
  syncBuiltinESMExports();
  return counter;
}

/**
 * Checks that a backend with `capabilities.searchesPath` finds bare names as execvp does, with no
 * stat on the event loop: first match in PATH, a program added to an earlier directory found at
 * once, relative entries against the child's cwd, and the same errors as core's own search
 * (missing, not executable, no #! and no binary: never run by /bin/sh). Runs in the calling
 * process, which must be a plain Node main thread: elsewhere (Jest's process.env proxy, a Worker)
 * core searches PATH itself.
 */
export async function checkChildPathSearch(backend: Backend, start: Options = {}): Promise<void> {
  assert.ok(backend.capabilities.searchesPath, `${backend.name} does not declare searchesPath`);
  assert.ok(
    processEnvIsEnviron(),
    "process.env is not Node's own store here (a test runner's sandbox, a Worker): run this in a plain Node process",
  );
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'forkexec-path-search-')));
  const [first, second] = [path.join(dir, 'first'), path.join(dir, 'second')];
  for (const bin of [first, second]) mkdirSync(bin);
  const program = (file: string, text: string, mode = 0o755) => writeFileSync(file, text, { mode });
  const run = (file: string, options: Options = {}) => forkBeforeExec(file, [], { backend, ...start, ...options });
  const refusal = async (file: string, errno: string, why: RegExp) => {
    const error = (await run(file).then(
      () => undefined,
      (e: unknown) => e,
    )) as { errno?: string; message: string } | undefined;
    assert.equal(error?.errno, errno, `${file}: expected ${errno}, got ${String(error?.message)}`);
    assert.match(error.message, why);
  };
  const parentPath = process.env.PATH;
  process.env.PATH = `${first}:${second}:${parentPath}`;
  const stats = countStats();
  try {
    program(path.join(second, 'fx-search'), '#!/bin/sh\necho second\n');
    assert.equal((await run('fx-search')).stdout, 'second');
    assert.equal(stats.count, 0, 'core searched PATH on the event loop');
    program(path.join(first, 'fx-search'), '#!/bin/sh\necho first\n');
    assert.equal(
      (await run('fx-search')).stdout,
      'first',
      'a program added to an earlier PATH directory is found at once',
    );

    await refusal('fx-search-missing', 'ENOENT', /not found in PATH/);
    program(path.join(first, 'fx-search-text'), `touch ${dir}/ran-by-sh\n`);
    await refusal('fx-search-text', 'ENOEXEC', /neither a binary nor a script/);
    assert.equal(existsSync(path.join(dir, 'ran-by-sh')), false, 'a shell ran the file');
    program(path.join(first, 'fx-search-denied'), '#!/bin/sh\n', 0o644);
    await refusal('fx-search-denied', 'EACCES', /is not executable/);

    stats.count = 0;
    assert.equal(
      (await run('fx-search', { env: { PATH: second } })).stdout,
      'second',
      "the child's own PATH is searched",
    );
    assert.ok(stats.count > 0, "a PATH other than the parent's is searched by core");

    process.env.PATH = `.:${parentPath}`;
    program(path.join(second, 'fx-search-here'), '#!/bin/sh\necho here\n');
    assert.equal(
      (await run('fx-search-here', { cwd: second })).stdout,
      'here',
      "a relative PATH entry is the child's cwd",
    );
  } finally {
    stats.stop();
    process.env.PATH = parentPath;
    rmSync(dir, { recursive: true, force: true });
  }
}
