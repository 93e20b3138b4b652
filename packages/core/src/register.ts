/**
 * `node --import @forkexec/core/register app.js` (or `--require`, or through NODE_OPTIONS): the
 * built-in child_process's spawn, execFile and exec become @forkexec/core/child_process's for the
 * whole process, ESM named imports included, so libraries use the flat-cost spawn unchanged.
 */
import { installDropIn } from './drop-in/install.js';

installDropIn();
