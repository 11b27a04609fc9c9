/**
 * select: IO multiplexing with two 1024-bit fd_set bitmaps. One loop thread
 * blocks in select(2) (phase 1, waiting for data, watched by the kernel for
 * every fd at once, but the whole bitmap is copied in and scanned on every
 * call), then recv/send copy the data (phase 2) for the ready fds only. An
 * accepted fd >= FD_SETSIZE cannot be watched: it is closed at once and
 * counted as "refused: FD_SETSIZE"; the server keeps serving the others.
 */
import type { ProtocolSpec } from '../core/protocol.js';
import type { StrategyOptions, StrategyServer } from '../core/strategy.js';
import { createLoopServer } from './loop-thread.js';
import { reactorEntry } from './reactor/entry.js';

export function createSelectServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  return createLoopServer(reactorEntry('select'), spec, opts);
}
