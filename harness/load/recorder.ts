/**
 * What one load thread measured: verified ops and bytes inside the window,
 * one HDR latency histogram, failures by kind, workload figures. It is the
 * ClientRecorder every session reports to, whatever transport runs it.
 */
import type { ClientRecorder, ClientWorkload } from '../../core/client.js';
import { encodeHistogram, FastHistogram } from '../../core/latency.js';
import type { ThreadResult } from './load-loop.js';
import type { LoadWindow } from './window.js';

export class LoadRecorder implements ClientRecorder {
  ops = 0;
  bytes = 0;
  readonly errors: Record<string, number> = {};
  readonly extra: Record<string, number> = {};
  readonly #hist = new FastHistogram();

  constructor(private readonly window: LoadWindow) {}

  get running(): boolean {
    return this.window.running;
  }

  inWindow(t: number): boolean {
    return this.window.inWindow(t);
  }

  complete(start: number, now: number, bytes: number): void {
    if (now < this.window.start || now >= this.window.end) return;
    this.ops++;
    this.bytes += bytes;
    this.#hist.recordUs((now - start) * 1000);
  }

  /** A failure; after the window closed, failures are our own teardown and not counted. */
  error(kind: string, n = 1): void {
    if (this.window.running) this.errors[kind] = (this.errors[kind] ?? 0) + n;
  }

  /** A failure counted whatever the phase (a workload's end-of-run verdict). */
  errorAlways(kind: string, n: number): void {
    if (n > 0) this.errors[kind] = (this.errors[kind] ?? 0) + n;
  }

  count(name: string, n = 1): void {
    this.extra[name] = (this.extra[name] ?? 0) + n;
  }

  histogram(): string {
    return encodeHistogram(this.#hist.histogram());
  }

  /** This thread's result: what was recorded, and the workload's end-of-run counts (`fin`, ClientWorkload.finish). */
  result(driver: string, established: number, fin: ReturnType<NonNullable<ClientWorkload['finish']>>): ThreadResult {
    const errors = { ...this.errors };
    for (const [k, v] of Object.entries(fin.errors ?? {})) if (v > 0) errors[k] = (errors[k] ?? 0) + v;
    return {
      driver,
      established,
      ops: this.ops,
      bytes: this.bytes,
      histogram: this.histogram(),
      errors,
      counts: { ...this.extra, ...fin.counts },
      figures: { ...fin.figures },
    };
  }
}
