/**
 * @forkexec/codemod: finds fork sites, classifies them, and rewrites provable fork()+exec*()
 * pairs into fork_before_exec. Build-time use: `@forkexec/codemod/babel-plugin`, `@forkexec/codemod/rollup`.
 */
export type { ForkSite, Frontend, SiteClass, TransformResult } from './model.js';
export { FRONTENDS, frontendFor } from './frontends/index.js';
export {
  createJsFrontend,
  jsFrontend,
  JS_EXTENSIONS,
  POSIX_MODULE,
  SourceSyntaxError,
  type JsFrontend,
  type JsOptions,
} from './frontends/js/index.js';
export {
  formatSummary,
  runCodemod,
  type FileReport,
  type FileStatus,
  type RunOptions,
  type RunReport,
} from './runner.js';
export { unifiedDiff } from './runner/diff.js';
export { cFrontend, scanC, transformC } from './frontends/c/index.js';
export {
  formatReport,
  mergeScanShards,
  parseShard,
  runScan,
  runScanShard,
  type ScanOptions,
  type ScanReport,
  type Shard,
  type ShardOutput,
} from './scan/index.js';
