/**
 * The main-thread half of the io-uring strategy: binds the listening socket
 * (so EADDRINUSE rejects listen() directly), starts the completion loop in
 * its own worker_thread, and on close() raises a stop flag in a
 * SharedArrayBuffer and writes the eventfd the ring keeps a READ armed on,
 * so a loop blocked in io_uring_enter wakes at once.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import type { ProtocolSpec } from '../../workloads/protocol.js';
import { bump, type ServerCounters, type StrategyOptions, type StrategyServer } from '../strategy.js';
import * as sys from '../sys/index.js';
import { blockingEventfd, closeFd } from '../sys/io-uring.js';
import type { UringLoopData } from './loop.js';
import type { UringMessage } from './messages.js';

/** close() waits this long for the loop to stop by itself before terminating it. */
const STOP_DEADLINE_MS = 800;
const WORKER_URL = new URL('./worker.js', import.meta.url);

class UringStartError extends Error {
  override readonly name = 'UringStartError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export function createIoUringServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  let counters: ServerCounters = {};
  let worker: Worker | undefined;
  let wakeFd = -1;
  let control: Int32Array | undefined;
  let stopped: Promise<void> | undefined;
  const one = sys.allocBuffer(8);
  one.writeBigUInt64LE(1n, 0);

  return {
    name: 'io-uring',
    counters: () => ({ ...counters }),

    async listen(host, port) {
      if (worker !== undefined) throw new Error('io-uring: listen() called twice');
      const ip = net.isIP(host) !== 0 ? host : (await dns.lookup(host)).address;
      // Blocking listener: io_uring parks the ACCEPT itself; nobody calls accept(2) on it.
      const l = sys.listenTcp(ip, port, opts.backlog, { nonBlocking: false, sndbuf: opts.sndbufBytes });
      const efd = blockingEventfd();
      wakeFd = efd;
      const sab = new SharedArrayBuffer(4);
      control = new Int32Array(sab);
      const data: UringLoopData = { spec, opts, listenFd: l.fd, wakeFd: efd, control: sab };
      const wk = new Worker(WORKER_URL, { workerData: data, name: 'iomodels io-uring loop' });
      worker = wk;
      const exited = new Promise<void>((resolve) => wk.once('exit', () => resolve()));
      let onStopped: () => void = () => undefined;
      stopped = new Promise<void>((resolve) => {
        onStopped = resolve;
      });
      void exited.then(() => onStopped());
      await new Promise<void>((resolve, reject) => {
        let ready = false;
        wk.on('message', (m: UringMessage) => {
          switch (m.type) {
            case 'ready':
              ready = true;
              resolve();
              break;
            case 'counters':
              counters = m.counters;
              break;
            case 'stopped':
              counters = m.counters;
              onStopped();
              break;
            case 'fatal':
              if (!ready) reject(new UringStartError(`io-uring: ${m.message}`, m.code));
              else {
                bump(counters, 'errors: loop');
                process.stderr.write(`iomodels: io-uring loop failed: ${m.message}\n`);
              }
              onStopped();
              break;
          }
        });
        wk.on('error', (err) => {
          if (!ready) reject(err);
          else process.stderr.write(`iomodels: io-uring loop crashed: ${String(err)}\n`);
        });
        void exited.then(() => {
          if (!ready) reject(new UringStartError('io-uring: loop thread exited before it was ready'));
        });
      }).catch((err: unknown) => {
        // The worker closes the listener as it exits; the eventfd is ours.
        closeFd(efd);
        wakeFd = -1;
        throw err;
      });
      return { host: l.host, port: l.port };
    },

    async close() {
      const wk = worker;
      if (wk === undefined || control === undefined || stopped === undefined) return;
      Atomics.store(control, 0, 1);
      if (wakeFd >= 0) sys.write(wakeFd, one, 0, 8);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        stopped.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_DEADLINE_MS);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) bump(counters, 'errors: stop deadline');
      await wk.terminate();
      if (wakeFd >= 0) closeFd(wakeFd);
      wakeFd = -1;
      worker = undefined;
    },
  };
}
