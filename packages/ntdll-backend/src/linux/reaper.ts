/**
 * Reaps the children this backend started, and only those: on SIGCHLD, waitpid(pid, WNOHANG)
 * for each pending pid (signals merge, so one may stand for many exits). Never waitpid(-1),
 * which would steal libuv's children. A referenced timer keeps Node alive while children are
 * pending; it also polls, quickly until a SIGCHLD has been seen (a Worker, or a process whose
 * listener cannot hear the signal, still gets its children reaped), slowly afterwards.
 */
import { performance } from 'node:perf_hooks';
import { SpawnError, type ExitStatus } from '@forkexec/core';
import { decodeWaitStatus } from './exit-status.js';
import { hostProcess } from './host-process.js';

const ECHILD = 10;
const EINTR = 4;
const FIRST_POLL_MS = 1;
const MAX_POLL_MS = 100;
const SAFETY_POLL_MS = 1000;
const DETACH_AFTER_MS = 1000;
/** How often the detach timer looks whether the reaper has been quiet for DETACH_AFTER_MS. */
const DETACH_CHECK_MS = 250;

interface WaitPid {
  /** waitpid(pid, &status, WNOHANG): pid when reaped (status in `status[0]`), 0 while running, -1 on error. */
  (pid: number, status: Int32Array): number;
  errno(): number;
}

export interface Pending {
  resolve(status: ExitStatus): void;
  reject(error: Error): void;
}

export class Reaper {
  readonly #waitpid: WaitPid;
  readonly #pending = new Map<number, Pending>();
  /** Pending pids whose wait must not keep Node alive (SpawnedChild.unref). */
  readonly #unrefed = new Set<number>();
  readonly #status = new Int32Array(1);
  readonly #host = hostProcess();
  #listening = false;
  /** The SIGCHLD listener is installed (it cannot be in a Worker, where only the timer reaps). */
  #hearsSignals = false;
  #signalSeen = false;
  /** SIGCHLDs that reached the listener so far (see `signals`). */
  #signals = 0;
  #timer: NodeJS.Timeout | undefined;
  #pollMs = FIRST_POLL_MS;
  /** When the reaper last started or finished waiting for a child (performance.now()). */
  #lastActive = performance.now();
  /**
   * Removes the listener after a quiet second; adding it back per spawn would cost a signal handle
   * each time. It looks at `#lastActive` every DETACH_CHECK_MS instead of being pushed back at
   * every spawn, which cost a timer-list update per spawn.
   */
  readonly #detach = setTimeout(() => this.#onDetachCheck(), DETACH_CHECK_MS).unref();

  constructor(waitpid: WaitPid) {
    this.#waitpid = waitpid;
  }

  readonly #onSignal = (): void => {
    this.#signalSeen = true;
    this.#signals++;
    this.reap();
  };

  /**
   * A mark to take when a child is started, for `settle`: while no SIGCHLD has reached the listener
   * since, the child's exit is still to be heard, and the reaper need not look for it at once.
   */
  get signals(): number {
    return this.#hearsSignals ? this.#signals : NaN;
  }

  /** Must run before the spawn: a child that exits at once must find the listener in place. */
  listen(): void {
    this.#lastActive = performance.now(); // even if this spawn fails and no child ever makes the reaper idle
    if (this.#listening) return;
    this.#detach.refresh(); // stopped once the listener was removed
    try {
      this.#host.on('SIGCHLD', this.#onSignal);
      this.#hearsSignals = true;
      this.#signals++; // a mark taken before this heard nothing meanwhile: it must not spare a look
    } catch {} // no signals here (a Worker): the timer polls
    this.#listening = true;
  }

  /** Settles once `pid` is reaped. */
  watch(pid: number): Promise<ExitStatus> {
    return new Promise((resolve, reject) => this.settle(pid, { resolve, reject }));
  }

  /**
   * Calls `pending` once `pid` is reaped. `signalsBefore`: `signals` as it was before the child
   * started; unless one SIGCHLD came since, the child is not looked for at once (the listener will
   * hear its exit), which spares a waitpid per spawn.
   */
  settle(pid: number, pending: Pending, signalsBefore = NaN): void {
    this.#pending.set(pid, pending);
    // Its SIGCHLD may have come and gone already (a spawn that ran off the event loop reports its pid late).
    if (signalsBefore !== this.#signals && this.#check(pid, pending)) {
      if (this.#pending.size === 0) this.#idle();
      return;
    }
    if (this.#signalSeen && this.#timer) {
      this.#refTimer(); // the timer may be unreferenced (every other pending child unref'd): this one keeps Node alive
      return;
    }
    this.#pollMs = FIRST_POLL_MS;
    this.#arm();
  }

  /** Whether waiting for `pid` keeps Node alive. */
  setRef(pid: number, ref: boolean): void {
    if (!this.#pending.has(pid)) return;
    if (ref) this.#unrefed.delete(pid);
    else this.#unrefed.add(pid);
    this.#refTimer();
  }

  /** The timer keeps Node alive while at least one pending child is referenced. */
  #refTimer(): void {
    if (!this.#timer) return;
    if (this.#unrefed.size < this.#pending.size) this.#timer.ref();
    else this.#timer.unref();
  }

  isPending(pid: number): boolean {
    return this.#pending.has(pid);
  }

  /** Sends `signal` to a pending child; false when it is already gone (reaped, or ESRCH). */
  kill(pid: number, signal: NodeJS.Signals | number): boolean {
    if (!this.isPending(pid)) return false;
    try {
      process.kill(pid, signal);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw error; // an unknown signal name, or EPERM: the caller's mistake, not "already gone"
    }
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Checks every pending pid once, without blocking. */
  reap(): void {
    this.#reapedAny = false;
    // forEach, not for-of: no iterator and no [pid, pending] pair made and taken apart per child.
    this.#pending.forEach(this.#checkEntry);
    if (this.#reapedAny && this.#pending.size === 0) this.#idle(); // a look that found nothing is no activity
  }

  /** Whether the current reap() reaped a child. */
  #reapedAny = false;

  readonly #checkEntry = (pending: Pending, pid: number): void => {
    if (this.#check(pid, pending)) this.#reapedAny = true;
  };

  /** waitpid(pid, WNOHANG) once: settles `pending` and returns true if the child is gone. */
  #check(pid: number, pending: Pending): boolean {
    let reaped: number;
    do reaped = this.#waitpid(pid, this.#status);
    while (reaped === -1 && this.#waitpid.errno() === EINTR);
    if (reaped === 0) return false;
    this.#pending.delete(pid);
    this.#unrefed.delete(pid);
    if (reaped === pid) {
      try {
        pending.resolve(decodeWaitStatus(this.#status[0]));
      } catch (error) {
        pending.reject(error as Error);
      }
    } else {
      const errno = this.#waitpid.errno();
      pending.reject(
        new SpawnError(
          `waitpid(${pid}) failed with ${errno === ECHILD ? 'ECHILD' : `errno ${errno}`}: the exit status is lost`,
          {
            errno: errno === ECHILD ? 'ECHILD' : undefined,
            hint: 'Something else in this process reaped the child (waitpid(-1) or SIGCHLD set to SIG_IGN).',
          },
        ),
      );
    }
    return true;
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    const delay = this.#signalSeen ? SAFETY_POLL_MS : this.#pollMs;
    this.#timer = setTimeout(this.#onTimer, delay);
    this.#refTimer();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.reap();
    if (this.#pending.size === 0) return;
    this.#pollMs = Math.min(this.#pollMs * 2, MAX_POLL_MS);
    this.#arm();
  };

  /**
   * Nothing pending: let Node exit, and stop listening soon (a vm sandbox may load this module many
   * times). The timer is left to run out unreferenced rather than cleared: the next spawn usually
   * comes sooner and finds it still armed (one timer per second instead of one per spawn).
   */
  #idle(): void {
    this.#refTimer();
    this.#lastActive = performance.now();
  }

  #onDetachCheck(): void {
    if (!this.#listening) return;
    if (this.#pending.size > 0 || performance.now() - this.#lastActive < DETACH_AFTER_MS) {
      this.#detach.refresh();
      return;
    }
    this.#host.removeListener('SIGCHLD', this.#onSignal);
    this.#listening = this.#hearsSignals = false;
  }
}
