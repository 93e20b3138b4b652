/** Load and volume: many spawns in sequence and at once, and hundreds of MiB through the pipes. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import { MiB, rejectsWith, type ReliabilityContext } from './reliability-context.js';
import { footprint, footprintUnavailable, settledDifference } from './reliability-footprint.js';

/** The probe's spew/churn pattern: byte k of a stream is 'a' + (k mod 65536) mod 26. */
const PATTERN = (() => {
  const block = Buffer.alloc(2 * 65536);
  for (let k = 0; k < block.length; k++) block[k] = 97 + ((k % 65536) % 26);
  return block;
})();

/** Checks a stream against the pattern as it flows, without keeping it: resolves to the byte count. */
function verifyPattern(stream: Readable, limit: number): Promise<{ bytes: number; tail: string }> {
  return new Promise((resolve, reject) => {
    let position = 0;
    let tail = '';
    stream.on('data', (chunk: Buffer) => {
      let offset = 0;
      while (offset < chunk.length && position < limit) {
        const at = position % 65536;
        const n = Math.min(chunk.length - offset, 65536, limit - position);
        if (!chunk.subarray(offset, offset + n).equals(PATTERN.subarray(at, at + n))) {
          stream.destroy();
          reject(new Error(`stream differs from the pattern within bytes ${position}..${position + n}`));
          return;
        }
        offset += n;
        position += n;
      }
      if (offset < chunk.length) tail += chunk.subarray(offset).toString('latin1');
    });
    stream.once('error', reject);
    stream.once('end', () => resolve({ bytes: position, tail }));
  });
}

/** FNV-1a (32-bit) as the probe's churn command computes it. */
function fnv1a(hash: number, bytes: Buffer): number {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h;
}

/** Writes `total` random bytes to `stdin` with backpressure, then ends it; resolves to their FNV-1a. */
async function feed(stdin: Writable, total: number): Promise<number> {
  let hash = 2166136261;
  async function* chunks() {
    for (let sent = 0; sent < total;) {
      const chunk = randomBytes(Math.min(MiB, total - sent));
      hash = fnv1a(hash, chunk);
      sent += chunk.length;
      yield chunk;
    }
  }
  await pipeline(Readable.from(chunks()), stdin);
  return hash;
}

export function loadCases(ctx: ReliabilityContext): void {
  const { run, test, tally } = ctx;
  const sequential = ctx.options.sequential;
  const inFlight = ctx.options.inFlight;
  const volume = ctx.options.volumeBytes;

  test(
    `${sequential} sequential spawns: every exit status and byte of output arrives, nothing leaks`,
    async () => {
      await run(['exit', '0']); // warm-up: lazily made state (handlers, pools) is not a leak
      const before = footprint();
      const wrong: string[] = [];
      const started = performance.now();
      for (let i = 0; i < sequential; i++) {
        const r = await run(['echo', `seq-${i}`, 'write', '2', `e${i}`, 'exit', String(i % 256)], { reject: false });
        if (r.stdout !== `seq-${i}` || r.stderr !== `e${i}` || r.exitCode !== i % 256 || r.signal !== null)
          wrong.push(
            `#${i}: exit ${r.exitCode} signal ${r.signal} stdout ${JSON.stringify(r.stdout)} stderr ${JSON.stringify(r.stderr)}`,
          );
      }
      tally.msPerSpawn = (performance.now() - started) / sequential;
      assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${sequential} spawns lost something`);
      assert.equal(await settledDifference(before), undefined);
    },
    [],
    footprintUnavailable,
    Math.max(600_000, sequential * 150),
  );

  test(
    `${inFlight} spawns in flight at once: every exit status and byte arrives, nothing leaks`,
    async () => {
      await run(['exit', '0']);
      const before = footprint();
      const results = await Promise.all(
        Array.from({ length: inFlight }, (_, i) =>
          run(['echo', `flight-${i}`, 'spew', '2', String((i * 997) % 70000), 'exit', String(i % 256)], {
            reject: false,
          }),
        ),
      );
      const wrong = results.flatMap((r, i) => {
        const spewed = (i * 997) % 70000;
        const ok =
          r.stdout === `flight-${i}` &&
          r.stderr.length === spewed &&
          (spewed === 0 || r.stderr.endsWith(String.fromCharCode(97 + (((spewed - 1) % 65536) % 26)))) &&
          r.exitCode === i % 256;
        return ok
          ? []
          : [
              `#${i}: exit ${r.exitCode} ${r.signal} stdout ${JSON.stringify(r.stdout.slice(0, 40))} stderr ${r.stderr.length}/${spewed} bytes`,
            ];
      });
      assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${inFlight} lost something`);
      assert.equal(new Set(results.map((r) => r.pid)).size, inFlight, 'every child has its own pid');
      assert.equal(await settledDifference(before), undefined);
    },
    [],
    footprintUnavailable,
    300_000,
  );

  test(
    `${volume / MiB} MiB on stdout and stderr at once while stdin is fed: no deadlock, no loss`,
    async () => {
      const input = Math.floor(volume / 4);
      const child = run(['churn', String(volume)], { stdin: 'pipe', buffer: false });
      const [stdout, stderr, sent, r] = await Promise.all([
        verifyPattern(child.stdout!, volume),
        verifyPattern(child.stderr!, volume),
        feed(child.stdin!, input),
        child,
      ]);
      assert.equal(r.exitCode, 0);
      assert.equal(stdout.bytes, volume);
      assert.equal(stderr.bytes, volume);
      assert.equal(stderr.tail, '');
      assert.equal(
        stdout.tail,
        `in=${input} fnv=${sent.toString(16).padStart(8, '0')}\n`,
        'the child read every byte of stdin',
      );
    },
    [],
    undefined,
    300_000,
  );

  test(
    'maxBuffer: overflowing stdout or stderr rejects with FORKEXEC_MAX_BUFFER, keeps exactly maxBuffer bytes, and the next spawn works',
    async () => {
      for (const fd of ['1', '2']) {
        const error = await rejectsWith(
          ctx.runBuffer(['spew', fd, String(volume)], { maxBuffer: MiB }),
          'FORKEXEC_MAX_BUFFER',
        );
        tally.faults++;
        assert.equal((error[fd === '1' ? 'stdout' : 'stderr'] as Buffer).length, MiB);
        assert.ok(error.signal !== null || error.exitCode !== 0, 'the child was stopped');
      }
      // Overflow while the parent is still feeding stdin: the write side must not hang or throw.
      const child = ctx.runBuffer(['churn', String(volume)], { stdin: 'pipe', maxBuffer: 4 * MiB });
      const feeding = feed(child.stdin!, volume).catch(() => undefined);
      await rejectsWith(child, 'FORKEXEC_MAX_BUFFER');
      tally.faults++;
      await feeding;
      assert.equal((await run(['echo', 'after'])).stdout, 'after');
    },
    [],
    undefined,
    120_000,
  );
}
