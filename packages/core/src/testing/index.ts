export { runConformanceSuite, type ConformanceOptions } from './conformance.js';
export { buildProbe, probePath } from './probe.js';
