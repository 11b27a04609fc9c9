/**
 * worker_thread entry that holds the idle connections of a cell: it opens
 * them (bounded concurrency, a deadline), lets each do what an idle client
 * of its workload does first (http: one request, its response verified,
 * then silence in keep-alive, as a browser leaves a connection), and then
 * only waits: libuv sleeps in epoll_wait, so holding ten thousand silent
 * sockets costs this thread no CPU. It notes when the server closes one, so
 * the cell can say how many were still open when the window closed.
 */
import * as net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { httpClient } from '../../workloads/http/client.js';
import { ResponseReader } from '../../workloads/http/response-reader.js';
import { epochMs, type IdleFromWorker, type IdleToWorker, type IdleWorkerData } from './idle-messages.js';

const port = parentPort;
if (port === null) throw new Error('harness/load/idle-worker.js must run in a worker_thread');
const d = workerData as IdleWorkerData;

interface Held {
  socket: net.Socket;
  established: boolean;
  /** Epoch ms the server closed it (NaN: open). */
  closedAt: number;
}

const http = d.opening === 'http-request' ? httpClient(d.http, d.host, d.port) : null;
const held: Held[] = [];
const errors: Record<string, number> = {};
const bump = (kind: string): void => {
  errors[kind] = (errors[kind] ?? 0) + 1;
};
let closing = false;

/** Open one idle connection; resolves once it is established or has failed. */
function openOne(deadline: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: d.host, port: d.port, noDelay: true });
    const h: Held = { socket, established: false, closedAt: Number.NaN };
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    };
    const fail = (kind: string): void => {
      if (!h.established && !settled) bump(kind);
      socket.destroy();
      settle();
    };
    const timer = setTimeout(() => fail(h.socket.connecting ? 'connect timeout' : 'greeting timeout'), Math.max(1, deadline - performance.now()));
    const reader = http === null ? null : new ResponseReader(http.check);
    socket.once('connect', () => {
      held.push(h);
      if (reader === null) {
        h.established = true;
        settle();
      } else {
        socket.write(http?.request ?? Buffer.alloc(0));
      }
    });
    socket.on('data', (chunk: Buffer) => {
      if (h.established || reader === null) {
        // An idle connection is silent both ways: anything the server says now is news.
        bump('unexpected data');
        return;
      }
      let done = false;
      let wrong: string | null = null;
      const err = reader.push(chunk, (r) => {
        done = true;
        wrong = r.error;
      });
      if (err !== null || wrong !== null) fail(err ?? wrong ?? 'verify');
      else if (done) {
        h.established = true;
        settle();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!h.established && !settled) {
        fail(`connect ${err.code ?? 'error'}`);
        return;
      }
      if (!closing) bump(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : (err.code ?? 'socket error'));
    });
    socket.on('close', () => {
      if (Number.isNaN(h.closedAt)) h.closedAt = epochMs();
      if (!h.established) fail('closed');
    });
  });
}

async function holdAll(): Promise<void> {
  const deadline = performance.now() + d.connectTimeoutMs;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < d.count && performance.now() < deadline && !closing) {
      next++;
      await openOne(deadline);
    }
  };
  await Promise.all(Array.from({ length: Math.min(d.count, Math.max(1, d.connectConcurrency)) }, lane));
  // Slots never tried before the deadline are as good as failed connects.
  if (next < d.count) errors['connect timeout'] = (errors['connect timeout'] ?? 0) + (d.count - next);
  post({ type: 'held', established: held.filter((h) => h.established).length, errors: { ...errors } });
}

function post(m: IdleFromWorker): void {
  port?.postMessage(m);
}

port.on('message', (m: IdleToWorker) => {
  if (m.type === 'report') {
    const est = held.filter((h) => h.established);
    // Open at `atEpochMs`: established and not closed by then.
    const open = est.filter((h) => Number.isNaN(h.closedAt) || h.closedAt > m.atEpochMs).length;
    post({ type: 'report', established: est.length, open, errors: { ...errors } });
  } else {
    closing = true;
    for (const h of held) h.socket.destroy();
    post({ type: 'closed' });
    port.close();
  }
});

void holdAll();
