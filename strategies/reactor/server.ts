/**
 * The main-thread half of a reactor strategy: binds the listening socket
 * (so bind errors such as EADDRINUSE reject listen() directly), starts the
 * loop in its own worker_thread (strategies/loop-thread.ts), and on close()
 * raises the stop flag and writes one byte to the wake-up pipe, which wakes
 * a loop blocked in select/poll/epoll_wait (the self-pipe trick). Signals
 * stay with the main thread: harness/serve.ts turns SIGTERM/SIGINT into
 * close().
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import type { ProtocolSpec } from '../../core/protocol.js';
import { LoopThread } from '../loop-thread.js';
import type { StrategyOptions, StrategyServer } from '../../core/strategy.js';
import * as sys from '../sys/index.js';
import { CONTROL_STOP, type LoopKind, type ReactorWorkerData } from './messages.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

export function createReactorServer(name: string, loop: LoopKind, spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  let thread: LoopThread | undefined;
  let listening = false;

  return {
    name,
    counters: () => thread?.counters() ?? {},

    async listen(host, port) {
      if (listening) throw new Error(`${name}: listen() called twice`);
      listening = true;
      const ip = net.isIP(host) !== 0 ? host : (await dns.lookup(host)).address;
      const l = sys.listenTcp(ip, port, opts.backlog, { sndbuf: opts.sndbufBytes });
      const waker = new sys.Waker();
      const sab = new SharedArrayBuffer(4);
      const control = new Int32Array(sab);
      const data: ReactorWorkerData = { loop, spec, opts, listenFd: l.fd, wakeFd: waker.readFd, control: sab };
      thread = await LoopThread.start({
        name,
        url: WORKER_URL,
        workerData: data,
        listenFd: l.fd,
        failureCounter: 'errors: reactor',
        wake: () => {
          Atomics.store(control, CONTROL_STOP, 1);
          waker.wake();
        },
        release: () => waker.close(),
      });
      return { host: l.host, port: l.port };
    },

    close: () => thread?.stop() ?? Promise.resolve(),
  };
}
