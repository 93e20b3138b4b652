/**
 * What a spawner may leak, on the platforms the suite can look at: open fds and children from
 * /proc on Linux; open handles and child processes through koffi on Windows.
 */
import * as proc from './proc.js';
import { childPids, openHandles, win32Unavailable } from './win32-parent-handles.js';

export type Footprint = proc.Footprint;

/** Why the parent's footprint cannot be read here, or undefined when it can. */
export function footprintUnavailable(): string | undefined {
  if (process.platform === 'linux') return undefined;
  if (process.platform === 'win32') return win32Unavailable();
  return 'reads /proc (Linux only)';
}

/** Open fds (handles on Windows) and children of this process. */
export function footprint(): Footprint {
  return process.platform === 'win32' ? { fds: openHandles(), children: childPids() } : proc.footprint();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (up to `ms`) until the fd or handle count is back to `before` (or lower) and no child is
 * left that was not there before; returns what is still different, or undefined. On Windows the
 * thread pool keeps a wait bucket (a thread and an event handle) for each 63 waits in flight, and
 * lets it go 5 s after its last wait ends (Wine measured): hence the longer default there.
 */
export async function settledDifference(
  before: Footprint,
  ms = process.platform === 'win32' ? 10_000 : 3000,
): Promise<string | undefined> {
  if (process.platform !== 'win32') return proc.settledDifference(before, ms);
  const deadline = Date.now() + ms;
  for (;;) {
    const now = footprint();
    const extraChildren = now.children.filter((pid) => !before.children.includes(pid));
    if (now.fds.length <= before.fds.length && extraChildren.length === 0) return undefined;
    if (Date.now() > deadline) {
      const extraHandles = now.fds.filter((handle) => !before.fds.includes(handle));
      return [
        now.fds.length > before.fds.length
          ? `handle count ${before.fds.length} → ${now.fds.length} (new: ${extraHandles.join(', ') || 'none'})`
          : '',
        extraChildren.length ? `children left: ${extraChildren.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ');
    }
    await sleep(50);
  }
}
