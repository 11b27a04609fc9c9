/**
 * kqueue: epoll's peer on macOS/BSD. Read and write filters are registered
 * in the kernel once; one loop thread blocks in kevent (phase 1, waiting,
 * is the kernel's) and gets back only the ready fds, then recv/send copy the
 * data (phase 2).
 */
import type { ProtocolSpec } from '../core/protocol.js';
import type { StrategyOptions, StrategyServer } from '../core/strategy.js';
import { createLoopServer } from './loop-thread.js';
import { reactorEntry } from './reactor/entry.js';

export function createKqueueServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  return createLoopServer(reactorEntry('kqueue'), spec, opts);
}
