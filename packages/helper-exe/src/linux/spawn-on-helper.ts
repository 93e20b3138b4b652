/**
 * One request on one helper: fds planned and passed, the request sent, the outcome turned into the
 * child's fate. Pid first, as fork() does it: the call takes a live helper, whose pid is the
 * program's, and returns; the request is encoded and handed over on a microtask right after.
 * Whatever the caller may change once the call returns (its fds, process.env, the working
 * directory) is captured during the call.
 */
import type { Readable, Writable } from 'node:stream';
import {
  BackendUnavailableError,
  SpawnError,
  UnsupportedActionError,
  type Backend,
  type ExitStatus,
  type SpawnedChild,
  type SpawnRequest,
  type SyncSpawnOptions,
  type SyncSpawnResult,
} from '@forkexec/core';
import { errnoName, firstUnsupportedAction, flushChildStdio, spawnHint } from '@forkexec/core/backend-kit';
import { closeHelperEnds, closePlan, NO_PIPES, parentStream, planFds, type FdPlan } from './fd-plan.js';
import { FdPassingError, peerGone, type FdPassing } from './fd-passing.js';
import type { HelperProcess, Outcome } from './helper-process.js';
import type { LinuxHelperPool } from './helper-pool.js';
import { encodedEnviron, requestEnv } from './request-env.js';
import { CWD_FAILED, encodeRequest, EXEC_FAILED, REQUEST_REFUSED, type Program } from './wire.js';

/** Warm helpers were started in whatever directory the parent had then: each request carries the current one. */
function parentCwd(): string {
  try {
    return process.cwd();
  } catch {
    return ''; // the parent's directory was removed: the child starts where the helper is, as close as it gets
  }
}

/**
 * The deferred half of a spawn: the pool's bookkeeping of the helper taken, the request encoded
 * and handed to the helper, the fds opened for it closed. A failure retires the helper (its pid
 * was given out: it never serves another request) and is returned for the result to reject with;
 * a helper that died since it was taken needs no error of its own: its outcome tells (it died
 * before the exec).
 */
function handOver(
  pool: LinuxHelperPool,
  helper: HelperProcess,
  program: Program,
  plan: FdPlan,
  native: FdPassing,
  request: SpawnRequest,
): SpawnError | undefined {
  let failed = false;
  let error: unknown;
  try {
    helper.send(encodeRequest(program, plan.setup, plan.passed.length), plan.passed, native);
  } catch (caught) {
    [failed, error] = [true, caught];
  } finally {
    closeHelperEnds(plan); // in flight or received: the helper holds its own references now
  }
  // After the send: the pool's bookkeeping may open fds (its next socketpair), which must not take
  // the number of an fd the request passes.
  pool.inUse(helper);
  if (!failed) return undefined;
  pool.retire(helper);
  if (peerGone(error)) return undefined;
  return new SpawnError(`could not hand the request to helper ${helper.pid}: ${(error as Error).message}`, {
    command: request.command,
    cause: error,
    hint: 'The program did not run; retrying is safe.',
  });
}

/**
 * No helper could be started. The system saying no (EAGAIN under RLIMIT_NPROC, EMFILE...) is a
 * SpawnError with its errno, as any backend's failed start; anything else means the helper
 * program cannot run here.
 */
function startFailure(error: unknown, command: string): Error {
  const spawnError = error as Partial<SpawnError> | undefined; // duck-typed: the starter may bundle its own copy of core
  const errno =
    error instanceof FdPassingError
      ? error.errno
      : spawnError?.code === 'FORKEXEC_SPAWN'
        ? spawnError.errno
        : undefined;
  const why = (error as Error).message.split('\n')[0];
  if (errno)
    return new SpawnError(`could not start a helper: ${why}`, { errno, command, cause: error, hint: spawnHint(errno) });
  return new BackendUnavailableError(`could not start a helper: ${why}`, {
    command,
    cause: error,
    hint: 'Run `npx @forkexec/cli doctor`: the helper-exe backend says what its helper program lacks.',
  });
}

function describe(status: ExitStatus): string {
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.exitCode}`;
}

function failure(
  request: SpawnRequest,
  helper: HelperProcess,
  outcome: Exclude<Outcome, { kind: 'exec' }>,
  status: ExitStatus | undefined,
): SpawnError {
  const { command } = request;
  if (outcome.kind === 'malformed')
    return new SpawnError(
      `helper ${helper.pid} sent a malformed reply (${outcome.why}); it was killed and the request not run`,
      { command },
    );
  if (outcome.kind === 'died')
    return new SpawnError(
      `helper ${helper.pid} died before it could exec ${request.file} (${status ? describe(status) : 'status unknown'})`,
      {
        command,
        hint: 'The program did not run. Another helper replaces this one; retrying is safe.',
      },
    );
  const errno = errnoName(outcome.errno);
  if (outcome.index >= 0) {
    const op = request.actions[outcome.index]?.op ?? 'unknown';
    return new SpawnError(`actions[${outcome.index}] (${op}) failed in the child: ${errno}`, {
      errno,
      actionIndex: outcome.index,
      command,
      hint: spawnHint(errno),
    });
  }
  if (outcome.index === EXEC_FAILED)
    return new SpawnError(`could not exec ${request.file}: ${errno}`, { errno, command, hint: spawnHint(errno) });
  if (outcome.index === CWD_FAILED)
    return new SpawnError(`the child could not enter the parent's working directory: ${errno}`, { errno, command });
  const why =
    outcome.index === REQUEST_REFUSED ? 'the helper refused the request' : `the helper failed at step ${outcome.index}`;
  return new SpawnError(`${why}: ${errno}`, {
    errno,
    command,
    hint: 'The helper program and this package disagree: rebuild the package.',
  });
}

/**
 * Whether `backend` may run `request` itself: it carries out every action, and none can block
 * (an `open` of a FIFO waits for a writer; the starter would wait on the event loop, a helper waits
 * in its own process).
 */
function canRun(backend: Backend, request: SpawnRequest): boolean {
  const { actions } = backend.capabilities;
  return request.actions.every((action) => action.op !== 'open' && actions.includes(action.op));
}

/**
 * Backend.spawnSync: the starter runs the call itself. A helper cannot serve a caller that blocks:
 * it reports its exec over a socket read on the event loop, and the starter reaps it there. The
 * starter must carry out every action (an `open` may block here: the call blocks anyway).
 */
export function spawnSyncOnStarter(
  starter: Backend,
  request: SpawnRequest,
  options: SyncSpawnOptions,
): SyncSpawnResult {
  if (!starter.spawnSync)
    throw new BackendUnavailableError(
      `helper-exe's synchronous spawn runs on its starter, and the ${starter.name} backend has none`,
      { command: request.command, hint: 'Choose ntdll or node as the starter (option `starter`).' },
    );
  const index = firstUnsupportedAction(starter, request.actions);
  if (index >= 0)
    throw new UnsupportedActionError(
      index,
      `helper-exe's synchronous spawn runs on its starter, the ${starter.name} backend, which cannot carry out ${request.actions[index].op}`,
      {
        command: request.command,
        hint: 'Start it with forkBeforeExec on helper-exe: its helpers carry out every action.',
      },
    );
  return starter.spawnSync(request, options);
}

/**
 * Runs `request` on a warm helper. With none warm, a helper started on the spot would cost a
 * spawn by `overflow` (the starter) and a round trip more than that backend running the program
 * itself: so it does, when it can (the pool grows meanwhile).
 */
export function spawnOnHelper(pool: LinuxHelperPool, request: SpawnRequest, overflow?: Backend): SpawnedChild {
  if (overflow && !pool.hasWarm && canRun(overflow, request)) {
    pool.overflowed();
    return overflow.spawn(request);
  }
  const { native } = pool;
  const plan = planFds(request, native);
  // The pool's native call also tells whether the inherited environment changed since it was encoded.
  const encoded = encodedEnviron(request);
  let helper: HelperProcess;
  let environChanged: boolean;
  try {
    ({ helper, environChanged } = pool.take(encoded?.environ ?? null));
  } catch (error) {
    closePlan(plan);
    throw startFailure(error, request.command);
  }
  // Core hands each call a request of its own (argv, actions, env): only the environment
  // inherited from the parent (process.env) and the working directory need capturing now.
  const { file, searchPath, argv, actions } = request;
  const env = !request.inheritsEnv ? request.env : encoded && !environChanged ? encoded.block : requestEnv(request);
  const program: Program = { file, searchPath, cwd: parentCwd(), argv, env, actions };
  const child = new HelperChild(helper, request, plan);
  // A promise reaction, not queueMicrotask (which makes an AsyncResource per call: ~10 us more here).
  void Promise.resolve().then(() => {
    child.undelivered = handOver(pool, helper, program, plan, native, request);
  });
  return child;
}

/** The program on its helper, as the backend hands it to core: the helper's pid is the program's. */
class HelperChild implements SpawnedChild {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exited: Promise<ExitStatus>;
  /** Why the request never reached the helper, when it did not (set by the hand-over, right after the call). */
  undelivered: SpawnError | undefined;
  readonly #helper: HelperProcess;
  #killed = false;
  #started: Promise<number> | undefined;

  constructor(helper: HelperProcess, request: SpawnRequest, plan: FdPlan) {
    this.#helper = helper;
    this.pid = helper.pid!;
    if (plan.parentEnds === NO_PIPES) {
      this.stdin = this.stdout = this.stderr = null; // no stdio 'pipe' (most spawns): no call per stream
    } else {
      this.stdin = parentStream(plan, 0);
      this.stdout = parentStream(plan, 1);
      this.stderr = parentStream(plan, 2);
    }
    // The exit first: by then the outcome of an unwatched helper is settled (see HelperProcess),
    // so the status passes on in one reaction.
    const conclude = (status: ExitStatus | undefined, error?: unknown): ExitStatus | Promise<ExitStatus> => {
      const outcome = helper.settledOutcome;
      if (!outcome) return helper.outcome.then(() => conclude(status, error)); // watched: the socket's close tells
      if (outcome.kind === 'exec') {
        if (!status) throw error;
        return status;
      }
      if (outcome.kind === 'died' && this.#killed && status) return status; // the caller's signal beat the exec
      throw this.undelivered ?? failure(request, helper, outcome, status);
    };
    this.exited = helper.exited.then(conclude, (error: unknown) => conclude(undefined, error));
    // Once the program exited, its stdin and unread output must not hold their fds open.
    if (this.stdin || this.stdout || this.stderr)
      this.exited.then(
        () => process.nextTick(flushChildStdio, this),
        () => {},
      );
  }

  /**
   * The pid once the program runs (the exec worked); a failure before it rejects with the error
   * `exited` rejects with. Made when first read: most callers never do, and each promise costs on
   * the spawn path.
   */
  get started(): Promise<number> {
    if (!this.#started) {
      this.#helper.watchExec(); // seen as it happens, not at the exit
      const pid = this.pid;
      this.#started = this.#helper.outcome.then((outcome) =>
        outcome.kind === 'exec' ? pid : this.exited.then(() => pid),
      );
      this.#started.catch(() => {}); // the same error reaches the caller through `exited`
    }
    return this.#started;
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    const sent = this.#helper.child.kill(signal);
    this.#killed ||= sent;
    return sent;
  }

  /** Waiting for the program (its helper's socket and exit) keeps Node alive again. */
  ref(): void {
    this.#helper.setProgramRef(true);
  }

  /** Node may exit while the program runs, as with ChildProcess#unref (the pool's idle helpers retire on their own). */
  unref(): void {
    this.#helper.setProgramRef(false);
  }
}
