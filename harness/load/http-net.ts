/**
 * HTTP load. `native` (default): our keep-alive HTTP/1.1 driver, closed
 * loop with `pipelining` requests in flight per connection, or open loop at
 * `rate` requests/s (latency from the intended send time, as wrk2); µs HDR
 * histograms; every response framed and verified by the sans-IO client
 * (workloads/http/client.ts: our page byte for byte, or a --target's
 * status and framing). This file is its node:net transport; the Selector
 * one is http-selector.ts. `autocannon` is the ecosystem's reference
 * (http-autocannon.ts).
 */
import type * as net from 'node:net';
import { bumpError, type DriverOptions, type DriverResult } from './driver.js';
import { encodeHistogram, newHistogram, recordUs } from '../../core/latency.js';
import { boundedAll, LoadClock } from './clock.js';
import { connectWithTimeout, socketErrorKind } from './net-connect.js';
import { runOnTcpDriver } from './tcp-layer.js';
import { afterPeerClose, httpClient } from '../../workloads/http/client.js';
import { httpPipelining } from '../../workloads/http/pipelining.js';
import { HTTP_ERRORS, ResponseReader, type ResponseInfo } from '../../workloads/http/response-reader.js';

export const HTTP_DRIVERS = ['native', 'autocannon'] as const;

/**
 * What autocannon can send and read: not HEAD (its response parser is never
 * told the method, so it waits for a body), and origin-form targets only
 * (it takes a URL). Here rather than in http-autocannon.ts, so the CLI can
 * ask without loading autocannon.
 */
export function autocannonCan(method: string, path: string): boolean {
  return method.toUpperCase() !== 'HEAD' && path.startsWith('/');
}

export function runHttpDriver(opts: DriverOptions): Promise<DriverResult> {
  const which = opts.httpDriver ?? 'native';
  // Loaded only when asked for: autocannon's module graph costs every process that imports the registry.
  if (which === 'autocannon') return import('./http-autocannon.js').then((m) => m.runAutocannonDriver(opts));
  if (which !== 'native') return Promise.reject(new Error(`unknown http driver "${which}" (valid: ${HTTP_DRIVERS.join(', ')})`));
  return runNativeOnTcpDriver(opts);
}

/**
 * Our native driver on the TCP layer `tcpDriver` asks for: the Selector
 * layer (default where it runs; DriverResult.driver "selector:epoll" …) or
 * node:net ("native"), as for echo (tcp-driver.ts).
 */
function runNativeOnTcpDriver(opts: DriverOptions): Promise<DriverResult> {
  return runOnTcpDriver('http', opts, runNativeHttpDriver);
}

interface HttpConn {
  slot: number;
  socket: net.Socket;
  alive: boolean;
  reader: ResponseReader;
  /** Start times of requests in flight, oldest first. */
  pending: number[];
  /** A response said the server closes: nothing more comes on this connection. */
  closing: boolean;
  /** Responses read on this connection (a keep-alive close after one is the server's timeout, not a fault). */
  answered: number;
}

export async function runNativeHttpDriver(opts: DriverOptions): Promise<DriverResult> {
  const client = httpClient(opts.http, opts.host, opts.port);
  // A request that asks the server to close gets one answer per connection.
  const depth = client.closes ? 1 : httpPipelining(opts);
  const openLoop = (opts.rate ?? 0) > 0;
  const request = client.request;
  const batch = Buffer.concat(Array.from({ length: depth }, () => request));
  const hist = newHistogram();
  const errors: Record<string, number> = {};
  const clock = new LoadClock(opts);
  const conns: (HttpConn | undefined)[] = [];
  let ops = 0;
  let bytes = 0;
  let reconnecting = 0;

  const drop = (c: HttpConn, kind: string | null): void => {
    if (!c.alive) return;
    c.alive = false;
    if (kind !== null && clock.running) bumpError(errors, kind);
    c.socket.destroy();
  };

  const sendN = (c: HttpConn, k: number, start: number): void => {
    for (let i = 0; i < k; i++) c.pending.push(start);
    c.socket.write(k === depth ? batch : k === 1 ? request : Buffer.concat(Array.from({ length: k }, () => request)));
  };

  const open = async (slot: number): Promise<boolean> => {
    const r = await connectWithTimeout(opts.host, opts.port, opts.connectTimeoutMs);
    if (!r.ok) {
      bumpError(errors, r.kind);
      return false;
    }
    const c: HttpConn = { slot, socket: r.socket, alive: true, reader: new ResponseReader(client.check), pending: [], closing: false, answered: 0 };
    conns[slot] = c;
    let completed = 0;
    let last = 0;
    const onResponse = (info: ResponseInfo): void => {
      const start = c.pending.shift();
      if (start === undefined) {
        drop(c, HTTP_ERRORS.unsolicited);
        return;
      }
      last = performance.now();
      // A wrong but well-framed reply is counted and the connection goes on, as wrk and autocannon do.
      if (info.error !== null) {
        if (clock.running) bumpError(errors, info.error);
      } else if (clock.inWindow(last)) {
        ops++;
        bytes += request.length + info.bodyBytes;
        recordUs(hist, (last - start) * 1000);
      }
      completed++;
      c.answered++;
      if (info.close) c.closing = true;
    };
    r.socket.on('data', (chunk: Buffer) => {
      if (!c.alive) return;
      completed = 0;
      const err = c.reader.push(chunk, onResponse);
      if (!c.alive) return;
      if (err !== null) {
        drop(c, err);
        return;
      }
      if (c.closing) {
        again(c);
        return;
      }
      // Closed loop: refill what completed, in one write.
      if (!openLoop && completed > 0 && clock.running) sendN(c, completed, last);
    });
    r.socket.on('end', () => {
      if (!c.alive) return;
      const end = c.reader.end(onResponse);
      if (!c.alive) return;
      const kind = afterPeerClose(end, c.closing, c.pending.length, c.answered);
      if (kind === null) again(c);
      else drop(c, kind);
    });
    r.socket.on('error', (err: NodeJS.ErrnoException) => drop(c, socketErrorKind(err)));
    r.socket.on('close', () => drop(c, 'closed'));
    return true;
  };

  /** The server ends `c`: requests still in flight will not be answered; the slot connects again. */
  const again = (c: HttpConn): void => {
    if (c.pending.length > 0 && clock.running) bumpError(errors, 'unanswered', c.pending.length);
    c.alive = false;
    c.socket.destroy();
    if (!clock.running) return;
    reconnecting++;
    void open(c.slot).then((ok) => {
      reconnecting--;
      const n = conns[c.slot];
      if (ok && n !== undefined && !openLoop && clock.running) sendN(n, depth, performance.now());
    });
  };

  await boundedAll(opts.connections, opts.connectConcurrency, opts.connectTimeoutMs, async (i) => {
    await open(i);
  });
  const live = (): HttpConn[] => conns.filter((c): c is HttpConn => c?.alive === true);

  let established = 0;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of live()) {
      const head = c.pending[0];
      // Waiting for a close that frames the body: name that, not a slow server.
      if (head !== undefined && now - head > opts.timeoutMs) drop(c, c.reader.awaitingClose ? HTTP_ERRORS.noLength : 'timeout');
    }
  }, 100);

  clock.onWindowOpen(() => {
    // A slot between a closed connection and its next one is established.
    established = live().length + reconnecting;
  });
  const measuring = clock.run();

  if (!openLoop) {
    const t0 = performance.now();
    for (const c of live()) sendN(c, depth, t0);
  } else {
    clock.openLoop({
      rate: opts.rate ?? 0,
      pool: conns,
      usable: (c) => c.alive && !c.closing,
      send: (c, intended) => sendN(c, 1, intended),
      onUnsent: () => bumpError(errors, 'unsent'),
    });
  }

  await measuring;
  clearInterval(sweep);
  for (const c of conns) if (c !== undefined) drop(c, null);

  const result: DriverResult = {
    driver: 'native',
    established,
    ops,
    bytes,
    windowSec: opts.durationSec,
    histogram: encodeHistogram(hist),
    errors,
    extra: { pipelining: depth },
  };
  if (openLoop) result.targetRate = opts.rate ?? 0;
  return result;
}
