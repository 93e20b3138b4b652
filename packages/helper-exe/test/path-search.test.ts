import { execFileSync } from 'node:child_process';
import path from 'node:path';

// Core leaves a bare name to the helper's execvp-style search only when process.env is libc's
// environment, which Jest's proxy is not: so the checks run in a plain Node process, on the built packages.
const testing = path.resolve(__dirname, '../../core/dist/testing.js');
const dist = path.resolve(__dirname, '../dist/index.js');

test('a bare name is found by the helper in the PATH of the request, as execvp would, with no stat on the event loop', () => {
  const script = `
    const { checkChildPathSearch } = await import(${JSON.stringify(testing)});
    const { createBackend } = await import(${JSON.stringify(dist)});
    const backend = createBackend();
    try {
      await checkChildPathSearch(backend);
    } finally {
      await backend.dispose();
    }
    console.log('checked');`;
  expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe(
    'checked',
  );
});
