import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { analyzeFile, type FileTask } from './analyze-file.js';

/** The module a scan worker loads: this one, wherever the bundler put it (the built package's entry). Loaded as a
 * worker, it answers batches of files with their results. */
export const WORKER_MODULE = new URL(import.meta.url);

if (!isMainThread && (workerData as { forkexecScanWorker?: boolean } | null)?.forkexecScanWorker && parentPort) {
  const port = parentPort;
  port.on('message', (batch: FileTask[]) => {
    void Promise.all(batch.map((t) => analyzeFile(t))).then((results) => port.postMessage(results));
  });
}
