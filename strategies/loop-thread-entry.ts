/**
 * The worker-thread half of loop-thread.ts: run a loop, tell the main thread
 * when it serves, pass its counters on, and end with 'stopped' or 'fatal'.
 */
import { parentPort } from 'node:worker_threads';
import type { LoopMessage } from './loop-thread.js';
import type { ServerCounters } from './strategy.js';

/** What a loop calls while it runs. */
export interface LoopHooks {
  /** The loop is set up and serving. */
  ready(): void;
  /** Periodic snapshot of the counters (about once a second). */
  counters(c: ServerCounters): void;
}

/**
 * Run `loop` (it returns its final counters when the stop flag is raised),
 * then `release` (which must close the listener) whatever happened.
 */
export function runLoopThread(entry: string, loop: (hooks: LoopHooks) => ServerCounters, release: () => void = () => undefined): void {
  const port = parentPort;
  if (port === null) throw new Error(`${entry} must run in a worker_thread`);
  const send = (m: LoopMessage): void => {
    port.postMessage(m);
  };
  let final: LoopMessage;
  try {
    const counters = loop({ ready: () => send({ type: 'ready' }), counters: (c) => send({ type: 'counters', counters: { ...c } }) });
    final = { type: 'stopped', counters: { ...counters } };
  } catch (err) {
    const e = err as { code?: unknown; stack?: unknown };
    const message = typeof e.stack === 'string' ? e.stack : String(err);
    final = typeof e.code === 'string' ? { type: 'fatal', message, code: e.code } : { type: 'fatal', message };
  }
  // Released before it is said: the main thread closes the listener itself
  // only if it never hears 'stopped' or 'fatal'.
  try {
    release();
  } finally {
    send(final);
  }
}
