/**
 * Runs a selector client loop (selector-client.ts) either in its own
 * worker_thread (default) or in slices on the calling thread.
 *
 * Why a worker: the load child talks to the orchestrator over IPC
 * (process.send), which needs Node's event loop; a loop blocked in
 * epoll_wait on the main thread would starve it. In the worker the loop may
 * block as long as it likes, and phases reach the main thread by
 * postMessage. The `inline` mode instead returns to the event loop every
 * SLICE_MS (select with a short timeout, then setImmediate). Measured side
 * by side (scripts/compare-echo-drivers.ts, 100 connections to the epoll
 * server, 2-core box shared with other jobs) the two reach similar rates,
 * and the worker spends slightly less client CPU per round trip (median of
 * 7 comparisons ~7.6 vs ~8.1 µs, noisy) and never delays IPC, so it is the
 * default; inline stays for that comparison and for hosts where a
 * worker_thread is unwelcome.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import { defaultSelectorKind, selectorAvailable } from '../../strategies/selectors/index.js';
import type { DriverOptions, DriverPhase, DriverResult } from './driver.js';
import { EchoSelectorLoop } from './echo-selector.js';
import { HttpSelectorLoop } from './http-selector.js';
import type { PhaseListener, SelectorLoopOptions } from './selector-loop.js';

export type SelectorDriverMode = 'worker' | 'inline';
/** Workloads with a selector driver. */
export type SelectorWorkload = 'echo' | 'http';

/** Inline mode: the longest the loop keeps the main thread before yielding. */
const SLICE_MS = 5;
const WORKER_URL = new URL('./selector-thread.js', import.meta.url);

export interface SelectorWorkerData {
  workload: SelectorWorkload;
  opts: SelectorLoopOptions;
}

export type SelectorWorkerMessage =
  | { type: 'phase'; phase: DriverPhase; atMs: number }
  | { type: 'result'; result: DriverResult }
  | { type: 'error'; message: string };

/** undefined when the selector drivers can run here, else why not. */
export function selectorDriverUnavailable(): string | undefined {
  const a = selectorAvailable(defaultSelectorKind());
  return a.ok ? undefined : a.reason;
}

export function createSelectorLoop(
  workload: SelectorWorkload,
  o: SelectorLoopOptions,
  onPhase: PhaseListener,
): EchoSelectorLoop | HttpSelectorLoop {
  return workload === 'echo' ? new EchoSelectorLoop(o, onPhase) : new HttpSelectorLoop(o, onPhase);
}

export async function runSelectorDriver(
  workload: SelectorWorkload,
  opts: DriverOptions,
  mode: SelectorDriverMode = 'worker',
): Promise<DriverResult> {
  const { onPhase, ...rest } = opts;
  // sys.connectTcp takes IP literals only.
  const host = net.isIP(rest.host) !== 0 ? rest.host : (await dns.lookup(rest.host)).address;
  const loopOpts: SelectorLoopOptions = { ...rest, host };
  const phase: PhaseListener = (p, atMs) => onPhase?.(p, atMs);
  return mode === 'worker' ? runInWorker({ workload, opts: loopOpts }, phase) : runInline(workload, loopOpts, phase);
}

function runInline(workload: SelectorWorkload, o: SelectorLoopOptions, onPhase: PhaseListener): Promise<DriverResult> {
  const loop = createSelectorLoop(workload, o, onPhase);
  return new Promise((resolve, reject) => {
    const slice = (): void => {
      try {
        if (loop.run(performance.now() + SLICE_MS)) resolve(loop.result());
        else setImmediate(slice);
      } catch (err) {
        loop.close();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
    slice();
  });
}

function runInWorker(data: SelectorWorkerData, onPhase: PhaseListener): Promise<DriverResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_URL, { workerData: data, name: `iomodels ${data.workload} selector driver` });
    let settled = false;
    w.on('message', (m: SelectorWorkerMessage) => {
      if (m.type === 'phase') onPhase(m.phase, m.atMs);
      else if (m.type === 'result') {
        settled = true;
        resolve(m.result);
      } else {
        settled = true;
        reject(new Error(m.message));
      }
    });
    w.once('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
    w.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(new Error(`${data.workload} selector driver worker exited (code ${code}) without a result`));
    });
  });
}
