/**
 * The per-connection half of a reactor, shared by every readiness loop
 * (select, poll, epoll, kqueue, busypoll) and by sigio: accept, read into
 * one reusable buffer, send what the socket takes and queue the rest until
 * the fd is writable. The session's side (states, guarded calls, hub, the
 * cap) is the shared session slot (session-slot.ts). The loop around it
 * only decides *when* to call readable()/writable(); the engine tells it
 * *what* each connection waits for through `Interest`.
 */
import type { Protocol } from '../../core/protocol.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/index.js';
import { SessionSlot, SlotHost } from '../session-slot.js';
import { bump, type StrategyOptions } from '../../core/strategy.js';
import * as sys from '../sys/index.js';
import { CAP_COUNTERS } from '../../core/counters.js';

/** How the loop is told what a connection waits for. */
export interface Interest {
  /** Start watching a new connection for `events`. May throw FdSetSizeError. */
  add(conn: Connection, events: number): void;
  /** Its events changed (never 0: a connection that waits for nothing is closed). */
  modify(conn: Connection, events: number): void;
  /** Stop watching (called before its fd is closed). */
  remove(conn: Connection): void;
}

/** Receive buffer size: one recv() moves at most this much. */
const RECV_BUFFER = 64 * 1024;
/** recv views of these lengths are cached so a read allocates nothing. */
const VIEW_CACHE_MAX = 16 * 1024;
/** accept() calls per readiness event, so a connect storm cannot starve reads. */
const ACCEPT_BATCH = 64;

const logged = new Set<string>();
function logOnce(what: string, msg: string): void {
  if (logged.has(what)) return;
  logged.add(what);
  process.stderr.write(`iomodels: ${msg}\n`);
}

/** A reactor connection: the session slot plus send()-now, queue the rest, EVENT_WRITE. */
export class Connection extends SessionSlot {
  readonly fd: number;
  /** EVENT_* bits the loop currently watches for. */
  events = 0;
  /** Index in a loop's own dense table (busypoll's, sigio's array), -1 if none. */
  index = -1;
  /** Unsent chunks (copies we own), the first one from #head. */
  readonly #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  readonly #engine: Engine;

  constructor(engine: Engine, id: number, fd: number) {
    super(engine, id);
    this.#engine = engine;
    this.fd = fd;
  }

  get queued(): number {
    return this.#queued;
  }

  protected send(bytes: Uint8Array): boolean {
    const len = bytes.length;
    let sent = 0;
    if (this.#queued === 0) {
      const n = sys.send(this.fd, bytes, 0, len);
      if (n === len) return true;
      if (n >= 0) sent = n;
      else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) return false;
    }
    // Keep a copy of the unsent tail: `bytes` may be our receive buffer.
    const tail = Buffer.from(sent === 0 ? bytes : bytes.subarray(sent));
    this.#queue.push(tail);
    this.#queued += tail.length;
    return true;
  }

  /**
   * The fd is readable (or has an error/EOF to report). Returns true when it
   * moved data and the connection is still open, i.e. more may be waiting:
   * a loop without per-fd readiness (sigio) calls it until false (EAGAIN).
   */
  readable(): boolean {
    if (!this.open) return false;
    const e = this.#engine;
    const n = sys.recv(this.fd, e.recvBuf, 0, RECV_BUFFER);
    if (n > 0) {
      this.deliver(e.view(n));
      return this.open;
    }
    if (n === 0) {
      this.peerClosed();
      return false;
    }
    if (n === sys.NEG_EAGAIN) return false;
    if (n === sys.NEG_EINTR) return true;
    this.fail();
    return false;
  }

  /** The fd is writable: send queued bytes. */
  writable(): void {
    if (this.closed || this.#queued === 0) return;
    const q = this.#queue;
    while (q.length > 0) {
      const chunk = q[0];
      if (chunk === undefined) break;
      const rem = chunk.length - this.#head;
      const n = sys.send(this.fd, chunk, this.#head, rem);
      if (n === rem) {
        q.shift();
        this.#head = 0;
        this.#queued -= rem;
        continue;
      }
      if (n >= 0) {
        this.#head += n;
        this.#queued -= n;
        break;
      }
      if (n === sys.NEG_EAGAIN || n === sys.NEG_EINTR) break;
      this.fail();
      return;
    }
    this.flush();
  }

  /** Server shutdown: one last non-blocking flush attempt, then close. */
  shutdown(): void {
    if (this.closed) return;
    if (this.#queued > 0) this.writable();
    this.finish();
  }

  /** Watch for what the state and the queue call for; nothing left to wait for: close. */
  protected flush(): void {
    if (this.closed) return;
    const want = (this.open ? EVENT_READ : 0) | (this.#queued > 0 ? EVENT_WRITE : 0);
    if (want === 0) {
      this.finish();
      return;
    }
    if (want !== this.events) {
      this.events = want;
      this.#engine.interest.modify(this, want);
    }
  }

  protected release(): void {
    // Bytes still queued are dropped by this close: reset, do not linger.
    if (this.#queued > 0) sys.resetOnClose(this.fd);
    this.#queue.length = 0;
    this.#queued = 0;
    this.#engine.interest.remove(this);
    sys.close(this.fd);
  }
}

export type AcceptResult = 'more' | 'drained' | 'pause';

/** The reactor's slot host: the core's bookkeeping, accept, the receive buffer. */
export class Engine extends SlotHost<Connection> {
  readonly recvBuf: Buffer = sys.allocBuffer(RECV_BUFFER);
  readonly #views: (Buffer | undefined)[] = [];
  #nextId = 1;

  constructor(
    protocol: Protocol,
    opts: StrategyOptions,
    readonly interest: Interest,
  ) {
    super(protocol, opts.writeQueueCap);
  }

  /** recvBuf[0, n) as a view, cached per length. */
  view(n: number): Buffer {
    if (n > VIEW_CACHE_MAX) return this.recvBuf.subarray(0, n);
    let v = this.#views[n];
    if (v === undefined) {
      v = this.recvBuf.subarray(0, n);
      while (this.#views.length < n) this.#views.push(undefined);
      this.#views[n] = v;
    }
    return v;
  }

  /**
   * Accept up to a batch of pending connections. 'drained': none left;
   * 'more': batch used up; 'pause': out of fds (EMFILE), stop watching the
   * listener for a moment or the level-triggered loop would spin on it.
   */
  acceptBatch(listenFd: number): AcceptResult {
    for (let i = 0; i < ACCEPT_BATCH; i++) {
      const fd = sys.accept(listenFd);
      if (fd < 0) {
        if (fd === sys.NEG_EAGAIN) return 'drained';
        if (fd === sys.NEG_EINTR || fd === -sys.ECONNABORTED) continue;
        if (fd === -sys.EMFILE || fd === -sys.ENFILE) {
          bump(this.counters, 'errors: accept EMFILE');
          logOnce('emfile', `accept: out of file descriptors (${sys.errnoName(-fd)}); pausing accepts`);
          return 'pause';
        }
        bump(this.counters, `errors: accept ${sys.errnoName(-fd)}`);
        return 'drained';
      }
      this.#open(fd);
    }
    return 'more';
  }

  #open(fd: number): void {
    const conn = new Connection(this, this.#nextId++, fd);
    try {
      conn.events = EVENT_READ;
      this.interest.add(conn, EVENT_READ);
    } catch (err) {
      sys.close(fd);
      if (err instanceof sys.FdSetSizeError) {
        bump(this.counters, CAP_COUNTERS.fdSetSize);
        logOnce('fdsetsize', `select: ${err.message}; such connections are closed at once and counted as "refused: FD_SETSIZE"`);
        return;
      }
      throw err;
    }
    try {
      sys.setNoDelay(fd);
    } catch {
      // The peer may have reset already; the first recv will say so.
    }
    this.start(conn);
  }

  /** Close every connection (one last flush attempt each). */
  shutdown(): void {
    for (const c of this.slots()) c.shutdown();
  }
}
