import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { processFile, type FileReport, type FileTask } from './process-file.js';

/**
 * The built worker script (dist/runner-worker.js), or null when running from the sources
 * (tests), where the files are processed on the main thread instead.
 */
export function workerScript(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // This module is bundled into dist/ or dist/chunks/.
  for (const dir of [here, path.dirname(here)]) {
    const file = path.join(dir, 'runner-worker.js');
    if (existsSync(file)) return file;
  }
  return null;
}

interface Lane {
  worker: Worker;
  pending: Map<number, { resolve(report: FileReport): void; task: FileTask }>;
}

/** A fixed set of worker threads; a task whose worker dies is redone on the main thread. */
export class WorkerPool {
  private readonly lanes: Lane[] = [];
  private nextId = 0;
  private closing = false;

  constructor(
    private readonly script: string,
    readonly size: number,
  ) {
    for (let i = 0; i < size; i++) this.lanes.push(this.start());
  }

  private start(): Lane {
    const lane: Lane = { worker: new Worker(this.script), pending: new Map() };
    lane.worker.on('message', ({ id, report }: { id: number; report: FileReport }) => {
      lane.pending.get(id)?.resolve(report);
      lane.pending.delete(id);
    });
    const fallBack = () => {
      const orphans = [...lane.pending.values()];
      lane.pending.clear();
      for (const { task, resolve } of orphans) void processFile(task).then(resolve);
      const index = this.lanes.indexOf(lane);
      if (index >= 0 && !this.closing) this.lanes[index] = this.start();
    };
    lane.worker.on('error', fallBack);
    lane.worker.on('exit', fallBack);
    return lane;
  }

  run(task: FileTask): Promise<FileReport> {
    // The least busy worker: tasks take uneven times.
    const lane = this.lanes.reduce((best, l) => (l.pending.size < best.pending.size ? l : best));
    const id = this.nextId++;
    return new Promise((resolve) => {
      lane.pending.set(id, { resolve, task });
      lane.worker.postMessage({ id, task });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.lanes.map((lane) => lane.worker.terminate()));
  }
}
