/**
 * The worker-thread half of loop-thread.ts: run a loop, tell the main thread
 * when it serves, pass its counters on, and end with 'stopped' or 'fatal'.
 */
import { parentPort } from 'node:worker_threads';
import type { Protocol, ProtocolSpec } from '../core/protocol.js';
import type { LoopMessage } from './loop-thread.js';
import type { ServerCounters } from '../core/strategy.js';
import { loadProtocol } from './protocol-loader.js';

/** What a loop calls while it runs. */
export interface LoopHooks {
  /** The loop is set up and serving. */
  ready(): void;
  /** Periodic snapshot of the counters (about once a second). */
  counters(c: ServerCounters): void;
}

/**
 * Rebuild the protocol from `spec`, run `loop` with it (the loop returns its
 * final counters when the stop flag is raised), then `release` (which must
 * close the listener) whatever happened.
 */
export async function runLoopThread(
  entry: string,
  spec: ProtocolSpec,
  loop: (hooks: LoopHooks, protocol: Protocol) => ServerCounters,
  release: () => void = () => undefined,
): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error(`${entry} must run in a worker_thread`);
  const send = (m: LoopMessage): void => {
    port.postMessage(m);
  };
  let final: LoopMessage;
  try {
    const protocol = await loadProtocol(spec);
    const counters = loop({ ready: () => send({ type: 'ready' }), counters: (c) => send({ type: 'counters', counters: { ...c } }) }, protocol);
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
