/**
 * The main-thread half of the io-uring strategy: binds the listening socket
 * (so EADDRINUSE rejects listen() directly), starts the completion loop in
 * its own worker_thread (strategies/loop-thread.ts), and on close() raises a
 * stop flag in a SharedArrayBuffer and writes the eventfd the ring keeps a
 * READ armed on, so a loop blocked in io_uring_enter wakes at once.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import type { ProtocolSpec } from '../../core/protocol.js';
import { LoopThread } from '../loop-thread.js';
import type { StrategyOptions, StrategyServer } from '../../core/strategy.js';
import * as sys from '../sys/index.js';
import { blockingEventfd, closeFd } from '../sys/io-uring.js';
import type { UringLoopData } from './loop.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

export function createIoUringServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  let thread: LoopThread | undefined;
  let listening = false;
  const one = sys.allocBuffer(8);
  one.writeBigUInt64LE(1n, 0);

  return {
    name: 'io-uring',
    counters: () => thread?.counters() ?? {},

    async listen(host, port) {
      if (listening) throw new Error('io-uring: listen() called twice');
      listening = true;
      const ip = net.isIP(host) !== 0 ? host : (await dns.lookup(host)).address;
      // Blocking listener: io_uring parks the ACCEPT itself; nobody calls accept(2) on it.
      const l = sys.listenTcp(ip, port, opts.backlog, { nonBlocking: false, sndbuf: opts.sndbufBytes });
      const efd = blockingEventfd();
      const sab = new SharedArrayBuffer(4);
      const control = new Int32Array(sab);
      const data: UringLoopData = { spec, opts, listenFd: l.fd, wakeFd: efd, control: sab };
      thread = await LoopThread.start({
        name: 'io-uring',
        url: WORKER_URL,
        workerData: data,
        listenFd: l.fd,
        failureCounter: 'errors: loop',
        wake: () => {
          Atomics.store(control, 0, 1);
          sys.write(efd, one, 0, 8);
        },
        release: () => closeFd(efd),
      });
      return { host: l.host, port: l.port };
    },

    close: () => thread?.stop() ?? Promise.resolve(),
  };
}
