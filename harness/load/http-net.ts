/**
 * HTTP load. `native` (default): our keep-alive HTTP/1.1 driver, closed
 * loop with `pipelining` requests in flight per connection, or open loop at
 * `rate` requests/s (latency from the intended send time, as wrk2); µs HDR
 * histograms; every response verified (status, Content-Length, body bytes).
 * It runs on node:net for now; the HTTP logic lives in response-reader.ts so
 * it can move to the FFI Selector layer unchanged. `autocannon` is the
 * ecosystem's reference (see autocannon-driver.ts).
 */
import type * as net from 'node:net';
import { bumpError, type DriverOptions, type DriverResult } from './driver.js';
import { encodeHistogram, newHistogram, recordUs } from '../../core/latency.js';
import { boundedAll, LoadClock } from './clock.js';
import { connectWithTimeout, socketErrorKind } from './net-connect.js';
import { runOnTcpDriver } from './tcp-layer.js';
import { PAGE_BYTES } from '../../workloads/http/page.js';
import { httpPipelining } from '../../workloads/http/pipelining.js';
import { buildRequest, ResponseReader, type ResponseInfo } from '../../workloads/http/response-reader.js';

export const HTTP_DRIVERS = ['native', 'autocannon'] as const;

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
  /** The server announced close: reconnect once this response is in. */
  closing: boolean;
}

export async function runNativeHttpDriver(opts: DriverOptions): Promise<DriverResult> {
  const depth = httpPipelining(opts);
  const openLoop = (opts.rate ?? 0) > 0;
  const request = buildRequest(opts.host, opts.port);
  const batch = Buffer.concat(Array.from({ length: depth }, () => request));
  const expect = { status: 200, body: PAGE_BYTES, head: false };
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
    const c: HttpConn = { slot, socket: r.socket, alive: true, reader: new ResponseReader(expect), pending: [], closing: false };
    conns[slot] = c;
    let completed = 0;
    let last = 0;
    const onResponse = (info: ResponseInfo): void => {
      const start = c.pending.shift();
      if (start === undefined) {
        drop(c, 'verify');
        return;
      }
      last = performance.now();
      if (clock.inWindow(last)) {
        ops++;
        bytes += request.length + info.contentLength;
        recordUs(hist, (last - start) * 1000);
      }
      completed++;
      if (info.close) c.closing = true;
    };
    r.socket.on('data', (chunk: Buffer) => {
      if (!c.alive) return;
      completed = 0;
      const err = c.reader.push(chunk, onResponse);
      if (err !== null) {
        drop(c, 'verify');
        return;
      }
      if (c.closing) {
        if (c.pending.length === 0) reopen(c);
        return;
      }
      // Closed loop: refill what completed, in one write.
      if (!openLoop && completed > 0 && clock.running && c.alive) sendN(c, completed, last);
    });
    r.socket.on('error', (err: NodeJS.ErrnoException) => drop(c, socketErrorKind(err)));
    r.socket.on('close', () => {
      if (c.closing && c.pending.length === 0) return;
      drop(c, 'closed');
    });
    return true;
  };

  /** `--http-close`: the server ends every connection; open the next one. */
  const reopen = (c: HttpConn): void => {
    c.alive = false;
    c.socket.destroy();
    if (!clock.running) return;
    reconnecting++;
    void open(c.slot).then((ok) => {
      reconnecting--;
      const n = conns[c.slot];
      if (ok && n !== undefined && !openLoop && clock.running) sendN(n, 1, performance.now());
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
      if (head !== undefined && now - head > opts.timeoutMs) drop(c, 'timeout');
    }
  }, 100);

  clock.onWindowOpen(() => {
    established = opts.protocol['httpClose'] === true ? conns.filter((c) => c !== undefined).length : live().length + reconnecting;
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
