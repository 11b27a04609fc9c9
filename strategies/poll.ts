/**
 * poll: IO multiplexing with an array of struct pollfd. One loop thread
 * blocks in poll(2) (phase 1, waiting, is the kernel's for every fd at once;
 * no FD_SETSIZE limit, but the whole array goes in and is scanned on every
 * call), then recv/send copy the data (phase 2) for the ready fds.
 */
import type { ProtocolSpec } from '../core/protocol.js';
import type { StrategyOptions, StrategyServer } from '../core/strategy.js';
import { createLoopServer } from './loop-thread.js';
import { reactorEntry } from './reactor/entry.js';

export function createPollServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  return createLoopServer(reactorEntry('poll'), spec, opts);
}
