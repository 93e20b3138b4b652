/** Standard streams: capture without loss, input, streaming, parent fds and ignore, maxBuffer. */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { MiB, rejectsWith } from '../cases.js';
import type { ConformanceContext } from './context.js';

export function stdioCases(ctx: ConformanceContext): void {
  const { label, test, run, tmp } = ctx;
  test('captures 16 MiB on stdout and stderr at once without loss', async () => {
    const result = await run(['spew', '1', String(16 * MiB), 'spew', '2', String(16 * MiB)], {
      encoding: 'buffer',
    });
    for (const stream of [result.stdout, result.stderr] as unknown as Buffer[]) {
      assert.equal(stream.length, 16 * MiB);
      assert.equal(stream[0], 97);
      assert.equal(stream[stream.length - 1], 97 + (((16 * MiB - 1) % 65536) % 26));
    }
  });

  test('input reaches stdin and comes back through cat', async () => {
    const input = Buffer.alloc(4 * MiB, 'forkexec ');
    const result = await run(['cat'], { input, encoding: 'buffer' });
    assert.ok(Buffer.compare(result.stdout as unknown as Buffer, input) === 0);
  });

  test('buffer: false: the result waits for the output the caller is reading', async () => {
    const child = run(['spew', '1', String(MiB)], { buffer: false });
    let bytes = 0;
    // A slow reader: the child has exited long before the last chunks are taken. Counted as the
    // stream hands them out: a chunk may still wait in `slow`'s own buffer when the stream ends.
    child.stdout!.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stdout!.pipe(new Writable({ highWaterMark: 1, write: (_chunk, _encoding, done) => setTimeout(done, 2) }));
    const result = await child;
    assert.equal(result.stdout, '');
    assert.equal(bytes, MiB);
  });

  test('stdin pipe stream can be written by the caller', async () => {
    const child = run(['cat'], { stdin: 'pipe' });
    child.stdin!.end('streamed\n');
    assert.equal((await child).stdout, 'streamed');
  });

  test('lines can be iterated as they arrive', async () => {
    const lines: string[] = [];
    for await (const line of run(['echo', 'one', 'echo', 'two', 'sleep', '50', 'echo', 'three'])) lines.push(line);
    assert.deepEqual(lines, ['one', 'two', 'three']);
  });

  test('stdio: a parent fd number and ignore', async () => {
    const file = path.join(tmp(), 'stdout-fd.txt');
    const fd = openSync(file, 'w');
    try {
      const result = await run(['echo', 'to-file', 'write', '2', 'err'], { stdout: fd, stderr: 'ignore' });
      assert.equal(result.stdout, '');
      assert.equal(result.stderr, '');
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(file, 'utf8'), 'to-file\n');
  });

  test('a stdio fd the caller closes right after the call still reaches the child', async () => {
    const file = path.join(tmp(), `closed-at-once${label.length}.txt`);
    const fd = openSync(file, 'w');
    const child = run(['echo', 'still-there'], { stdout: fd });
    closeSync(fd);
    assert.equal((await child).exitCode, 0);
    assert.equal(readFileSync(file, 'utf8'), 'still-there\n');
  });

  test('maxBuffer is enforced with FORKEXEC_MAX_BUFFER', async () => {
    await rejectsWith(run(['spew', '1', String(4 * MiB)], { maxBuffer: 1000 }), 'FORKEXEC_MAX_BUFFER');
  });
}
