export { runConformanceSuite, type ConformanceOptions } from './conformance/index.js';
export { buildProbe, probePath, publicProbeCopy } from './probe.js';
export { tasksOfUser } from './proc.js';
export { formatReport, runReliabilitySuite, type ReliabilityOptions } from './reliability.js';
export { wineVersion } from './win32-parent-handles.js';
export { checkChildPathSearch } from './path-search.js';
