import { existsSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { analyzeFile, type FileTask } from './analyze-file.js';

/** The module a scan worker loads: this one, wherever the bundler put it. Built as its own entry (dist/scan-worker.js)
 * it loads only the census; otherwise it is the package's entry, with everything else the package holds. Loaded as a
 * worker, it answers batches of files with their results. */
export const WORKER_MODULE = ((): URL => {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return here;
  const ext = here.pathname.endsWith('.cjs') ? 'cjs' : 'js';
  for (const candidate of [`./scan-worker.${ext}`, `../scan-worker.${ext}`]) {
    const url = new URL(candidate, here);
    if (existsSync(url)) return url;
  }
  return here;
})();

if (!isMainThread && (workerData as { forkexecScanWorker?: boolean } | null)?.forkexecScanWorker && parentPort) {
  const port = parentPort;
  port.on('message', (batch: FileTask[]) => {
    void Promise.all(batch.map((t) => analyzeFile(t))).then((results) => port.postMessage(results));
  });
}
