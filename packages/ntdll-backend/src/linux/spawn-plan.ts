/**
 * Turns a SpawnRequest into what posix_spawn takes: an ordered list of file actions and the
 * attributes. Pure: no syscall here, so every rule is testable on its own.
 */
import { constants as fsConstants } from 'node:fs';
import { openFlagsNumber, signalNumber, SpawnError, UnsupportedActionError, type SpawnRequest } from '@forkexec/core';

/** Where a standard fd of the child comes from once stdio is set up. */
export type StdioSource =
  /** dup2 this parent fd onto the slot (the slot's own number for 'inherit': clears close-on-exec). */
  | { fd: number }
  | 'devnull'
  /** The parent's fd is closed, as the child's will be. */
  | 'closed';

/** A posix_spawn file action; `actionIndex` names the request action it comes from. */
export type FileOp = (
  | { op: 'dup2'; from: number; to: number }
  | { op: 'close'; fd: number }
  | { op: 'open'; fd: number; path: string; flags: number; mode: number }
  | { op: 'chdir'; path: string }
  | { op: 'closefrom'; fd: number }
) & { actionIndex?: number };

export interface SpawnPlan {
  fileOps: FileOp[];
  setsid: boolean;
  /** Process group to join (0: a new one led by the child); undefined: stay in the parent's. */
  pgroup: number | undefined;
  /** Signals blocked in the child; empty unless a sigmask action says otherwise. */
  sigmask: number[];
}

/**
 * Whether the actions read an fd of the parent (a dup2 from an fd the child has not set up
 * itself): such a spawn must run at once, before the caller can close or reuse that fd.
 */
export function readsParentFds(request: SpawnRequest): boolean {
  const childFds = new Set([0, 1, 2]); // set up by stdio first
  for (const action of request.actions) {
    if (action.op === 'dup2') {
      if (!childFds.has(action.from)) return true;
      childFds.add(action.to);
    } else if (action.op === 'open') childFds.add(action.fd);
    else if (action.op === 'close') childFds.delete(action.fd);
    else if (action.op === 'closefrom') for (const fd of childFds) if (fd >= action.fd) childFds.delete(fd);
  }
  return false;
}

/** Gaps of at most this many fds are closed one by one; wider ones by looking at the parent's open fds. */
const GAP_CLOSE_LIMIT = 64;

/**
 * `stdio` gives the source of fds 0-2; `parentFds` lists the parent's open fds (called only
 * when the actions keep a high fd above a wide gap).
 *
 * Rules, matching what a forked child running the actions in order would end up with:
 * - stdio first, then the request's actions in order, then closing every fd above 2 that no
 *   action asked for, so inherited fds without close-on-exec never leak.
 * - glibc applies setsid/setpgid before the file actions: an `open` listed before `setsid`
 *   gets O_NOCTTY, so it cannot acquire a controlling terminal the real order would not have.
 * - signal dispositions always return to default (Node ignores SIGPIPE and SIGXFSZ, children
 *   must not inherit that), so `sigdefault` is already covered; the last `sigmask` wins.
 */
export function planSpawn(request: SpawnRequest, stdio: readonly StdioSource[], parentFds: () => number[]): SpawnPlan {
  const fileOps: FileOp[] = [];
  let devnull: number | undefined; // the first slot that opened /dev/null: later ones share it (one open fewer in the child)
  for (let slot = 0; slot < stdio.length; slot++) {
    const source = stdio[slot];
    if (source === 'devnull' && devnull !== undefined) fileOps.push({ op: 'dup2', from: devnull, to: slot });
    else if (source === 'devnull')
      fileOps.push({ op: 'open', fd: (devnull = slot), path: '/dev/null', flags: fsConstants.O_RDWR, mode: 0 });
    else if (source === 'closed') fileOps.push({ op: 'close', fd: slot });
    else fileOps.push({ op: 'dup2', from: source.fd, to: slot });
  }

  const plan: SpawnPlan = { fileOps, setsid: false, pgroup: undefined, sigmask: [] };
  // The usual call has no actions: every fd above 2 closed, without the bookkeeping below (what closeUnasked returns for none kept).
  if (request.actions.length === 0) {
    fileOps.push({ op: 'closefrom', fd: 3 });
    return plan;
  }
  const kept = new Set<number>();
  const setsidIndex = request.actions.findIndex((a) => a.op === 'setsid');
  const fail = (index: number, errno: string, why: string): never => {
    throw new SpawnError(`actions[${index}]: ${why}`, { errno, actionIndex: index, command: request.command });
  };

  request.actions.forEach((action, index) => {
    switch (action.op) {
      case 'dup2':
        fileOps.push({ op: 'dup2', from: action.from, to: action.to, actionIndex: index });
        if (action.to > 2) kept.add(action.to);
        break;
      case 'close':
        fileOps.push({ op: 'close', fd: action.fd, actionIndex: index });
        kept.delete(action.fd);
        break;
      case 'open': {
        let flags = openFlagsNumber(action.flags);
        if (index < setsidIndex) flags |= fsConstants.O_NOCTTY;
        fileOps.push({
          op: 'open',
          fd: action.fd,
          path: action.path,
          flags,
          mode: action.mode ?? 0o666,
          actionIndex: index,
        });
        if (action.fd > 2) kept.add(action.fd);
        break;
      }
      case 'chdir':
        fileOps.push({ op: 'chdir', path: action.path, actionIndex: index });
        break;
      case 'closefrom':
        fileOps.push({ op: 'closefrom', fd: action.fd, actionIndex: index });
        for (const fd of kept) if (fd >= action.fd) kept.delete(fd);
        break;
      case 'setsid':
        if (plan.setsid) fail(index, 'EPERM', 'setsid: the child is already a session leader');
        if (plan.pgroup === 0)
          fail(index, 'EPERM', 'setsid: the child already leads a process group (setpgid(0) came first)');
        if (plan.pgroup !== undefined)
          throw new UnsupportedActionError(
            index,
            `setsid after setpgid(${plan.pgroup}): posix_spawn always runs setsid first`,
            {
              command: request.command,
              hint: 'Drop the setpgid: setsid makes the child a group leader anyway.',
            },
          );
        plan.setsid = true;
        break;
      case 'setpgid':
        if (plan.setsid) fail(index, 'EPERM', 'setpgid: a session leader cannot change its process group');
        plan.pgroup = action.pgid;
        break;
      case 'sigdefault':
        break; // every disposition is reset already
      case 'sigmask':
        plan.sigmask = action.signals.map(signalNumber);
        break;
      default:
        throw new UnsupportedActionError(
          index,
          `the ntdll backend cannot carry out ${action.op} on ${process.platform}`,
          { command: request.command },
        );
    }
  });

  fileOps.push(
    ...closeUnasked(
      [...kept].sort((a, b) => a - b),
      parentFds,
    ),
  );
  return plan;
}

/** Close actions leaving exactly fds 0-2 and `kept` (sorted) open above 2. */
function closeUnasked(kept: number[], parentFds: () => number[]): FileOp[] {
  const ops: FileOp[] = [];
  let open: number[] | undefined;
  let from = 3;
  for (const fd of kept) {
    if (fd - from <= GAP_CLOSE_LIMIT) for (let gap = from; gap < fd; gap++) ops.push({ op: 'close', fd: gap });
    else for (const gap of (open ??= parentFds())) if (gap >= from && gap < fd) ops.push({ op: 'close', fd: gap });
    from = fd + 1;
  }
  ops.push({ op: 'closefrom', fd: from });
  return ops;
}
