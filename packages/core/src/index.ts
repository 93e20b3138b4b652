export { forkBeforeExec } from './fork-before-exec.js';
export { forkBeforeExecSync } from './fork-before-exec-sync.js';
export { Subprocess } from './subprocess.js';
export type { Pipeable, PipedResult, PipeFunction, PipeOptions, PipePromise } from './pipe.js';
export type { FileTarget, Options, Result, StdioSpec } from './options.js';
export {
  ACTION_OPS,
  MAX_FD,
  RLIMIT_RESOURCES,
  allSignalNumbers,
  openFlagsNumber,
  signalNumber,
  validateActions,
  type Action,
  type ActionOp,
  type OpenFlags,
  type RlimitResource,
  type SignalSpec,
} from './actions.js';
export {
  isBackend,
  type Backend,
  type BackendCapabilities,
  type BackendSpec,
  type ExitStatus,
  type ProbeResult,
  type SpawnOptions,
  type SpawnRequest,
  type SpawnedChild,
  type WatchedChild,
  type SyncSpawnOptions,
  type SyncSpawnResult,
} from './backend.js';
export {
  BackendLoadError,
  BackendUnavailableError,
  ForkExecError,
  InvalidActionError,
  InvalidArgumentError,
  isForkExecError,
  NotTransformedError,
  SpawnError,
  SubprocessError,
  UnsupportedActionError,
  type ForkExecErrorCode,
  type ForkExecErrorDetails,
  type SubprocessErrorCode,
  type SubprocessErrorFields,
} from './errors.js';
export { nodeBackend } from './node-backend.js';
export {
  BUILTIN_BACKENDS,
  backendsSupporting,
  findConfig,
  listBackends,
  loadBackend,
  probeBackend,
  registerBackend,
  resolveBackend,
  type BackendStatus,
  type ForkExecConfig,
} from './select-backend.js';
