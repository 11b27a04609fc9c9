/**
 * The main-thread half of a reactor strategy: binds the listening socket
 * (so bind errors such as EADDRINUSE reject listen() directly), starts the
 * loop in its own worker_thread, and on close() raises the stop flag and
 * writes one byte to the wake-up pipe, which wakes a loop blocked in
 * select/poll/epoll_wait (the self-pipe trick). Signals stay with the main
 * thread: harness/serve.ts turns SIGTERM/SIGINT into close().
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import type { ProtocolSpec } from '../../workloads/protocol.js';
import { bump, type ServerCounters, type StrategyOptions, type StrategyServer } from '../strategy.js';
import * as sys from '../sys/index.js';
import { CONTROL_STOP, type LoopKind, type ReactorMessage, type ReactorWorkerData } from './messages.js';

/** close() waits this long for the loop to stop by itself before terminating it. */
const STOP_DEADLINE_MS = 800;
const WORKER_URL = new URL('./worker.js', import.meta.url);

class ReactorStartError extends Error {
  override readonly name = 'ReactorStartError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export function createReactorServer(name: string, loop: LoopKind, spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  let counters: ServerCounters = {};
  let worker: Worker | undefined;
  let waker: sys.Waker | undefined;
  let listener: sys.Listener | undefined;
  let control: Int32Array | undefined;
  let stopped: Promise<void> | undefined;
  let listenerClosedByWorker = false;

  return {
    name,
    counters: () => ({ ...counters }),

    async listen(host, port) {
      if (worker !== undefined) throw new Error(`${name}: listen() called twice`);
      const ip = net.isIP(host) !== 0 ? host : (await dns.lookup(host)).address;
      const l = sys.listenTcp(ip, port, opts.backlog, { sndbuf: opts.sndbufBytes });
      listener = l;
      const w = new sys.Waker();
      waker = w;
      const sab = new SharedArrayBuffer(4);
      control = new Int32Array(sab);
      const data: ReactorWorkerData = { loop, spec, opts, listenFd: l.fd, wakeFd: w.readFd, control: sab };
      const wk = new Worker(WORKER_URL, { workerData: data, name: `iomodels ${name} loop` });
      worker = wk;
      let onStopped: () => void = () => undefined;
      const exited = new Promise<void>((resolve) => wk.once('exit', () => resolve()));
      stopped = new Promise<void>((resolve) => {
        onStopped = resolve;
      });
      void exited.then(() => {
        onStopped();
      });
      await new Promise<void>((resolve, reject) => {
        let ready = false;
        wk.on('message', (m: ReactorMessage) => {
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
              listenerClosedByWorker = true;
              onStopped();
              break;
            case 'fatal':
              listenerClosedByWorker = true;
              if (!ready) reject(new ReactorStartError(`${name}: ${m.message}`, m.code));
              else {
                bump(counters, 'errors: reactor');
                process.stderr.write(`iomodels: ${name} loop failed: ${m.message}\n`);
              }
              onStopped();
              break;
          }
        });
        wk.on('error', (err) => {
          if (!ready) reject(err);
          else process.stderr.write(`iomodels: ${name} loop crashed: ${String(err)}\n`);
        });
        void exited.then(() => {
          if (!ready) reject(new ReactorStartError(`${name}: loop thread exited before it was ready`));
        });
      }).catch((err: unknown) => {
        if (!listenerClosedByWorker) sys.close(l.fd);
        w.close();
        throw err;
      });
      return { host: l.host, port: l.port };
    },

    async close() {
      const wk = worker;
      if (wk === undefined || control === undefined || stopped === undefined) return;
      Atomics.store(control, CONTROL_STOP, 1);
      waker?.wake();
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
      // If the loop never got to close the listener, nothing else will.
      if (!listenerClosedByWorker && listener !== undefined) sys.close(listener.fd);
      waker?.close();
      worker = undefined;
    },
  };
}
