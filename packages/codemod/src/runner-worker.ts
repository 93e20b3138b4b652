/** Worker thread of the codemod runner: processes the files the pool sends, one at a time. */
import { parentPort } from 'node:worker_threads';
import { processFile, type FileTask } from './runner/process-file.js';

parentPort?.on('message', async ({ id, task }: { id: number; task: FileTask }) => {
  parentPort!.postMessage({ id, report: await processFile(task) });
});
