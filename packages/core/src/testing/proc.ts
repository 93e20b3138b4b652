/** What the conformance and reliability suites read about the parent from /proc: its fds, children and zombies. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Open fds of this process, ascending. */
export function openFds(): number[] {
  return readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => {
      try {
        readlinkSync(`/proc/self/fd/${fd}`);
        return true;
      } catch {
        return false; // the fd of the readdir itself
      }
    })
    .sort((a, b) => a - b);
}

/**
 * Open fds once they stop changing (two reads 20 ms apart agree, within `ms`): the pipes of spawns
 * that just settled can close a tick later, and a snapshot taken before then is not a baseline.
 */
export async function steadyOpenFds(ms = 2000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let last = openFds();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = openFds();
    if (now.join() === last.join() || Date.now() > deadline) return now;
    last = now;
  }
}

/** Parent fds without close-on-exec: a backend without closefrom cannot keep them from children. */
export function inheritableFds(): number[] {
  return openFds().filter((fd) => {
    try {
      const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      return flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0;
    } catch {
      return false;
    }
  });
}

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
}

function statOf(pid: number | 'self'): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const [state, ppid, pgrp, session] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(text.slice(0, text.indexOf(' '))),
    state,
    ppid: Number(ppid),
    pgrp: Number(pgrp),
    session: Number(session),
  };
}

/** Process group and session of this process. */
export function ownIds(): { pgid: number; sid: number } {
  const stat = statOf('self')!;
  return { pgid: stat.pgrp, sid: stat.session };
}

/** Children of this process (zombies included), by pid, with their state letter. */
export function childProcesses(): Map<number, string> {
  const children = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat?.ppid === process.pid) children.set(stat.pid, stat.state);
  }
  return children;
}

/** Tasks (threads) of processes whose real uid is `uid`, machine-wide: what RLIMIT_NPROC counts. */
export function tasksOfUser(uid: number): number {
  let tasks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid)
        tasks += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
    } catch {
      // gone meanwhile
    }
  }
  return tasks;
}

/** A snapshot of what a spawner may leak: open fds and child processes. */
export interface Footprint {
  fds: number[];
  children: number[];
}

export function footprint(): Footprint {
  return { fds: openFds(), children: [...childProcesses().keys()].sort((a, b) => a - b) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (up to `ms`) until the fd count is back to `before` (or lower) and no child is left
 * that was not there before; returns what is
 * still different, or undefined. Streams close and children are reaped a few ticks after a
 * result settles, so an immediate comparison would flake.
 */
export async function settledDifference(before: Footprint, ms = 3000): Promise<string | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = footprint();
    const extraFds = now.fds.filter((fd) => !before.fds.includes(fd));
    const extraChildren = now.children.filter((pid) => !before.children.includes(pid));
    // Fewer fds is fine: something open at the start (a previous case's stream) closed since.
    const fdCountChanged = now.fds.length > before.fds.length;
    if (!fdCountChanged && extraChildren.length === 0) return undefined;
    if (Date.now() > deadline) {
      const describeFd = (fd: number) => {
        try {
          return `${fd}→${readlinkSync(`/proc/self/fd/${fd}`)}`;
        } catch {
          return `${fd}→?`;
        }
      };
      const states = childProcesses();
      return [
        fdCountChanged
          ? `fd count ${before.fds.length} → ${now.fds.length} (new: ${extraFds.map(describeFd).join(', ') || 'none'})`
          : '',
        extraChildren.length
          ? `children left: ${extraChildren.map((pid) => `${pid}(${states.get(pid) ?? 'gone'})`).join(', ')}`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
    }
    await sleep(20);
  }
}

/** The program a process runs (its /proc exe link), or undefined when it is gone or a zombie. */
export function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}
