/**
 * The per-connection half of a reactor, shared by every readiness loop
 * (select, poll, epoll, kqueue, busypoll): accept, read into one reusable
 * buffer, hand the bytes to the Session, send what the socket takes and
 * queue the rest, close. The loop around it only decides *when* to call
 * readable()/writable(); the engine tells it *what* each connection waits
 * for through `Interest`.
 */
import type { Conn, Protocol, Session } from '../../core/protocol.js';
import { LocalHub } from '../hub.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/index.js';
import { protocolFault } from '../session-guard.js';
import { bump, type ServerCounters, type StrategyOptions } from '../../core/strategy.js';
import * as sys from '../sys/index.js';

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

const OPEN = 0;
/** Conn.close() was called: flush the queue, then close. */
const CLOSING = 1;
/** Peer sent FIN: flush the queue, then close. */
const PEER_EOF = 2;
const CLOSED = 3;

const logged = new Set<string>();
function logOnce(what: string, msg: string): void {
  if (logged.has(what)) return;
  logged.add(what);
  process.stderr.write(`iomodels: ${msg}\n`);
}

export class Connection implements Conn {
  readonly id: number;
  readonly fd: number;
  /** EVENT_* bits the loop currently watches for. */
  events = 0;
  /** Slot in a loop's own table (busypoll's array), -1 if none. */
  slot = -1;
  #state = OPEN;
  #session: Session | undefined;
  #onCloseCalled = false;
  /** Unsent chunks (copies we own), the first one from #head. */
  readonly #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  readonly #engine: Engine;

  constructor(engine: Engine, id: number, fd: number) {
    this.#engine = engine;
    this.id = id;
    this.fd = fd;
  }

  get open(): boolean {
    return this.#state === OPEN;
  }

  get closed(): boolean {
    return this.#state === CLOSED;
  }

  /** Bytes queued unsent. */
  get queued(): number {
    return this.#queued;
  }

  /** @internal set once protocol.open returned. */
  attach(session: Session): void {
    this.#session = session;
  }

  get session(): Session | undefined {
    return this.#session;
  }

  write(bytes: Uint8Array): void {
    if (this.#state === CLOSED || this.#state === CLOSING) return;
    const len = bytes.length;
    if (len === 0) return;
    let sent = 0;
    if (this.#queued === 0) {
      const n = sys.send(this.fd, bytes, 0, len);
      if (n === len) return;
      if (n >= 0) sent = n;
      else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) {
        this.fail();
        return;
      }
    }
    // Keep a copy of the unsent tail: `bytes` may be our receive buffer.
    const tail = Buffer.from(sent === 0 ? bytes : bytes.subarray(sent));
    this.#queue.push(tail);
    this.#queued += tail.length;
    if (this.#queued > this.#engine.writeQueueCap) {
      bump(this.#engine.counters, this.#engine.overflowCounter);
      this.abort();
      return;
    }
    this.#updateInterest();
  }

  close(): void {
    if (this.#state !== OPEN && this.#state !== PEER_EOF) return;
    this.#engine.hub.delete(this);
    if (this.#state === OPEN) this.#state = CLOSING;
    if (this.#queued === 0) this.#finish();
    else this.#updateInterest();
  }

  /**
   * The fd is readable (or has an error/EOF to report). Returns true when it
   * moved data and the connection is still open, i.e. more may be waiting:
   * a loop without per-fd readiness (sigio) calls it until false (EAGAIN).
   */
  readable(): boolean {
    if (this.#state !== OPEN) return false;
    const e = this.#engine;
    const n = sys.recv(this.fd, e.recvBuf, 0, RECV_BUFFER);
    if (n > 0) {
      const s = this.#session;
      if (s === undefined) return false;
      try {
        s.onData(e.view(n));
      } catch (err) {
        protocolFault(e.counters, err);
        this.abort();
      }
      return this.#state === OPEN;
    }
    if (n === 0) {
      // Peer EOF: tell the session, send what is queued, then close.
      this.#state = PEER_EOF;
      this.#engine.hub.delete(this);
      this.#callOnClose();
      if (this.#queued === 0) this.#finish();
      else this.#updateInterest();
      return false;
    }
    if (n === sys.NEG_EAGAIN) return false;
    if (n === sys.NEG_EINTR) return true;
    this.fail();
    return false;
  }

  /** The fd is writable: send queued bytes. */
  writable(): void {
    if (this.#state === CLOSED || this.#queued === 0) return;
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
    if (this.#queued === 0 && this.#state !== OPEN) this.#finish();
    else this.#updateInterest();
  }

  /** A socket error (RST, EPIPE …): drop the queue and close. */
  fail(): void {
    if (this.#state === CLOSED) return;
    bump(this.#engine.counters, 'errors: socket');
    this.abort();
  }

  /** Close now, dropping anything queued. */
  abort(): void {
    if (this.#state === CLOSED) return;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#finish();
  }

  /** Server shutdown: one last non-blocking flush attempt, then close. */
  shutdown(): void {
    if (this.#state === CLOSED) return;
    if (this.#queued > 0) this.writable();
    this.abort();
  }

  /** Session.tick, guarded. */
  tick(now: number): void {
    const s = this.#session;
    if (this.#state === CLOSED || s?.tick === undefined) return;
    try {
      s.tick(now);
    } catch (err) {
      protocolFault(this.#engine.counters, err);
      this.abort();
    }
  }

  #updateInterest(): void {
    if (this.#state === CLOSED) return;
    const want = (this.#state === OPEN ? EVENT_READ : 0) | (this.#queued > 0 ? EVENT_WRITE : 0);
    if (want === 0) {
      this.#finish();
      return;
    }
    if (want !== this.events) {
      this.events = want;
      this.#engine.interest.modify(this, want);
    }
  }

  #finish(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    const e = this.#engine;
    e.interest.remove(this);
    sys.close(this.fd);
    e.forget(this);
    bump(e.counters, 'closed');
    this.#callOnClose();
  }

  #callOnClose(): void {
    if (this.#onCloseCalled) return;
    const s = this.#session;
    if (s === undefined) return;
    this.#onCloseCalled = true;
    try {
      s.onClose();
    } catch (err) {
      protocolFault(this.#engine.counters, err);
    }
  }
}

export type AcceptResult = 'more' | 'drained' | 'pause';

export class Engine {
  readonly counters: ServerCounters = {};
  readonly hub = new LocalHub();
  readonly protocol: Protocol;
  readonly overflowCounter: string;
  readonly writeQueueCap: number;
  readonly recvBuf: Buffer = sys.allocBuffer(RECV_BUFFER);
  readonly #views: (Buffer | undefined)[] = [];
  readonly #conns = new Set<Connection>();
  readonly #tickers = new Set<Connection>();
  #nextId = 1;

  constructor(
    protocol: Protocol,
    opts: StrategyOptions,
    readonly interest: Interest,
  ) {
    this.protocol = protocol;
    this.overflowCounter = `closed: ${this.protocol.overflowReason ?? 'write queue full'}`;
    this.writeQueueCap = opts.writeQueueCap;
  }

  get size(): number {
    return this.#conns.size;
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
        bump(this.counters, 'refused: FD_SETSIZE');
        logOnce('fdsetsize', `select: ${err.message}; such connections are closed at once and counted as "refused: FD_SETSIZE"`);
        return;
      }
      throw err;
    }
    bump(this.counters, 'accepted');
    try {
      sys.setNoDelay(fd);
    } catch {
      // The peer may have reset already; the first recv will say so.
    }
    this.#conns.add(conn);
    this.hub.add(conn);
    let session: Session;
    try {
      session = this.protocol.open(conn, this.hub);
    } catch (err) {
      protocolFault(this.counters, err);
      conn.abort();
      return;
    }
    if (conn.closed) return;
    conn.attach(session);
    if (session.tick !== undefined) this.#tickers.add(conn);
  }

  /** Called by a connection as it closes. */
  forget(conn: Connection): void {
    this.#conns.delete(conn);
    this.#tickers.delete(conn);
    this.hub.delete(conn);
  }

  tick(now: number): void {
    for (const c of this.#tickers) c.tick(now);
  }

  /** Close every connection (one last flush attempt each). */
  shutdown(): void {
    for (const c of [...this.#conns]) c.shutdown();
  }
}
