import type { Readable, Writable } from 'node:stream';

/** The parent's ends of a child's stdio, as a backend hands them to core. */
export interface ChildStdioStreams {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
}

/**
 * Once the child is gone, as child_process does: stdin has no reader left and is destroyed, and
 * output nobody reads is drained so that its pipe reaches EOF and closes instead of staying open
 * (and holding an fd) forever. Backends call it when the child exited.
 */
export function flushChildStdio({ stdin, stdout, stderr }: ChildStdioStreams): void {
  stdin?.destroy();
  for (const stream of [stdout, stderr])
    if (
      stream &&
      stream.readable &&
      !stream.readableFlowing &&
      stream.listenerCount('data') === 0 &&
      stream.listenerCount('readable') === 0
    )
      stream.resume();
}
