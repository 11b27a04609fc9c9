/**
 * libuv: IO multiplexing with Node's own event loop (node:net). The main
 * thread blocks in libuv's epoll_wait (phase 1, waiting for data, is watched
 * by the kernel for every fd at once); libuv then reads each ready socket
 * (phase 2, the copy) and hands us the bytes. This is the DefaultSelector of
 * Node and the reference every other strategy is compared with.
 */
import * as net from 'node:net';
import type { Conn, ProtocolSpec, Session } from '../core/protocol.js';
import { loadProtocol } from './protocol-loader.js';
import { LocalHub } from './hub.js';
import { protocolFault } from './session-guard.js';
import { listenNodeServer } from './node-sndbuf.js';
import { bump, type ServerCounters, type StrategyOptions, type StrategyServer } from '../core/strategy.js';

/** How long close() lets queued replies drain before destroying sockets. */
const CLOSE_GRACE_MS = 500;

export async function createLibuvServer(spec: ProtocolSpec, opts: StrategyOptions): Promise<StrategyServer> {
  const protocol = await loadProtocol(spec);
  const overflow = `closed: ${protocol.overflowReason ?? 'write queue full'}`;
  const counters: ServerCounters = {};
  const hub = new LocalHub();
  const sockets = new Map<net.Socket, Session>();
  let nextId = 1;
  let ticker: NodeJS.Timeout | undefined;

  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    bump(counters, 'accepted');
    let closed = false;
    const conn: Conn = {
      id: nextId++,
      write(bytes) {
        if (closed) return;
        socket.write(bytes);
        if (socket.writableLength > opts.writeQueueCap) {
          bump(counters, overflow);
          finish(true);
        }
      },
      close() {
        if (closed) return;
        closed = true;
        hub.delete(conn);
        socket.end();
      },
    };
    let session: Session | undefined;
    const finish = (abort: boolean): void => {
      if (!closed) {
        closed = true;
        hub.delete(conn);
      }
      if (abort) socket.destroy();
      else socket.end();
      const s = session;
      if (s !== undefined && sockets.delete(socket)) {
        try {
          s.onClose();
        } catch (err) {
          protocolFault(counters, err);
        }
      }
    };
    hub.add(conn);
    try {
      session = protocol.open(conn, hub);
    } catch (err) {
      protocolFault(counters, err);
      finish(true);
      return;
    }
    sockets.set(socket, session);
    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      try {
        session.onData(chunk);
      } catch (err) {
        protocolFault(counters, err);
        finish(true);
      }
    });
    // EOF: the peer half-closed; flush what is queued, then close.
    socket.on('end', () => finish(false));
    socket.on('error', () => {
      bump(counters, 'errors: socket');
      finish(true);
    });
    socket.on('close', () => {
      bump(counters, 'closed');
      finish(true);
    });
  });
  server.maxConnections = Number.MAX_SAFE_INTEGER;

  return {
    name: 'libuv',
    counters: () => ({ ...counters }),
    async listen(host, port) {
      const addr = await listenNodeServer(server, { host, port, backlog: opts.backlog, sndbufBytes: opts.sndbufBytes, counters });
      ticker = setInterval(() => {
        const now = Date.now();
        for (const s of sockets.values()) s.tick?.(now);
      }, 1000);
      ticker.unref();
      return addr;
    },
    async close() {
      if (ticker !== undefined) clearInterval(ticker);
      const closedListener = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets.keys()) s.end();
      const deadline = setTimeout(() => {
        for (const s of sockets.keys()) s.destroy();
      }, CLOSE_GRACE_MS);
      await closedListener;
      clearTimeout(deadline);
    },
  };
}
