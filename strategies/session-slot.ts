/**
 * The connection core every single-threaded strategy shares: one
 * SessionSlot per connection, one SlotHost per server. The slot is the
 * connection as its Session sees it (a Conn) and owns what is the same in
 * every IO model: the state machine, the guarded calls into the Session (a
 * protocol that throws costs only its own connection, counted as
 * "errors: protocol"), hub membership, the write-queue cap ("closed:
 * <overflowReason>") and the close/EOF semantics. How bytes reach the
 * socket stays with the strategy, in the four members a subclass defines:
 * `queued`, `send`, `flush` and `release`.
 *
 * No FFI here: libuv uses it too, and a libuv run never loads koffi.
 */
import type { Conn, Hub, Protocol, Session } from '../core/protocol.js';
import { bump, type ServerCounters } from '../core/strategy.js';

const OPEN = 0;
/** Conn.close() was called: flush the queue, then close. */
const CLOSING = 1;
/** The peer sent FIN: the session has been told; flush the queue, then close. */
const PEER_EOF = 2;
const CLOSED = 3;
type SlotState = typeof OPEN | typeof CLOSING | typeof PEER_EOF | typeof CLOSED;

let faultLogged = false;

/** Count a protocol's exception; log the first one of this thread. */
function protocolFault(counters: ServerCounters, err: unknown): void {
  bump(counters, 'errors: protocol');
  if (faultLogged) return;
  faultLogged = true;
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`iomodels: protocol error (connection closed; further ones only counted): ${msg}\n`);
}

/** The Hub of one thread's connections: fan-out over the live set. */
class LocalHub implements Hub {
  readonly #conns = new Set<Conn>();

  add(conn: Conn): void {
    this.#conns.add(conn);
  }

  delete(conn: Conn): void {
    this.#conns.delete(conn);
  }

  get size(): number {
    return this.#conns.size;
  }

  broadcast(bytes: Uint8Array): void {
    // A write may close a slow consumer and remove it from the set while we
    // iterate; Set iteration tolerates deletion of visited entries.
    for (const c of this.#conns) c.write(bytes);
  }
}

/**
 * What the slots of one server share: counters, hub, the cap, and the live
 * slots (for ticks and shutdown). A strategy's loop extends it or holds one.
 */
export class SlotHost<S extends SessionSlot = SessionSlot> {
  readonly counters: ServerCounters = {};
  readonly hub = new LocalHub();
  /** The counter of a connection closed at the cap, e.g. "closed: slow consumer". */
  readonly overflowCounter: string;
  readonly #live = new Set<S>();
  /** The live slots whose session has tick(): only those cost a call per second. */
  readonly #tickers = new Set<S>();

  constructor(
    readonly protocol: Protocol,
    /** Unsent bytes a slot may hold before it is closed and counted. */
    readonly writeQueueCap: number,
  ) {
    this.overflowCounter = `closed: ${protocol.overflowReason ?? 'write queue full'}`;
  }

  /** Live (not yet closed) slots. */
  get size(): number {
    return this.#live.size;
  }

  /**
   * A new connection: count it, join the hub, open its session (guarded).
   * False if it is already closed (the protocol threw, or closed it in open).
   */
  start(slot: S): boolean {
    bump(this.counters, 'accepted');
    this.#live.add(slot);
    this.hub.add(slot);
    let session: Session;
    try {
      session = this.protocol.open(slot, this.hub);
    } catch (err) {
      protocolFault(this.counters, err);
      slot.finish();
      return false;
    }
    if (slot.closed) return false;
    slot.attach(session);
    if (session.tick !== undefined) this.#tickers.add(slot);
    return true;
  }

  /** Called by a slot as it closes. */
  forget(slot: S): void {
    this.#live.delete(slot);
    this.#tickers.delete(slot);
    this.hub.delete(slot);
  }

  /** Session.tick on every live slot that has one. */
  tick(now: number): void {
    for (const s of this.#tickers) s.tick(now);
  }

  /** A copy of the live slots: closing them while iterating is safe. */
  slots(): S[] {
    return [...this.#live];
  }

  /** Conn.close() on every live slot: each flushes its queue, then closes. */
  closeAll(): void {
    for (const s of this.slots()) s.close();
  }

  /** Close every live slot now, dropping what is queued. */
  finishAll(): void {
    for (const s of this.slots()) s.finish();
  }
}

export abstract class SessionSlot implements Conn {
  readonly id: number;
  readonly #host: SlotHost;
  #state: SlotState = OPEN;
  #session: Session | undefined;
  #onCloseCalled = false;

  constructor(host: SlotHost, id: number) {
    this.#host = host;
    this.id = id;
  }

  // -- what the strategy defines --------------------------------------------

  /** Bytes written by the session and not yet taken by the socket. */
  abstract get queued(): number;
  /**
   * Send what the socket takes now and keep the rest, copied if it is kept
   * past the call (`bytes` may be a receive buffer). False: the socket
   * failed (the slot is then closed and counted as "errors: socket").
   */
  protected abstract send(bytes: Uint8Array): boolean;
  /**
   * Make the IO follow the slot: get queued bytes sent (watch for
   * writability, submit a SEND …) and, once a slot that no longer reads
   * (CLOSING, PEER_EOF) has nothing queued, finish() it. Called after a
   * write left bytes queued and when the slot stops reading.
   */
  protected abstract flush(): void;
  /** Stop the IO for good: drop the queue, stop watching, close the fd. Called once, by finish(). */
  protected abstract release(): void;

  // -- state ----------------------------------------------------------------

  /** Reading and writing (not closing, no EOF yet). */
  get open(): boolean {
    return this.#state === OPEN;
  }

  get closed(): boolean {
    return this.#state === CLOSED;
  }

  /** @internal SlotHost.start, once protocol.open returned. */
  attach(session: Session): void {
    this.#session = session;
  }

  // -- Conn -----------------------------------------------------------------

  write(bytes: Uint8Array): void {
    if (this.#state === CLOSED || this.#state === CLOSING || bytes.length === 0) return;
    if (!this.send(bytes)) {
      this.fail();
      return;
    }
    const q = this.queued;
    if (q === 0) return;
    const host = this.#host;
    if (q > host.writeQueueCap) {
      bump(host.counters, host.overflowCounter);
      this.finish();
      return;
    }
    this.flush();
  }

  close(): void {
    if (this.#state !== OPEN && this.#state !== PEER_EOF) return;
    this.#host.hub.delete(this);
    if (this.#state === OPEN) this.#state = CLOSING;
    this.flush();
  }

  // -- what the strategy calls ----------------------------------------------

  /** Bytes arrived: Session.onData, guarded. The view need only live for the call. */
  protected deliver(bytes: Uint8Array): void {
    const s = this.#session;
    if (this.#state !== OPEN || s === undefined) return;
    try {
      s.onData(bytes);
    } catch (err) {
      protocolFault(this.#host.counters, err);
      this.finish();
    }
  }

  /** The peer sent FIN: tell the session, send what is queued, then close. */
  protected peerClosed(): void {
    if (this.#state !== OPEN) return;
    this.#state = PEER_EOF;
    this.#host.hub.delete(this);
    this.#callOnClose();
    this.flush();
  }

  /** A socket error (RST, EPIPE …): drop the queue and close. */
  protected fail(): void {
    if (this.#state === CLOSED) return;
    bump(this.#host.counters, 'errors: socket');
    this.finish();
  }

  /** Session.tick, guarded. */
  tick(now: number): void {
    const s = this.#session;
    if (this.#state === CLOSED || s?.tick === undefined) return;
    try {
      s.tick(now);
    } catch (err) {
      protocolFault(this.#host.counters, err);
      this.finish();
    }
  }

  /** Close now: release the IO (whatever is still queued is dropped), count it, tell the session. */
  finish(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.release();
    const host = this.#host;
    host.forget(this);
    bump(host.counters, 'closed');
    this.#callOnClose();
  }

  #callOnClose(): void {
    const s = this.#session;
    if (this.#onCloseCalled || s === undefined) return;
    this.#onCloseCalled = true;
    try {
      s.onClose();
    } catch (err) {
      protocolFault(this.#host.counters, err);
    }
  }
}
