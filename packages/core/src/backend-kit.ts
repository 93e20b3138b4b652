/**
 * @forkexec/core/backend-kit: what forkexec's own backend packages share with core. Internal to
 * forkexec: no semver promise (it changes with the packages that use it, released together).
 * Applications use the main entry; a backend of one's own needs only the `Backend` contract.
 */
export { bindOnce } from './bind-once.js';
export { didYouMean, refuseUnknownKeys } from './did-you-mean.js';
export { errnoName, isForkExecError, spawnHint } from './errors.js';
export { flushChildStdio, type ChildStdioStreams } from './flush-child-stdio.js';
export { loadKoffi } from './load-koffi.js';
export { packageRoot } from './package-root.js';
export { processEnvIsEnviron } from './process-env.js';
export { firstUnsupportedAction } from './request.js';
export { execCwd } from './resolve-program.js';
export { WINDOWS_TERMINATING_SIGNALS, windowsKillSignal, type WindowsTerminatingSignal } from './windows-signals.js';
