/**
 * epoll: IO multiplexing with a kernel ready list (Linux). Interest is
 * registered once per change with epoll_ctl; one loop thread blocks in
 * epoll_wait (phase 1, waiting for data, is the kernel's) and gets back only
 * the ready fds, then recv/send copy the data (phase 2). Cost per wait
 * follows the ready fds, not the watched ones.
 */
import type { ProtocolSpec } from '../core/protocol.js';
import type { StrategyOptions, StrategyServer } from '../core/strategy.js';
import { createLoopServer } from './loop-thread.js';
import { reactorEntry } from './reactor/entry.js';

export function createEpollServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  return createLoopServer(reactorEntry('epoll'), spec, opts);
}
