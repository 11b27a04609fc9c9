/**
 * Entry point of a reactor worker_thread: rebuild the protocol from its spec,
 * run the chosen loop until the main thread raises the stop flag, and report
 * the counters back (strategies/loop-thread-entry.ts), close the listener.
 */
import { workerData } from 'node:worker_threads';
import { runLoopThread } from '../loop-thread-entry.js';
import * as sys from '../sys/index.js';
import { busyPollLoop, selectorLoop } from './loops.js';
import type { ReactorWorkerData } from './entry.js';

const d = workerData as ReactorWorkerData;
await runLoopThread(
  'strategies/reactor/worker.js',
  d.spec,
  (hooks, protocol) => (d.loop === 'busypoll' ? busyPollLoop(d, hooks, protocol) : selectorLoop(d.loop, d, hooks, protocol)),
  () => sys.close(d.listenFd),
);
