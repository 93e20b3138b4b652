import { ForkExecError } from '@forkexec/core';
import type { BenchReport } from './report.js';

/** The optional peers the chart is drawn with (package.json's peerDependencies), as `npm install` arguments. */
const CHART_PACKAGES = 'vega@6 vega-lite@6';

/** The Vega-Lite spec: median latency against parent RSS, both axes log scale, one line per method. */
export function chartSpec(report: BenchReport): Record<string, unknown> {
  const values = report.results
    .filter((r) => !r.error && r.latencyMs)
    .map((r) => ({ method: r.method, rssMiB: r.parentRssBytes / 2 ** 20, medianMs: r.latencyMs!.median }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Spawn-to-exit latency against parent RSS',
      subtitle: `${report.machine.cpuModel}, ${report.machine.cpus} CPUs, Node ${report.machine.node}`,
    },
    width: 560,
    height: 340,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rssMiB', type: 'quantitative', title: 'parent RSS (MiB)', scale: { type: 'log' } },
      y: { field: 'medianMs', type: 'quantitative', title: 'median latency (ms)', scale: { type: 'log' } },
      color: { field: 'method', type: 'nominal', title: 'method', sort: [...new Set(values.map((v) => v.method))] },
      tooltip: [{ field: 'method' }, { field: 'rssMiB', format: '.0f' }, { field: 'medianMs', format: '.3f' }],
    },
  };
}

type ChartLibraries = [typeof import('vega'), typeof import('vega-lite')];

/**
 * vega and vega-lite, which the CLI does not install (about 27 MB for one option): an optional peer, loaded only for
 * `bench --chart`. Throws a FORKEXEC_INVALID_ARGUMENT that says how to install them when they are missing.
 */
export async function loadChartLibraries(): Promise<ChartLibraries> {
  try {
    return await Promise.all([import('vega'), import('vega-lite')]);
  } catch (error) {
    throw new ForkExecError('FORKEXEC_INVALID_ARGUMENT', '--chart needs vega and vega-lite, which are not installed', {
      hint: `Install them beside @forkexec/cli: npm install ${CHART_PACKAGES}`,
      cause: error,
    });
  }
}

/** Renders the chart headlessly (Vega's SVG renderer needs no canvas). */
export async function renderChartSvg(report: BenchReport, libraries?: ChartLibraries): Promise<string> {
  const [vega, vegaLite] = libraries ?? (await loadChartLibraries());
  const { spec } = vegaLite.compile(chartSpec(report) as unknown as Parameters<typeof vegaLite.compile>[0]);
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
