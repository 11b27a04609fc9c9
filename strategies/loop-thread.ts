/**
 * The main-thread half shared by the strategies whose event loop runs in one
 * worker_thread (the reactor family and io-uring). The loop must not share a
 * thread with Node's own event loop: it blocks in select/poll/epoll_wait or
 * io_uring_enter. The main thread keeps the signals; to stop the loop it
 * raises a flag in shared memory and wakes it (self-pipe or eventfd), and if
 * the loop does not stop within a deadline, terminates the thread.
 *
 * The loop thread speaks LoopMessage: 'ready' once it serves, 'counters'
 * while it runs, then 'stopped' or 'fatal' (after it released the listener).
 */
import { Worker } from 'node:worker_threads';
import { bump, type ServerCounters } from '../core/strategy.js';
import * as sys from './sys/index.js';

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

export interface LoopThreadOptions {
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

export class LoopThread {
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
