/**
 * libuv: IO multiplexing with Node's own event loop (node:net). The main
 * thread blocks in libuv's epoll_wait (phase 1, waiting for data, is watched
 * by the kernel for every fd at once); libuv then reads each ready socket
 * (phase 2, the copy) and hands us the bytes. This is the DefaultSelector of
 * Node and the reference every other strategy is compared with.
 *
 * Each connection is a session slot (session-slot.ts) over a net.Socket,
 * which is itself a write queue that flushes, then closes: the slot's queue
 * is the socket's writableLength, its flush-then-close is socket.end(), and
 * it finishes when the socket says 'close'.
 */
import * as net from 'node:net';
import type { ProtocolSpec } from '../core/protocol.js';
import { loadProtocol } from './protocol-loader.js';
import { SessionSlot, SlotHost } from './session-slot.js';
import { listenNodeServer } from './node-sndbuf.js';
import type { StrategyOptions, StrategyServer } from '../core/strategy.js';

/** How long close() lets queued replies drain before destroying sockets. */
const CLOSE_GRACE_MS = 500;
const TICK_MS = 1000;

class NetSlot extends SessionSlot {
  constructor(
    host: SlotHost<NetSlot>,
    id: number,
    readonly socket: net.Socket,
  ) {
    super(host, id);
    socket.on('data', (chunk: Buffer) => this.deliver(chunk));
    // allowHalfOpen: 'end' is the peer's FIN alone; we still flush, then end.
    socket.on('end', () => this.peerClosed());
    socket.on('error', () => this.fail());
    socket.on('close', () => this.finish());
  }

  get queued(): number {
    return this.socket.writableLength;
  }

  protected send(bytes: Uint8Array): boolean {
    // After end() (the slot stopped reading and flushes) node would refuse it.
    if (!this.socket.writableEnded) this.socket.write(bytes);
    return true;
  }

  /** node:net sends what is queued; once the slot stops reading, end() flushes and FINs, and 'close' finishes. */
  protected flush(): void {
    if (!this.open && !this.socket.writableEnded) this.socket.end();
  }

  protected release(): void {
    this.socket.destroy();
  }
}

export async function createLibuvServer(spec: ProtocolSpec, opts: StrategyOptions): Promise<StrategyServer> {
  const slots = new SlotHost<NetSlot>(await loadProtocol(spec), opts.writeQueueCap);
  let nextId = 1;
  let ticker: NodeJS.Timeout | undefined;

  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
    slots.start(new NetSlot(slots, nextId++, socket));
  });
  server.maxConnections = Number.MAX_SAFE_INTEGER;

  return {
    name: 'libuv',
    counters: () => ({ ...slots.counters }),
    async listen(host, port) {
      const addr = await listenNodeServer(server, { host, port, backlog: opts.backlog, sndbufBytes: opts.sndbufBytes, counters: slots.counters });
      ticker = setInterval(() => slots.tick(Date.now()), TICK_MS);
      ticker.unref();
      return addr;
    },
    async close() {
      if (ticker !== undefined) clearInterval(ticker);
      const closedListener = new Promise<void>((resolve) => server.close(() => resolve()));
      slots.closeAll();
      const deadline = setTimeout(() => slots.finishAll(), CLOSE_GRACE_MS);
      await closedListener;
      clearTimeout(deadline);
    },
  };
}
