/**
 * The loop server: the main-thread half of every strategy whose event loop
 * runs in one worker_thread (the reactor family and io-uring), which differ
 * here only in their LoopEntry (worker module, waker, listener mode). The
 * loop must not share a thread with Node's own event loop: it blocks in
 * select/poll/epoll_wait or io_uring_enter. The main thread binds the
 * listening socket (so EADDRINUSE rejects listen() directly) and keeps the
 * signals (harness/serve.ts turns SIGTERM/SIGINT into close()); to stop the
 * loop it raises a flag in shared memory and wakes it (self-pipe or
 * eventfd), and if the loop does not stop within a deadline, terminates the
 * thread.
 *
 * The loop thread speaks LoopMessage: 'ready' once it serves, 'counters'
 * while it runs, then 'stopped' or 'fatal' (after it released the listener).
 */
import { Worker } from 'node:worker_threads';
import type { ProtocolSpec } from '../core/protocol.js';
import { bump, type ServerCounters, type StrategyOptions, type StrategyServer } from '../core/strategy.js';
import { listenTcp } from './listen-tcp.js';
import * as sys from './sys/index.js';

/** Index of the stop flag in the control Int32Array. */
export const CONTROL_STOP = 0;

/** What every loop thread gets as workerData (an entry may add its own fields). */
export interface LoopWorkerData {
  readonly spec: ProtocolSpec;
  readonly opts: StrategyOptions;
  /** The listening socket, bound by the main thread. */
  readonly listenFd: number;
  /** The fd the loop watches to be woken (the waker's). */
  readonly wakeFd: number;
  /** Int32Array over it: [CONTROL_STOP] = 1 asks the loop to stop. */
  readonly control: SharedArrayBuffer;
}

/** How the main thread wakes a loop blocked in its wait (sys.Waker is one). */
export interface LoopWaker {
  /** What the loop watches: handed to it as wakeFd. */
  readonly readFd: number;
  wake(): void;
  close(): void;
}

/** What one loop server differs in. */
export interface LoopEntry {
  /** The strategy's name. */
  readonly name: string;
  /** The worker module that runs the loop. */
  readonly url: URL;
  /** Counter bumped when the loop fails after it was ready. */
  readonly failureCounter: string;
  /** A blocking listener (io_uring parks the ACCEPT itself); else O_NONBLOCK (a readiness loop accepts). */
  readonly blockingListener: boolean;
  /** Fields the loop needs beyond LoopWorkerData (the reactor: which loop). */
  readonly data?: Readonly<Record<string, string>>;
  waker(): LoopWaker;
}

export function createLoopServer(entry: LoopEntry, spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  const { name } = entry;
  let thread: LoopThread | undefined;
  let listening = false;
  return {
    name,
    counters: () => thread?.counters() ?? {},

    async listen(host, port) {
      if (listening) throw new Error(`${name}: listen() called twice`);
      listening = true;
      const l = await listenTcp(host, port, opts, { blocking: entry.blockingListener });
      let waker: LoopWaker;
      try {
        waker = entry.waker();
      } catch (err) {
        sys.close(l.fd);
        throw err;
      }
      const sab = new SharedArrayBuffer(4);
      const control = new Int32Array(sab);
      const data: LoopWorkerData = { ...entry.data, spec, opts, listenFd: l.fd, wakeFd: waker.readFd, control: sab };
      thread = await LoopThread.start({
        name,
        url: entry.url,
        workerData: data,
        listenFd: l.fd,
        failureCounter: entry.failureCounter,
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

export type LoopMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'counters'; readonly counters: ServerCounters }
  | { readonly type: 'stopped'; readonly counters: ServerCounters }
  | { readonly type: 'fatal'; readonly message: string; readonly code?: string };

/** The loop failed before it was ready (ring setup, selector creation …). */
export class LoopStartError extends Error {
  override readonly name = 'LoopStartError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** close() waits this long for the loop to stop by itself before terminating it. */
const STOP_DEADLINE_MS = 800;

interface LoopThreadOptions {
  /** The strategy's name, in messages and the thread's name. */
  readonly name: string;
  readonly url: URL;
  readonly workerData: unknown;
  /** The listening socket handed to the loop: closed here if the loop never released it. */
  readonly listenFd: number;
  /** Counter bumped when the loop fails after it was ready. */
  readonly failureCounter: string;
  /** Raise the loop's stop flag and wake it (self-pipe, eventfd). */
  readonly wake: () => void;
  /** Free this side's resources (the waker) once the loop is gone or never started. */
  readonly release: () => void;
}

class LoopThread {
  #counters: ServerCounters = {};
  /** The loop said 'stopped' or 'fatal': it closed the listener itself. */
  #released = false;
  readonly #stopped: Promise<void>;
  #stopping: Promise<void> | undefined;

  private constructor(
    private readonly o: LoopThreadOptions,
    private readonly worker: Worker,
    stopped: Promise<void>,
  ) {
    this.#stopped = stopped;
  }

  /** Start the loop thread; resolves once it serves, rejects (listener closed) if it never does. */
  static async start(o: LoopThreadOptions): Promise<LoopThread> {
    const wk = new Worker(o.url, { workerData: o.workerData, name: `iomodels ${o.name} loop` });
    let onStopped: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (onStopped = resolve));
    const exited = new Promise<void>((resolve) => wk.once('exit', () => resolve()));
    void exited.then(() => onStopped());
    let t: LoopThread | undefined;
    const thread = (): LoopThread => (t ??= new LoopThread(o, wk, stopped));
    let ready = false;
    try {
      await new Promise<void>((resolve, reject) => {
        wk.on('message', (m: LoopMessage) => {
          switch (m.type) {
            case 'ready':
              ready = true;
              resolve();
              break;
            case 'counters':
              thread().#counters = m.counters;
              break;
            case 'stopped':
              thread().#counters = m.counters;
              thread().#released = true;
              onStopped();
              break;
            case 'fatal':
              thread().#released = true;
              if (!ready) reject(new LoopStartError(`${o.name}: ${m.message}`, m.code));
              else {
                bump(thread().#counters, o.failureCounter);
                process.stderr.write(`iomodels: ${o.name} loop failed: ${m.message}\n`);
              }
              onStopped();
              break;
          }
        });
        wk.on('error', (err) => {
          if (!ready) reject(err);
          else process.stderr.write(`iomodels: ${o.name} loop crashed: ${String(err)}\n`);
        });
        void exited.then(() => {
          if (!ready) reject(new LoopStartError(`${o.name}: loop thread exited before it was ready`));
        });
      });
    } catch (err) {
      if (!thread().#released) sys.close(o.listenFd);
      o.release();
      throw err;
    }
    return thread();
  }

  /** The loop's latest counters, plus what this side counted. */
  counters(): ServerCounters {
    return { ...this.#counters };
  }

  /**
   * Wake the loop with its stop flag raised, wait for it to stop (counted as
   * 'errors: stop deadline' past STOP_DEADLINE_MS), end the thread, release.
   * Idempotent; the counters stay readable afterwards (serve prints them).
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.o.wake();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#stopped.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), STOP_DEADLINE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) bump(this.#counters, 'errors: stop deadline');
    await this.worker.terminate();
    // If the loop never got to close the listener, nothing else will.
    if (!this.#released) {
      this.#released = true;
      sys.close(this.o.listenFd);
    }
    this.o.release();
  }
}
