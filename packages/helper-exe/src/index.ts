/**
 * @forkexec/helper-exe: pre-started helpers that wait in limbo and exec in place, so a pid exists
 * before the exec and the caller never copies itself. Importing this module starts nothing and
 * loads no native code: the pool starts on the first spawn.
 */
import { createBackend } from './helper-backend.js';

export { createBackend, type HelperExeBackend, type HelperExeOptions } from './helper-backend.js';
export { PROTOCOL_VERSION } from './linux/wire.js';

export const backend = createBackend();
