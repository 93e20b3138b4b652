/** The ntdll backend's spawn on Windows: everything is checked and prepared before the process exists. */
import { SpawnError, type ExitStatus, type SpawnRequest, type SpawnedChild } from '@forkexec/core';
import { createProcess, type ProcessCreator } from './create-process.js';
import { planLaunch } from './launch-plan.js';
import type { Win32Api } from './ntdll-api.js';
import { prepareStdio } from './stdio-handles.js';
import { exitCodeOf, TERMINATED_EXIT_STATUS, Termination } from './termination.js';
import { watchProcessHandle } from './watch-process-handle.js';

/** Starts `request` on Windows with `creator`, which says which entry point created it. */
export function spawnWin32(
  api: Win32Api,
  request: SpawnRequest,
  creator: ProcessCreator,
): SpawnedChild & { creator: ProcessCreator } {
  const launch = planLaunch(api, request);
  const stdio = prepareStdio(api, request);
  let created;
  try {
    created = createProcess(api, { ...launch, stdHandles: stdio.handles, creator, command: request.command });
  } catch (error) {
    stdio.abort(api);
    throw error;
  }
  stdio.release();
  const { process: handle, pid } = created;
  const streams = stdio.streams(api);

  const termination = new Termination(
    () => api.NtTerminateProcess(handle, TERMINATED_EXIT_STATUS) >= 0,
    request.command,
  );
  const exited = new Promise<ExitStatus>((resolve, reject) => {
    try {
      watchProcessHandle(api, handle, () => {
        termination.ended();
        const exitCode = exitCodeOf(api, handle);
        api.NtClose(handle);
        resolve(termination.status(exitCode));
      });
    } catch (error) {
      // Without a wait the child could never be reaped: end it rather than leave it unobserved.
      termination.ended();
      api.NtTerminateProcess(handle, TERMINATED_EXIT_STATUS);
      api.NtClose(handle);
      reject(
        new SpawnError(`could not watch ${request.file} (pid ${pid}) for its exit: ${(error as Error).message}`, {
          command: request.command,
          cause: error,
        }),
      );
    }
  });

  return { pid, ...streams, exited, creator: created.creator, kill: termination.kill };
}
