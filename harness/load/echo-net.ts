/**
 * Echo load drivers. Closed loop: each connection sends one message, waits
 * for its whole echo, verifies every byte, records the round trip and sends
 * the next. Open loop (`rate`): messages leave on a fixed global schedule
 * whatever the replies do, and latency counts from the intended send time
 * (coordinated-omission correct, as in wrk2).
 *
 * Two implementations with one contract: `selector` (driver-selector.ts, the
 * default: non-blocking sockets on the FFI Selector layer, fast enough to
 * measure servers a node:net client cannot keep up with) and `net` (this
 * file, node:net on libuv: the fallback where the FFI layer is missing, and
 * a cross-check of the other).
 */
import type * as net from 'node:net';
import { bumpError, type DriverOptions, type DriverResult } from './driver.js';
import { encodeHistogram, newHistogram, recordUs } from '../../core/latency.js';
import { boundedAll, LoadClock } from './clock.js';
import { connectWithTimeout, socketErrorKind } from './net-connect.js';
import { runOnTcpDriver } from './tcp-layer.js';
import { echoMessageSize, fillMessage, firstMismatch } from '../../workloads/echo/message.js';

/**
 * The echo driver the options ask for. Without `tcpDriver`, the selector
 * driver wherever the FFI Selector layer loads, else node:net (tcp-driver.ts).
 */
export function runEchoDriver(opts: DriverOptions): Promise<DriverResult> {
  return runOnTcpDriver('echo', opts, runNetEchoDriver);
}

interface Pending {
  seq: number;
  /** performance.now() when the message was (meant to be) sent. */
  start: number;
}

class EchoConn {
  alive = true;
  /** Live at the start of the measured window. */
  nextSeq = 0;
  /** Messages sent and not yet fully echoed, oldest first. */
  readonly pending: Pending[] = [];
  /** Bytes of the head message already received. */
  received = 0;
  /** The head message as it must come back. */
  readonly expected: Uint8Array;
  /** Closed loop reuses one send buffer: the previous send is fully echoed by then. */
  readonly sendBuf: Buffer;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    readonly size: number,
  ) {
    this.expected = new Uint8Array(size);
    this.sendBuf = Buffer.allocUnsafe(size);
  }
}

/** The node:net echo driver. */
export async function runNetEchoDriver(opts: DriverOptions): Promise<DriverResult> {
  const size = echoMessageSize(opts);
  const openLoop = (opts.rate ?? 0) > 0;
  const hist = newHistogram();
  const errors: Record<string, number> = {};
  const clock = new LoadClock(opts);
  const conns: EchoConn[] = [];
  let ops = 0;
  let bytes = 0;

  const drop = (c: EchoConn, kind: string | null): void => {
    if (!c.alive) return;
    c.alive = false;
    // Failures after the window closed are our own teardown, not the server's.
    if (kind !== null && clock.running) bumpError(errors, kind);
    c.socket.destroy();
  };

  const send = (c: EchoConn, start: number): void => {
    const seq = c.nextSeq++;
    let buf: Buffer;
    if (openLoop) {
      // Several messages may be in flight; each needs its own buffer
      // because node:net may hold it until the socket drains.
      buf = Buffer.allocUnsafe(size);
    } else {
      buf = c.sendBuf;
    }
    fillMessage(buf, c.id, seq);
    if (c.pending.length === 0) c.expected.set(buf);
    c.pending.push({ seq, start });
    c.socket.write(buf);
  };

  const onData = (c: EchoConn, chunk: Buffer): void => {
    let off = 0;
    while (off < chunk.length && c.alive) {
      const head = c.pending[0];
      if (head === undefined) {
        drop(c, 'verify');
        return;
      }
      const take = Math.min(size - c.received, chunk.length - off);
      const part = chunk.subarray(off, off + take);
      if (firstMismatch(c.expected, c.received, part) !== -1) {
        drop(c, 'verify');
        return;
      }
      c.received += take;
      off += take;
      if (c.received === size) {
        const now = performance.now();
        c.pending.shift();
        c.received = 0;
        if (clock.inWindow(now)) {
          ops++;
          bytes += 2 * size;
          recordUs(hist, (now - head.start) * 1000);
        }
        const next = c.pending[0];
        if (next !== undefined) fillMessage(c.expected, c.id, next.seq);
        else if (!openLoop && clock.running) send(c, now);
      }
    }
  };

  await boundedAll(opts.connections, opts.connectConcurrency, opts.connectTimeoutMs, async (i) => {
    const r = await connectWithTimeout(opts.host, opts.port, opts.connectTimeoutMs);
    if (!r.ok) {
      bumpError(errors, r.kind);
      return;
    }
    const c = new EchoConn(i, r.socket, size);
    conns.push(c);
    r.socket.on('data', (chunk: Buffer) => onData(c, chunk));
    r.socket.on('error', (err: NodeJS.ErrnoException) => drop(c, socketErrorKind(err)));
    r.socket.on('close', () => drop(c, 'closed'));
  });

  let established = 0;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of conns) {
      const head = c.pending[0];
      if (c.alive && head !== undefined && now - head.start > opts.timeoutMs) drop(c, 'timeout');
    }
  }, 100);

  // A connection the server refused right after accept (select past
  // FD_SETSIZE, a full thread pool) is not established.
  clock.onWindowOpen(() => {
    established = conns.filter((c) => c.alive).length;
  });
  const measuring = clock.run();

  if (!openLoop) {
    const t0 = performance.now();
    for (const c of conns) if (c.alive) send(c, t0);
  } else {
    clock.openLoop({
      rate: opts.rate ?? 0,
      pool: conns,
      usable: (c) => c.alive,
      send,
      onUnsent: () => bumpError(errors, 'unsent'),
    });
  }

  await measuring;
  clearInterval(sweep);
  for (const c of conns) drop(c, null);

  const result: DriverResult = {
    driver: 'net',
    established,
    ops,
    bytes,
    windowSec: opts.durationSec,
    histogram: encodeHistogram(hist),
    errors,
    extra: {},
  };
  if (openLoop) result.targetRate = opts.rate ?? 0;
  return result;
}
