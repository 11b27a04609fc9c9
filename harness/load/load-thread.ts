/**
 * worker_thread entry of one load thread: rebuild the workload's client from
 * its module, run its share of the connections on the chosen transport to
 * the end (or run autocannon on them), and post phases, readiness and the
 * result. The Selector loop may
 * block in select() as long as it likes: this thread serves nothing else.
 * The thread also reads its own CPU time over the window, so the result can
 * say which thread was the load's ceiling.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { ClientModule } from '../../core/client.js';
import type { HttpClientSpec } from '../../workloads/http/client.js';
import { rateShare, type LoadThreadData, type LoadThreadMessage } from './load-threads.js';
import type { ThreadResult, TransportEvents } from './load-loop.js';

const port = parentPort;
if (port === null) throw new Error('harness/load/load-thread.js must run in a worker_thread');
const post = (m: LoadThreadMessage): void => {
  port.postMessage(m);
};
const d = workerData as LoadThreadData;

/** This thread's user + system CPU seconds, from /proc (undefined where it cannot be read). */
function threadCpu(tid: number): number | undefined {
  if (tid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100;
  } catch {
    return undefined;
  }
}

async function tidOf(): Promise<number> {
  try {
    const sys = await import('../../strategies/sys/index.js');
    return sys.gettid();
  } catch {
    return -1;
  }
}

/** This thread's share of an autocannon load: its connections and its whole share of the rate. */
async function runAutocannon(events: TransportEvents): Promise<ThreadResult> {
  const { runAutocannonDriver } = await import('./http-autocannon.js');
  const o = d.opts;
  const r = await runAutocannonDriver({
    host: o.host,
    port: o.port,
    connections: o.count,
    warmupSec: o.warmupSec,
    durationSec: o.durationSec,
    timeoutMs: o.timeoutMs,
    connectConcurrency: o.connectConcurrency,
    connectTimeoutMs: o.connectTimeoutMs,
    ...(o.rate > 0 ? { rate: rateShare(o.thread, o.threads, o.rate) } : {}),
    protocol: d.client.protocol,
    // What runClientLoad was given as the http client's spec (drivers.ts).
    ...(d.client.clientSpec === undefined ? {} : { http: d.client.clientSpec as HttpClientSpec }),
    ...(o.gate === undefined ? {} : { gate: o.gate }),
    onPhase: (p, atMs) => events.phase(p, atMs),
    onReady: () => events.ready(),
  });
  return { driver: r.driver ?? 'autocannon', established: r.established, ops: r.ops, bytes: r.bytes, histogram: r.histogram, errors: r.errors, counts: {}, figures: r.extra };
}

async function main(): Promise<void> {
  const tid = await tidOf();
  let cpuAt: number | undefined;
  let cpuSeconds: number | undefined;
  const events: TransportEvents = {
    phase(p, atMs) {
      if (p === 'measuring') cpuAt = threadCpu(tid);
      if (p === 'draining') {
        const c = threadCpu(tid);
        if (c !== undefined && cpuAt !== undefined) cpuSeconds = c - cpuAt;
      }
      post({ type: 'phase', phase: p, atMs });
    },
    ready() {
      post({ type: 'ready' });
    },
  };
  if (d.transport === 'autocannon') {
    const result = await runAutocannon(events);
    post({ type: 'result', result, ...(cpuSeconds === undefined ? {} : { cpuSeconds }) });
    return;
  }
  const mod = (await import(d.clientModule)) as ClientModule;
  const client = mod.createClient(d.client);
  let result: ThreadResult;
  if (d.transport === 'net') {
    const { NetTransport } = await import('./net-transport.js');
    result = await new NetTransport(d.opts, client, events).run();
  } else {
    const t =
      d.transport === 'uring'
        ? new (await import('./uring-transport.js')).UringTransport(d.opts, client, events)
        : new (await import('./selector-transport.js')).SelectorTransport(d.opts, client, events);
    try {
      t.run(Number.POSITIVE_INFINITY);
    } finally {
      t.close();
    }
    result = t.result();
  }
  post({ type: 'result', result, ...(cpuSeconds === undefined ? {} : { cpuSeconds }) });
}

main().catch((err: unknown) => {
  post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
});
