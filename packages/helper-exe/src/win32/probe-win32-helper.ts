/**
 * The Windows probe's handshake: one real request on a real suspended helper, waiting a bounded
 * time, blocking (probe() is synchronous). The request's program is the helper program itself:
 * started without a control pipe it has no request to read, and exits at once with 127. The round
 * trip shows that the helper is created suspended in its job, reads a request of our protocol
 * version, creates the program in the job it was handed, replies, and stands in for the program
 * (its exit code is the program's). Cached per helper program.
 */
import path from 'node:path';
import { exitCodeOf, TERMINATED_EXIT_STATUS, type Win32Api } from '@forkexec/ntdll-backend/internal';
import { kernel32, type Kernel32 } from './kernel32.js';
import {
  CONTROL_PIPE_BUFFER,
  createSuspendedHelper,
  duplicateInto,
  helperEnvironment,
  type SuspendedProcess,
} from './suspended-process.js';
import { encodeBody, encodeHeader, parseReply, REPLY_SIZE, WIN32_PROTOCOL_VERSION } from './wire.js';

const HANDSHAKE_TIMEOUT_MS = 5000;
const POLL_MS = 10;
const WAIT_OBJECT_0 = 0;
/** The helper program's exit code when it cannot read a request (FXW_FAILED_EXIT). */
const NO_REQUEST_EXIT_CODE = 127;

const results = new Map<string, string | undefined>();

/** Undefined when a helper completed one request in our protocol version; otherwise what went wrong. */
export function probeWin32Helper(api: Win32Api, file: string): string | undefined {
  if (!results.has(file)) results.set(file, handshake(api, file));
  return results.get(file);
}

function handshake(api: Win32Api, file: string): string | undefined {
  let helper: SuspendedProcess;
  try {
    helper = createSuspendedHelper(api, file, false);
  } catch (error) {
    return `the Windows helper ${file} cannot be created: ${(error as Error).message.split('\n')[0]}`;
  }
  try {
    const problem = exchange(api, kernel32(api), helper, file);
    return problem && `the Windows helper ${file} failed the handshake: ${problem}`;
  } catch (error) {
    return `the Windows helper ${file} failed the handshake: ${(error as Error).message}`;
  } finally {
    // Ended already unless it failed; terminating it also ends its program (the job's last handle goes).
    api.NtTerminateProcess(helper.process, TERMINATED_EXIT_STATUS);
    for (const handle of [helper.control, helper.thread, helper.job, helper.process])
      if (handle !== 0n) api.NtClose(handle);
  }
}

/** Sends the request, resumes the helper and judges what comes back; undefined when all went as it should. */
function exchange(api: Win32Api, pipes: Kernel32, helper: SuspendedProcess, file: string): string | undefined {
  const { body, lengths } = encodeBody({
    image: file,
    commandLine: `"${file}"`,
    cwd: path.win32.dirname(file),
    environment: helperEnvironment(),
  });
  // As for a real request, the helper gets the job's only handle (see SuspendedHelper.handOver).
  const job = duplicateInto(api, helper, helper.job, false);
  api.NtClose(helper.job);
  helper.job = 0n;
  const request = Buffer.concat([encodeHeader(lengths, [0n, 0n, 0n], job), body]);
  // A synchronous write beyond the pipe's buffer would wait forever for the suspended helper.
  if (request.length > CONTROL_PIPE_BUFFER)
    return `its path is too long for the handshake request (${request.length} bytes)`;
  const written: [number] = [0];
  if (!pipes.WriteFile(helper.control, request, request.length, written, null) || written[0] !== request.length)
    return `writing the request into its control pipe failed (error ${api.GetLastError()})`;
  if (api.NtResumeThread(helper.thread, null) < 0) return 'it could not be resumed';

  const deadline = Date.now() + HANDSHAKE_TIMEOUT_MS;
  const received: Buffer[] = [];
  for (let ended = false; !ended;) {
    ended = pipes.WaitForSingleObject(helper.process, POLL_MS) === WAIT_OBJECT_0;
    received.push(readAvailable(pipes, helper.control, ended));
    const reply = parseReply(Buffer.concat(received));
    if (ended) break;
    if (reply.kind === 'malformed' && Buffer.concat(received).length >= REPLY_SIZE)
      return `malformed reply (${reply.why})`;
    if (Date.now() > deadline)
      return reply.kind === 'started'
        ? `its program (pid ${reply.pid}) did not end within ${HANDSHAKE_TIMEOUT_MS} ms`
        : `it neither replied nor ended within ${HANDSHAKE_TIMEOUT_MS} ms`;
  }
  const reply = parseReply(Buffer.concat(received));
  const exitCode = exitCodeOf(api, helper.process);
  switch (reply.kind) {
    case 'started':
      if (reply.pid === 0 || reply.pid === helper.pid) return `it reported program pid ${reply.pid}`;
      if (exitCode !== NO_REQUEST_EXIT_CODE)
        return `it exited with ${exitCode}, not its program's exit code ${NO_REQUEST_EXIT_CODE}`;
      return undefined;
    case 'failed':
      return `it could not create its program (${path.win32.basename(file)}): Win32 error ${reply.error}`;
    case 'refused':
      return `it refused a request of protocol version ${WIN32_PROTOCOL_VERSION}: rebuild the package`;
    case 'none':
      return `it ended without replying (exit code 0x${exitCode.toString(16)})`;
    case 'malformed':
      return `malformed reply (${reply.why})`;
  }
}

/** What the pipe holds now, without blocking; after the helper ended (no writer is left), everything up to EOF. */
function readAvailable(pipes: Kernel32, control: bigint, ended: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const available: [number] = [0];
    if (!ended && (!pipes.PeekNamedPipe(control, null, 0, null, available, null) || available[0] === 0)) break;
    const into = Buffer.alloc(ended ? 4096 : available[0]);
    const read: [number] = [0];
    if (!pipes.ReadFile(control, into, into.length, read, null) || read[0] === 0) break;
    chunks.push(into.subarray(0, read[0]));
    if (!ended) break;
  }
  return Buffer.concat(chunks);
}
