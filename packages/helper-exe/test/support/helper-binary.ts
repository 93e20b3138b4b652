// Builds the helper program once per test file with the package's own build script, into a
// temporary folder (tests do not depend on `npm run build`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBackend, type HelperExeBackend } from '../../src/index.js';

const packageDir = path.join(__dirname, '..', '..');

/** Path the helper will be built at; call buildHelper() (e.g. in beforeAll) before the first spawn. */
export function helperBinary(): { path: string; build(): void; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-helper-'));
  return {
    path: path.join(dir, 'fxhelper'),
    build: () =>
      void execFileSync(process.execPath, [path.join(packageDir, 'scripts', 'build-native.mjs'), dir], {
        stdio: 'pipe',
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A backend on a helper built for this test file: built before its first case, disposed and removed after the last. */
export function backendOnBuiltHelper(): HelperExeBackend {
  const helper = helperBinary();
  const backend = createBackend({ helperPath: helper.path });
  beforeAll(() => helper.build());
  afterAll(async () => {
    await backend.dispose?.();
    helper.remove();
  });
  return backend;
}
