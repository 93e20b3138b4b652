// What the test process holds: its fds and its child processes, read from /proc.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export function openFds(): number[] {
  return readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => {
      try {
        readlinkSync(`/proc/self/fd/${fd}`);
        return true;
      } catch {
        return false; // the directory handle readdir used
      }
    })
    .sort((a, b) => a - b);
}

/** Pids (zombies included) whose parent is this process. */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) pids.push(Number(entry));
    } catch {} // gone meanwhile
  }
  return pids;
}

/** 'gone', or the state letter of pid ('Z' for a zombie). */
export function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return 'gone';
  }
}

/** Polls until check() is true; fails with what() after timeoutMs. */
export async function until(check: () => boolean, what: () => string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Nothing started since `before` is still there (a helper the probe started may have gone since). */
export const noNewChildren = (before: number[]): boolean => childPids().every((pid) => before.includes(pid));
