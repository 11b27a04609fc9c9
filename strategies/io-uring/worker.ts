/**
 * Entry point of the io-uring worker_thread: set the ring up, run the
 * completion loop until the main thread raises the stop flag, report the
 * counters (strategies/loop-thread-entry.ts), release the ring and the
 * listener.
 */
import { workerData } from 'node:worker_threads';
import { runLoopThread } from '../loop-thread-entry.js';
import * as sys from '../sys/index.js';
import type { LoopWorkerData } from '../loop-thread.js';
import { UringLoop } from './loop.js';

const d = workerData as LoopWorkerData;
let loop: UringLoop | undefined;
await runLoopThread(
  'strategies/io-uring/worker.js',
  d.spec,
  (hooks, protocol) => {
    loop = new UringLoop(d, protocol);
    return loop.run(new Int32Array(d.control), hooks);
  },
  () => {
    try {
      loop?.close();
    } finally {
      sys.close(d.listenFd);
    }
  },
);
