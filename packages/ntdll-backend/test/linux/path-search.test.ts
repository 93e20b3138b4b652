import { execFileSync } from 'node:child_process';
import path from 'node:path';

// posix_spawnp searches libc's PATH, which Jest's process.env proxy does not reach: core leaves the
// search to the child only in a plain Node process, so the checks run in one, on the built packages.
const testing = path.resolve(__dirname, '../../../core/dist/testing.js');
const dist = path.resolve(__dirname, '../../dist/index.js');

test('a bare name is found in the child (clone path, posix_spawnp), as execvp would, with no stat on the event loop', () => {
  const script = `
    const { checkChildPathSearch } = await import(${JSON.stringify(testing)});
    const { createBackend } = await import(${JSON.stringify(dist)});
    await checkChildPathSearch(createBackend({ spawner: 'clone' })); // the default: the search in the cloned child
    const posix = createBackend({ spawner: 'posix_spawn' });
    await checkChildPathSearch(posix); // off the event loop
    await checkChildPathSearch(posix, { startOffLoop: false });
    console.log('checked');`;
  expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim()).toBe(
    'checked',
  );
});
