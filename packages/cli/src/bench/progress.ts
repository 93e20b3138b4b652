import type { Progress } from './run-bench.js';

/** A one-line progress display on a terminal stream; nothing when it is not a terminal. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): { update: Progress; done: () => void } {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  const started = Date.now();
  let last = 0;
  const clear = () => stream.write('\r\x1b[2K');
  return {
    update(text) {
      const now = Date.now();
      if (now - last < 100) return; // a few repaints a second is plenty
      last = now;
      const line = `forkexec bench [${Math.round((now - started) / 1000)}s] ${text}`;
      clear();
      stream.write(line.slice(0, Math.max(20, (stream.columns || 80) - 1)));
    },
    done: clear,
  };
}
