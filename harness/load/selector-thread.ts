/**
 * worker_thread entry of the selector drivers: run the loop to the end (it
 * may block in select as long as it likes: this thread serves nothing else)
 * and post phases and the result to the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSelectorLoop, type SelectorWorkerData, type SelectorWorkerMessage } from './selector-runner.js';

const port = parentPort;
if (port === null) throw new Error('workloads/selector-worker.js must run in a worker_thread');
const post = (m: SelectorWorkerMessage): void => {
  port.postMessage(m);
};

const d = workerData as SelectorWorkerData;
let loop: ReturnType<typeof createSelectorLoop> | undefined;
try {
  loop = createSelectorLoop(d.workload, d.opts, (phase, atMs) => {
    post({ type: 'phase', phase, atMs });
  });
  loop.run(Number.POSITIVE_INFINITY);
  post({ type: 'result', result: loop.result() });
} catch (err) {
  loop?.close();
  post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
}
