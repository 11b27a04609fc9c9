/**
 * Entry point of a reactor worker_thread: rebuild the protocol from its spec,
 * run the chosen loop until the main thread raises the stop flag, and report
 * the counters back. Every message is typed in messages.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ServerCounters } from '../strategy.js';
import { busyPollLoop, selectorLoop, type LoopHooks } from './loops.js';
import type { ReactorMessage, ReactorWorkerData } from './messages.js';

const port = parentPort;
if (port === null) throw new Error('strategies/reactor/worker.js must run in a worker_thread');
const d = workerData as ReactorWorkerData;
const send = (m: ReactorMessage): void => {
  port.postMessage(m);
};

const hooks: LoopHooks = {
  ready: () => {
    send({ type: 'ready' });
  },
  counters: (c) => {
    send({ type: 'counters', counters: { ...c } });
  },
};

try {
  const counters: ServerCounters = d.loop === 'busypoll' ? busyPollLoop(d, hooks) : selectorLoop(d.loop, d, hooks);
  send({ type: 'stopped', counters: { ...counters } });
} catch (err) {
  const e = err as { message?: unknown; code?: unknown; stack?: unknown };
  const message = typeof e.stack === 'string' ? e.stack : String(err);
  send(typeof e.code === 'string' ? { type: 'fatal', message, code: e.code } : { type: 'fatal', message });
}
