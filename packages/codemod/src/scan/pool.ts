import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { analyzeFile, type FileResult, type FileTask } from './analyze-file.js';
import { WORKER_MODULE } from './scan-worker.js';

interface PoolOptions {
  /** Worker threads; 0 analyses in this thread. Default: one per core. */
  jobs?: number;
  onProgress?: (done: number, total: number, sites: number) => void;
}

const BATCH = 64;

/** Analyses files on worker threads, in batches, keeping the input order. */
export async function analyzeAll(tasks: FileTask[], options: PoolOptions = {}): Promise<FileResult[]> {
  const results: FileResult[] = new Array(tasks.length);
  let done = 0;
  let sites = 0;
  const progress = (r: FileResult[]) => {
    done += r.length;
    sites += r.reduce((n, x) => n + x.sites.length, 0);
    options.onProgress?.(done, tasks.length, sites);
  };
  // Workers run the built module; from TypeScript sources (tests) there is nothing a worker could load.
  const jobs = WORKER_MODULE.pathname.endsWith('.ts')
    ? 0
    : Math.min(options.jobs ?? availableParallelism(), Math.ceil(tasks.length / BATCH));
  if (jobs <= 0) {
    for (let i = 0; i < tasks.length; i += BATCH) {
      const batch = await Promise.all(tasks.slice(i, i + BATCH).map((t) => analyzeFile(t)));
      batch.forEach((r, k) => (results[i + k] = r));
      progress(batch);
    }
    return results;
  }
  let next = 0;
  const run = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      let start = 0;
      const send = () => {
        if (next >= tasks.length) {
          resolve();
          return;
        }
        start = next;
        next += BATCH;
        worker.postMessage(tasks.slice(start, next));
      };
      worker.on('message', (batch: FileResult[]) => {
        batch.forEach((r, k) => (results[start + k] = r));
        progress(batch);
        send();
      });
      worker.once('error', reject);
      worker.once('exit', (code) =>
        next < tasks.length || code !== 0 ? reject(new Error(`scan worker exited with code ${code}`)) : resolve(),
      );
      send();
    });
  const workers = Array.from(
    { length: jobs },
    () => new Worker(WORKER_MODULE, { workerData: { forkexecScanWorker: true } }),
  );
  try {
    await Promise.all(workers.map(run));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
