export { chartSpec, renderChartSvg } from './chart.js';
export { renderMarkdown } from './markdown.js';
export { REPORT_FORMAT, REPORT_SCHEMA, type BenchReport, type MethodEntry, type ResultRow } from './report.js';
export { runBench, type BenchSettings, type Progress } from './run-bench.js';
export { formatBytes, parseList, parsePositiveInt, parseSize } from './sizes.js';
export { renderText } from './table.js';
