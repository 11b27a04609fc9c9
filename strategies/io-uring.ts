/**
 * io-uring: asynchronous IO, the seed's fifth model (Linux). The process
 * never waits for readiness and never copies data itself: it describes whole
 * operations (ACCEPT, RECV, SEND) as SQEs in a ring shared with the kernel,
 * and the kernel does both phases — waiting for data (phase 1) and copying
 * it into a buffer we provided (phase 2) — then posts a CQE saying "done, n
 * bytes in buffer b". One loop thread submits a batch and waits for
 * completions with one io_uring_enter per iteration; the multishot ACCEPT
 * and one multishot RECV per connection stay armed, so a steady echo costs
 * one SEND SQE per reply and nothing per receive.
 *
 * The main thread's half is the loop server (loop-thread.ts). Its listener
 * is blocking (nobody calls accept(2): the kernel parks the ACCEPT), and it
 * wakes the loop by writing the eventfd the ring keeps a READ armed on.
 */
import type { ProtocolSpec } from '../core/protocol.js';
import type { StrategyOptions, StrategyServer } from '../core/strategy.js';
import { createLoopServer, type LoopEntry, type LoopWaker } from './loop-thread.js';
import * as sys from './sys/index.js';
import { blockingEventfd, closeFd } from './sys/io-uring.js';

/** A blocking eventfd: the loop's READ on it completes when the main thread adds 1. */
function eventfdWaker(): LoopWaker {
  const efd = blockingEventfd();
  const one = sys.allocBuffer(8);
  one.writeBigUInt64LE(1n, 0);
  return {
    readFd: efd,
    wake: () => {
      sys.write(efd, one, 0, 8);
    },
    close: () => closeFd(efd),
  };
}

const IO_URING: LoopEntry = {
  name: 'io-uring',
  url: new URL('./io-uring/worker.js', import.meta.url),
  failureCounter: 'errors: loop',
  blockingListener: true,
  waker: eventfdWaker,
};

export function createIoUringServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  return createLoopServer(IO_URING, spec, opts);
}
