/**
 * Which fds the program starts with, and where each comes from. A real fork would inherit the
 * parent's fds at their own numbers; the helper is not a fork of this process, so the parent fds
 * the request names (stdio, and dup2 sources no earlier action made) travel to it with SCM_RIGHTS
 * and are put back at the same numbers before the actions run. The request is sent after the call
 * returns, and the caller may close or reuse those numbers at once (as it may after a real fork):
 * so what travels is a copy of each, made during the call. Pipes are made here, their parent ends
 * kept as Node streams.
 */
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { SpawnError, type SpawnRequest } from '@forkexec/core';
import { spawnHint } from '@forkexec/core/backend-kit';
import { FdPassingError, type FdPassing } from './fd-passing.js';
import { MAX_PASSED_FDS, type FdSetup } from './wire.js';

const FD_CLOEXEC = 1;

export interface FdPlan {
  setup: FdSetup[];
  /** Parent fds to pass, in the order setup sources index them. */
  passed: number[];
  /** Parent ends of stdio pipes, by slot (NO_PIPES while none is made). */
  parentEnds: (number | null)[];
  /** The fds opened for the helper only (the pipes' helper ends, copies of the caller's fds): closed here once sent. */
  helperEnds: number[];
  /**
   * The caller's fd each passed one stands for (pipe ends: themselves), by index in `passed`. A
   * handful of fds at most: a linear search costs less than a Map per spawn.
   */
  named: number[];
}

/** Passes `copy`, standing for the caller's `fd`: its index. */
function pass(plan: FdPlan, fd: number, copy = fd): number {
  plan.named.push(fd);
  return plan.passed.push(copy) - 1;
}

/** The index of a copy of the caller's fd, made once per fd; -1 when fd is not open. */
function passCopy(plan: FdPlan, fd: number, native: FdPassing): number {
  const index = plan.named.indexOf(fd);
  if (index !== -1) return index;
  const copy = native.dupCloexec(fd);
  if (copy === -1) return -1;
  plan.helperEnds.push(copy);
  return pass(plan, fd, copy);
}

/** Setup entries without a passed fd, by slot: shared (encodeRequest only reads them), as allocations cost on the spawn path. */
const DEVNULL: readonly FdSetup[] = [0, 1, 2].map((target) => Object.freeze({ target, source: 'devnull' as const }));
const CLOSED: readonly FdSetup[] = [0, 1, 2].map((target) => Object.freeze({ target, source: 'closed' as const }));

/** The parent ends of a plan that makes no pipe (the array is replaced by the first one made). */
export const NO_PIPES: readonly (number | null)[] = Object.freeze([null, null, null]);

/** The plan of a request with every stdio 'ignore' and no actions: nothing passed, made or closed, so one for all. */
const IGNORED: FdPlan = Object.freeze({
  setup: Object.freeze([...DEVNULL]) as FdSetup[],
  passed: Object.freeze([]) as unknown as number[],
  parentEnds: NO_PIPES as (number | null)[],
  helperEnds: Object.freeze([]) as unknown as number[],
  named: Object.freeze([]) as unknown as number[],
});

/**
 * Plans the request's fds. Throws a SpawnError: a stdio fd that is not open, too many fds, or the
 * parent out of something (EMFILE) while copying them; nothing opened is left behind.
 */
export function planFds(request: SpawnRequest, native: FdPassing): FdPlan {
  const { stdio } = request;
  if (stdio[0] === 'ignore' && stdio[1] === 'ignore' && stdio[2] === 'ignore' && !request.actions.length)
    return IGNORED;
  const plan: FdPlan = { setup: [], passed: [], parentEnds: NO_PIPES as (number | null)[], helperEnds: [], named: [] };
  try {
    for (let slot = 0; slot < 3; slot++) {
      const spec = request.stdio[slot];
      if (spec === 'pipe') {
        const [read, write] = native.pipe();
        const [parent, helper] = slot === 0 ? [write, read] : [read, write];
        if (plan.parentEnds === NO_PIPES) plan.parentEnds = [null, null, null];
        plan.parentEnds[slot] = parent;
        plan.helperEnds.push(helper);
        plan.setup.push({ target: slot, source: pass(plan, helper) });
      } else if (spec === 'ignore') {
        plan.setup.push(DEVNULL[slot]);
      } else {
        const source = passCopy(plan, spec === 'inherit' ? slot : spec, native);
        if (source !== -1) plan.setup.push({ target: slot, source });
        else if (spec === 'inherit') plan.setup.push(CLOSED[slot]);
        else
          throw new SpawnError(`stdio[${slot}] names fd ${spec}, which is not open in the parent`, {
            errno: 'EBADF',
            command: request.command,
          });
      }
    }
    if (request.actions.length) passDup2Sources(request, plan, native);
    if (plan.passed.length > MAX_PASSED_FDS)
      throw new SpawnError(`the request passes ${plan.passed.length} fds; a helper takes at most ${MAX_PASSED_FDS}`, {
        errno: 'E2BIG',
        command: request.command,
      });
  } catch (error) {
    closePlan(plan);
    if (!(error instanceof FdPassingError)) throw error;
    throw new SpawnError(`could not prepare the fds for ${request.file}: ${error.message}`, {
      errno: error.errno,
      command: request.command,
      hint: spawnHint(error.errno),
      cause: error,
    });
  }
  return plan;
}

/**
 * Parent fds that dup2 actions read before any earlier action made them travel too, at their own
 * numbers, with their own close-on-exec flag (the copy always has it). One not open is left out:
 * the child's dup2 fails with EBADF, as after a fork.
 */
function passDup2Sources(request: SpawnRequest, plan: FdPlan, native: FdPassing): void {
  const made = new Set([0, 1, 2]);
  for (const action of request.actions) {
    if (action.op === 'dup2') {
      const flags = made.has(action.from) ? -1 : native.fdFlags(action.from);
      const source = flags === -1 ? -1 : passCopy(plan, action.from, native);
      if (source !== -1) {
        plan.setup.push({ target: action.from, source, closeOnExec: (flags & FD_CLOEXEC) !== 0 });
        made.add(action.from);
      }
      made.add(action.to);
    } else if (action.op === 'open') made.add(action.fd);
    else if (action.op === 'close') made.delete(action.fd);
  }
}

/**
 * Closes the helper ends (sent, or no longer needed). They are closed after the call returned: an
 * error (EBADF: the caller closed fds it does not own meanwhile) must neither leak the others nor
 * escape (on Linux the fd is gone whatever close says).
 */
export function closeHelperEnds(plan: FdPlan): void {
  if (!plan.helperEnds.length) return;
  for (const fd of plan.helperEnds.splice(0)) {
    try {
      closeSync(fd);
    } catch {}
  }
}

/** Closes everything the plan opened (the spawn failed before the program could use it). */
export function closePlan(plan: FdPlan): void {
  closeHelperEnds(plan);
  if (plan.parentEnds === NO_PIPES) return;
  for (const fd of plan.parentEnds) if (fd !== null) closeSync(fd);
  plan.parentEnds = NO_PIPES as (number | null)[];
}

/** A Node stream over the parent end of a stdio pipe (libuv makes it non-blocking); null for a slot without one. */
export function parentStream(plan: FdPlan, slot: 0 | 1 | 2): Socket | null {
  const fd = plan.parentEnds[slot];
  return fd === null ? null : new Socket({ fd, readable: slot !== 0, writable: slot === 0 });
}
