/**
 * @forkexec/ntdll-backend/internal: the building blocks @forkexec/helper-exe shares with this
 * backend. Internal to forkexec: no semver promise (the packages are released together).
 */
export { parentEnviron } from './linux/parent-environ.js';
export { createWin32Backend, WIN32_ACTIONS } from './win32/index.js';
export { createProcess } from './win32/create-process.js';
export { environmentBlock } from './win32/environment-block.js';
export { planLaunch } from './win32/launch-plan.js';
export { CURRENT_PROCESS, isValidHandle, loadWin32Api, type Win32Api } from './win32/ntdll-api.js';
export { prepareStdio } from './win32/stdio-handles.js';
export { exitCodeOf, TERMINATED_EXIT_STATUS, Termination } from './win32/termination.js';
export { watchProcessHandle } from './win32/watch-process-handle.js';
