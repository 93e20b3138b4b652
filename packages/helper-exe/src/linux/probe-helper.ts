/**
 * The probe's handshake with a real helper: start one with the starter, read its hello (waiting a
 * bounded time, blocking: probe() is synchronous), check the protocol version, and let it go
 * (closing the socket ends it; the starter reaps it). Cached per starter and helper program.
 */
import { closeSync, readSync } from 'node:fs';
import type { Backend } from '@forkexec/core';
import type { FdPassing } from './fd-passing.js';
import { startHelperProgram } from './helper-process.js';
import { FRAME_SIZE, PROTOCOL_VERSION, ReplyReader } from './wire.js';

const HELLO_TIMEOUT_MS = 2000;
const results = new Map<string, string | undefined>();

/** Undefined when a helper started and said hello in our protocol version; otherwise what went wrong. */
export function probeHelper(starter: Backend, file: string, native: FdPassing): string | undefined {
  const key = `${starter.name}\0${file}`;
  if (!results.has(key)) results.set(key, handshake(starter, file, native));
  return results.get(key);
}

function handshake(starter: Backend, file: string, native: FdPassing): string | undefined {
  let started: ReturnType<typeof startHelperProgram>;
  try {
    started = startHelperProgram(starter, file, native);
  } catch (error) {
    return `the helper program ${file} does not start with the ${starter.name} backend: ${(error as Error).message.split('\n')[0]}`;
  }
  const { fd, child } = started;
  child.exited.catch(() => {});
  try {
    const frame = Buffer.alloc(FRAME_SIZE);
    const deadline = Date.now() + HELLO_TIMEOUT_MS;
    for (let got = 0; got < FRAME_SIZE;) {
      if (!native.pollReadable(fd, deadline - Date.now())) {
        child.kill('SIGKILL');
        return `the helper program ${file} did not say hello within ${HELLO_TIMEOUT_MS} ms`;
      }
      const n = readSync(fd, frame, got, FRAME_SIZE - got, null);
      if (n === 0)
        return `the helper program ${file} exited before saying hello: is it this package's fxhelper? Rebuild the package`;
      got += n;
    }
    const [reply] = new ReplyReader().push(frame);
    if (reply.kind !== 'hello') throw new Error(`expected hello, got ${reply.kind}`);
    if (reply.version !== PROTOCOL_VERSION)
      throw new Error(
        `it speaks protocol version ${reply.version}, this package version ${PROTOCOL_VERSION}: rebuild the package`,
      );
    if (reply.pid !== child.pid) throw new Error(`hello from pid ${reply.pid}, expected ${child.pid}`);
    return undefined;
  } catch (error) {
    child.kill('SIGKILL');
    return `the helper program ${file} failed the handshake: ${(error as Error).message}`;
  } finally {
    closeSync(fd);
  }
}
