/**
 * busypoll: non-blocking IO, polled in a loop (the seed's "循环, 效率低").
 * Every fd is O_NONBLOCK and one thread tries accept and recv on every fd,
 * over and over, never sleeping: phase 1 (waiting for data) is spent
 * spinning in user space on syscalls that mostly answer EAGAIN, so it burns
 * a full core even with no clients; phase 2 (the copy) happens in the recv
 * that finally returns data.
 */
import type { ProtocolSpec } from '../core/protocol.js';
import type { StrategyOptions, StrategyServer } from '../core/strategy.js';
import { createLoopServer } from './loop-thread.js';
import { reactorEntry } from './reactor/entry.js';

export function createBusyPollServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  return createLoopServer(reactorEntry('busypoll'), spec, opts);
}
