/**
 * Entry point of the io-uring worker_thread: set the ring up, run the
 * completion loop until the main thread raises the stop flag, report the
 * counters, release the ring and the listener.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as sys from '../sys/index.js';
import { UringLoop, type UringLoopData } from './loop.js';
import type { UringMessage } from './messages.js';

const port = parentPort;
if (port === null) throw new Error('strategies/io-uring/worker.js must run in a worker_thread');
const d = workerData as UringLoopData;
const send = (m: UringMessage): void => {
  port.postMessage(m);
};

let loop: UringLoop | undefined;
try {
  loop = new UringLoop(d);
  const counters = loop.run(new Int32Array(d.control), {
    ready: (info) => send({ type: 'ready', ...info }),
    counters: (c) => send({ type: 'counters', counters: { ...c } }),
  });
  send({ type: 'stopped', counters: { ...counters } });
} catch (err) {
  const e = err as { message?: unknown; code?: unknown; stack?: unknown };
  const message = typeof e.stack === 'string' ? e.stack : String(err);
  send(typeof e.code === 'string' ? { type: 'fatal', message, code: e.code } : { type: 'fatal', message });
} finally {
  loop?.close();
  sys.close(d.listenFd);
}
