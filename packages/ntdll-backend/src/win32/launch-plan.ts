/**
 * The pre-launch step of a Windows child, shared by the ntdll backend and helper-exe's Windows
 * helpers: everything that can fail before a process exists (program lookup, command line,
 * environment), so that a refused request leaves nothing to clean up.
 */
import type { SpawnRequest } from '@forkexec/core';
import { execCwd } from '@forkexec/core/backend-kit';
import { buildCommandLine } from './command-line.js';
import { environmentBlock } from './environment-block.js';
import { findProgram, type FileKind } from './find-program.js';
import type { Win32Api } from './ntdll-api.js';

/** What a process is created from. */
interface LaunchPlan {
  /** Full path of the program image. */
  image: string;
  commandLine: string;
  /** The working directory of its last chdir action, else the parent's. */
  cwd: string;
  /** UTF-16 environment block, double-NUL terminated. */
  environment: Buffer;
}

const INVALID_FILE_ATTRIBUTES = 0xffffffff;
const FILE_ATTRIBUTE_DIRECTORY = 0x10;

/** What a path names, through GetFileAttributesW. */
function fileKind(api: Win32Api): FileKind {
  return (candidate) => {
    const attributes = api.GetFileAttributesW(candidate);
    if (attributes === INVALID_FILE_ATTRIBUTES) return undefined;
    return attributes & FILE_ATTRIBUTE_DIRECTORY ? 'directory' : 'file';
  };
}

/** Checks and prepares `request` for process creation; throws the typed error of what is wrong. */
export function planLaunch(api: Win32Api, request: SpawnRequest): LaunchPlan {
  const cwd = execCwd(request.actions);
  return {
    image: findProgram(fileKind(api), request.file, request.env, cwd, request.command),
    commandLine: buildCommandLine(request.argv, request.command),
    cwd,
    environment: environmentBlock(request.env),
  };
}
