import { execFileSync } from 'node:child_process';
import path from 'node:path';

// posix_spawnp searches libc's PATH, which Jest's process.env proxy does not reach: core leaves the
// search to the child only in a plain Node process, so the checks run in one, on the built packages.
const testing = path.resolve(__dirname, '../../../core/dist/testing.js');
const dist = path.resolve(__dirname, '../../dist/index.js');

test('a bare name is found by posix_spawnp in the child, as execvp would, with no stat on the event loop', () => {
  const script = `
    const { checkChildPathSearch } = await import(${JSON.stringify(testing)});
    const { backend } = await import(${JSON.stringify(dist)});
    await checkChildPathSearch(backend); // off the event loop
    await checkChildPathSearch(backend, { startOffLoop: false });
    console.log('checked');`;
  expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe(
    'checked',
  );
});
