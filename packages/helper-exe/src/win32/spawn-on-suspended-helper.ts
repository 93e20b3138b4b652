/**
 * One request on one suspended helper. Everything that can fail in the parent (program lookup,
 * command line, stdio) is checked before a helper is taken; the helper then creates the program
 * and stands in for it: its pid, its exit code, its termination are the program's.
 */
import {
  BackendUnavailableError,
  SpawnError,
  type ExitStatus,
  type SpawnedChild,
  type SpawnRequest,
} from '@forkexec/core';
import { spawnHint } from '@forkexec/core/backend-kit';
import { exitCodeOf, planLaunch, prepareStdio, Termination, type Win32Api } from '@forkexec/ntdll-backend/internal';
import type { SuspendedHelper } from './suspended-helper.js';
import type { SuspendedPool } from './suspended-pool.js';
import { win32Errno } from './win32-errno.js';
import { encodeBody, encodeHeader, parseReply, type HelperReply } from './wire.js';

function take(pool: SuspendedPool, command: string): SuspendedHelper {
  try {
    return pool.take();
  } catch (error) {
    throw new BackendUnavailableError(`could not start a helper: ${(error as Error).message.split('\n')[0]}`, {
      command,
      cause: error,
      hint: 'Run `npx forkexec doctor`; the Windows helper is built by the package build with mingw-w64.',
    });
  }
}

/** The failure a reply other than "started" stands for. */
function failure(
  reply: Exclude<HelperReply, { kind: 'started' }>,
  request: SpawnRequest,
  image: string,
  helper: SuspendedHelper,
  exitCode: number,
): SpawnError {
  const { command } = request;
  switch (reply.kind) {
    case 'failed': {
      const errno = win32Errno(reply.error);
      return new SpawnError(
        `could not start ${image}: CreateProcessW failed in helper ${helper.pid} with Win32 error ${reply.error}`,
        {
          errno,
          command,
          hint:
            errno === 'ENOEXEC'
              ? 'The file is not a Windows program (a PE image): run it through its interpreter.'
              : spawnHint(errno),
        },
      );
    }
    case 'refused':
      return new SpawnError(`helper ${helper.pid} refused the request`, {
        command,
        hint: 'The helper program and this package disagree: rebuild the package.',
      });
    case 'malformed':
      return new SpawnError(
        `helper ${helper.pid} sent a malformed reply (${reply.why}); it was ended and the request not run`,
        { command },
      );
    case 'none':
      return new SpawnError(`helper ${helper.pid} died before it could start ${request.file} (exit code ${exitCode})`, {
        command,
        hint: 'The program did not run. Another helper replaces this one; retrying is safe.',
      });
  }
}

export function spawnOnSuspendedHelper(api: Win32Api, pool: SuspendedPool, request: SpawnRequest): SpawnedChild {
  const { command } = request;
  const launch = planLaunch(api, request);
  const { body, lengths } = encodeBody(launch);
  const stdio = prepareStdio(api, request);
  let helper: SuspendedHelper | undefined;
  try {
    helper = take(pool, command);
    helper.handOver(stdio.handles, (values, job) => [encodeHeader(lengths, values, job), body]);
  } catch (error) {
    stdio.abort(api);
    if (helper) pool.retire(helper);
    if (error instanceof SpawnError || error instanceof BackendUnavailableError) throw error;
    throw new SpawnError(`could not hand the request to a helper: ${(error as Error).message}`, {
      command,
      cause: error,
    });
  }
  stdio.release(); // the helper holds its own copies now
  pool.resume(helper);
  const streams = stdio.streams(api);
  const chosen = helper;

  // The helper's job ends the program (and what it started) with it.
  const termination = new Termination(() => chosen.terminate(), command);
  const exited = new Promise<ExitStatus>((resolve, reject) => {
    let exitCode: number | undefined;
    let reply: HelperReply | undefined;
    const settle = () => {
      if (exitCode === undefined || reply === undefined) return;
      if (reply.kind === 'started' || (reply.kind === 'none' && termination.killedBy))
        resolve(termination.status(exitCode));
      else reject(failure(reply, request, launch.image, chosen, exitCode));
    };
    void chosen.reply.then((bytes) => {
      reply = parseReply(bytes);
      if (reply.kind !== 'started' && reply.kind !== 'none') chosen.terminate(); // it does not stand in for anything
      settle();
    });
    try {
      chosen.watch(() => {
        termination.ended();
        exitCode = exitCodeOf(api, chosen.process);
        settle();
      });
    } catch (error) {
      // Without a wait the program could never be collected: end it rather than leave it unobserved.
      termination.ended();
      chosen.terminate();
      reject(
        new SpawnError(`could not watch helper ${chosen.pid} for its exit: ${(error as Error).message}`, {
          command,
          cause: error,
        }),
      );
    }
  });

  return { pid: chosen.pid, ...streams, exited, kill: termination.kill };
}
