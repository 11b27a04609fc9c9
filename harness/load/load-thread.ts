/**
 * worker_thread entry of one load thread: rebuild the workload's client from
 * its module, run its share of the connections on the chosen transport to
 * the end, and post phases, readiness and the result. The Selector loop may
 * block in select() as long as it likes: this thread serves nothing else.
 * The thread also reads its own CPU time over the window, so the result can
 * say which thread was the load's ceiling.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { ClientModule } from '../../core/client.js';
import type { LoadThreadData, LoadThreadMessage } from './load-threads.js';
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

async function main(): Promise<void> {
  const mod = (await import(d.clientModule)) as ClientModule;
  const client = mod.createClient(d.client);
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
