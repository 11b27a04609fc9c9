/**
 * A load of client sessions spread over load threads (`--load-threads`), as
 * wrk (-t), h2load (-t) and autocannon (workers) spread theirs. Each thread
 * owns its share of the connections and runs them on one transport; the
 * window opens and closes on every thread together (one gate, one instant);
 * the open-loop schedule is one sequence dealt out among the threads, so
 * their rates add up to exactly the asked rate; the HDR histograms are
 * merged, never averaged.
 */
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import { Worker } from 'node:worker_threads';
import type { ClientOptions } from '../../core/client.js';
import { encodeHistogram, mergeEncoded } from '../../core/latency.js';
import { phaseClock, type DriverOptions, type DriverPhase, type DriverResult } from './driver.js';
import type { ThreadResult, TransportOptions } from './load-loop.js';
import { WindowGate } from './window-gate.js';

const THREAD_URL = new URL('./load-thread.js', import.meta.url);
/** The longest the warm-up waits past warmupSec for the load to settle (chat's join). */
const SETTLE_DEADLINE_MS = 20_000;
/** After the window, how long a thread waits for what is still in flight (chat). */
const DRAIN_MS = 5000;

/** A transport runs client sessions; 'autocannon' runs autocannon itself, one instance per thread (http only). */
export type Transport = 'selector' | 'uring' | 'net' | 'autocannon';

export interface LoadThreadData {
  clientModule: string;
  client: ClientOptions;
  transport: Transport;
  opts: TransportOptions;
}

export type LoadThreadMessage =
  | { type: 'phase'; phase: DriverPhase; atMs: number }
  | { type: 'ready' }
  | { type: 'result'; result: ThreadResult; cpuSeconds?: number }
  | { type: 'error'; message: string };

/** Slots [first, first + count) of thread k of `threads`, for `connections` in all: shares differ by one at most. */
export function shareOf(k: number, threads: number, connections: number): { first: number; count: number } {
  const first = Math.floor((k * connections) / threads);
  return { first, count: Math.floor(((k + 1) * connections) / threads) - first };
}

/**
 * Thread k's whole ops/s of an integer `rate` split over `threads`, for a
 * generator that paces each thread at its own rate (autocannon): the shares
 * add up to exactly `rate`, and none is 0 as long as threads <= rate (a
 * share of 0 would be an unpaced thread, wrk2's bug), which is why such a
 * load runs on at most `rate` threads.
 */
export function rateShare(k: number, threads: number, rate: number): number {
  return Math.floor(((k + 1) * rate) / threads) - Math.floor((k * rate) / threads);
}

export interface ClientLoadOptions {
  /** URL of the workload's client module (core/client.ts ClientModule). */
  clientModule: string;
  transport: Transport;
  /** The most threads this workload's client can be split over (chat: 1). */
  maxThreads?: number;
  /** What only this workload's client reads (ClientOptions.clientSpec). */
  clientSpec?: unknown;
}

/** Run `o`'s load on `o.loadThreads` threads of `c.transport`. */
export async function runClientLoad(o: DriverOptions, c: ClientLoadOptions): Promise<DriverResult> {
  // The Selector transport connects to IP literals only.
  const host = net.isIP(o.host) !== 0 ? o.host : (await dns.lookup(o.host)).address;
  // A generator that paces each thread itself needs a whole op/s per thread.
  const paced = c.transport === 'autocannon' && (o.rate ?? 0) > 0 ? (o.rate ?? 0) : Number.POSITIVE_INFINITY;
  const threads = Math.max(1, Math.min(o.loadThreads ?? 1, c.maxThreads ?? Number.POSITIVE_INFINITY, o.connections, paced));
  // Without a gate from the load child, one of our own keeps the threads' windows together.
  const ownGate = o.gate === undefined ? new WindowGate() : undefined;
  const gate = o.gate ?? ownGate?.sab;
  // Our own gate opens as the load child's would: the warm-up over (from the
  // last connect) and every thread settled (chat: the group joined), or at
  // the settle deadline.
  let connectedAt = Number.NaN;
  let loadSettled = false;
  let settleTimer: NodeJS.Timeout | undefined;
  const maybeOpen = (): void => {
    if (ownGate === undefined || Number.isNaN(connectedAt) || !loadSettled) return;
    clearTimeout(settleTimer);
    ownGate.open(Math.max(connectedAt + o.warmupSec * 1000, phaseClock()));
  };
  const openLoop = (o.rate ?? 0) > 0;
  // One grid for every thread's open-loop ops: their counts in the window add up to the rate's.
  const scheduleOrigin = phaseClock();

  const phases = new Map<DriverPhase, number>();
  let connected = 0;
  let ready = 0;
  const say = (p: DriverPhase, atMs: number): void => {
    if (phases.has(p)) return;
    phases.set(p, atMs);
    o.onPhase?.(p, atMs);
  };

  const runs = Array.from({ length: threads }, (_, k) => {
    const share = shareOf(k, threads, o.connections);
    const client: ClientOptions = {
      connections: o.connections,
      first: share.first,
      count: share.count,
      openLoop,
      protocol: o.protocol,
      host,
      port: o.port,
      ...(c.clientSpec === undefined ? {} : { clientSpec: c.clientSpec }),
    };
    const opts: TransportOptions = {
      host,
      port: o.port,
      first: share.first,
      count: share.count,
      warmupSec: o.warmupSec,
      durationSec: o.durationSec,
      timeoutMs: o.timeoutMs,
      connectConcurrency: Math.max(1, Math.ceil(o.connectConcurrency / threads)),
      connectTimeoutMs: o.connectTimeoutMs,
      rate: o.rate ?? 0,
      thread: k,
      threads,
      scheduleOrigin,
      ...(gate === undefined ? {} : { gate }),
      drainMs: Math.min(o.timeoutMs, DRAIN_MS),
      // The stall seam stalls one thread: the load side, not the server.
      ...(o.stall !== undefined && k === 0 ? { stall: o.stall } : {}),
    };
    const data: LoadThreadData = { clientModule: c.clientModule, client, transport: c.transport, opts };
    return new Promise<{ result: ThreadResult; cpuSeconds?: number; connections: number }>((resolve, reject) => {
      const w = new Worker(THREAD_URL, { workerData: data, name: `iomodels load thread ${k}` });
      let settled = false;
      w.on('message', (m: LoadThreadMessage) => {
        if (m.type === 'phase') {
          if (m.phase === 'connected') {
            // The warm-up starts when the last thread is connected.
            if (++connected === threads) {
              say('connected', m.atMs);
              // From the connect stamp, not this message's arrival: the warm-up is the driver's own.
              connectedAt = m.atMs;
              settleTimer = setTimeout(() => {
                loadSettled = true;
                maybeOpen();
              }, o.warmupSec * 1000 + SETTLE_DEADLINE_MS);
              maybeOpen();
            }
          } else {
            say(m.phase, m.atMs);
          }
        } else if (m.type === 'ready') {
          if (++ready === threads) {
            loadSettled = true;
            maybeOpen();
            o.onReady?.();
          }
        } else if (m.type === 'result') {
          settled = true;
          resolve({ result: m.result, ...(m.cpuSeconds === undefined ? {} : { cpuSeconds: m.cpuSeconds }), connections: share.count });
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
        reject(new Error(`load thread ${k} exited (code ${code}) without a result`));
      });
    });
  });
  const done = await Promise.all(runs).finally(() => clearTimeout(settleTimer));
  return merge(done, o, threads);
}

/** One result from every thread's: counts summed, histograms merged (never averaged). */
function merge(done: readonly { result: ThreadResult; cpuSeconds?: number; connections: number }[], o: DriverOptions, threads: number): DriverResult {
  const errors: Record<string, number> = {};
  const extra: Record<string, number> = {};
  let established = 0;
  let ops = 0;
  let bytes = 0;
  for (const { result: r } of done) {
    established += r.established;
    ops += r.ops;
    bytes += r.bytes;
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.counts)) extra[k] = (extra[k] ?? 0) + v;
  }
  Object.assign(extra, done[0]?.result.figures ?? {});
  const out: DriverResult = {
    driver: done[0]?.result.driver ?? 'none',
    established,
    ops,
    bytes,
    windowSec: o.durationSec,
    histogram: encodeHistogram(mergeEncoded(done.map((d) => d.result.histogram))),
    errors,
    extra,
    threads: done.map((d) => ({ connections: d.connections, ...(d.cpuSeconds === undefined ? {} : { cpuSeconds: d.cpuSeconds }) })),
  };
  if ((o.rate ?? 0) > 0) out.targetRate = o.rate ?? 0;
  if (threads > 1) out.extra['loadThreads'] = threads;
  return out;
}
