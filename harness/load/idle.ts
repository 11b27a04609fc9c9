/**
 * The idle connections of a cell, held by a thread of their own
 * (idle-worker.ts) beside the active load: opened and established before
 * the warm-up, silent through the window.
 */
import { Worker } from 'node:worker_threads';
import type { IdleFromWorker, IdleReport, IdleToWorker, IdleWorkerData } from './idle-messages.js';

const WORKER_URL = new URL('./idle-worker.js', import.meta.url);
/** The thread answers within this, or is terminated. */
const REPLY_MS = 10_000;

export class IdleHolder {
  readonly #w: Worker;
  readonly #asked: number;
  #pending: ((m: IdleFromWorker) => void) | undefined;
  #exited = false;
  established = 0;
  errors: Record<string, number> = {};

  private constructor(w: Worker, asked: number) {
    this.#w = w;
    this.#asked = asked;
    w.on('message', (m: IdleFromWorker) => {
      const p = this.#pending;
      this.#pending = undefined;
      p?.(m);
    });
    w.once('exit', () => {
      this.#exited = true;
      const p = this.#pending;
      this.#pending = undefined;
      p?.({ type: 'closed' });
    });
  }

  /** Open them all; resolves once each is established or has failed (bounded by connectTimeoutMs). */
  static async open(o: IdleWorkerData): Promise<IdleHolder> {
    const w = new Worker(WORKER_URL, { workerData: o, name: 'iomodels idle connections' });
    const h = new IdleHolder(w, o.count);
    const m = await h.#next(o.connectTimeoutMs + REPLY_MS);
    if (m?.type !== 'held') {
      await h.close();
      throw new Error('idle connection thread ended before it held its connections');
    }
    h.established = m.established;
    h.errors = m.errors;
    return h;
  }

  /** How many were open at `atEpochMs` (the window's end), and every failure so far. */
  async report(atEpochMs: number): Promise<IdleReport> {
    this.#post({ type: 'report', atEpochMs });
    const m = await this.#next(REPLY_MS);
    if (m?.type !== 'report') return { asked: this.#asked, established: this.established, open: 0, errors: { ...this.errors, 'idle thread': 1 } };
    return { asked: this.#asked, established: m.established, open: m.open, errors: m.errors };
  }

  /** Close every idle connection and end the thread (bounded). */
  async close(): Promise<void> {
    if (this.#exited) return;
    this.#post({ type: 'close' });
    await this.#next(REPLY_MS);
    if (!this.#exited) await this.#w.terminate();
  }

  #post(m: IdleToWorker): void {
    if (!this.#exited) this.#w.postMessage(m);
  }

  #next(ms: number): Promise<IdleFromWorker | undefined> {
    if (this.#exited) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        resolve(undefined);
      }, ms);
      this.#pending = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
    });
  }
}
