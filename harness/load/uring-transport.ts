/**
 * The load transport on io_uring (Linux): the same client sessions as the
 * Selector transport, with the per-op syscalls gone. Each connection has
 * one multishot RECV armed into a shared provided-buffer ring, so bytes
 * arrive as completions with no recv() call; every send of a loop turn is
 * queued as a SEND request; and one io_uring_enter per turn submits them
 * all and waits for the next completions. The load generator then pays a
 * syscall per batch rather than two per operation (wrk and the C clients
 * pay those two), which is what lets it outrun a native epoll client.
 *
 * Connects stay ordinary non-blocking connect() calls, watched by a
 * POLL_ADD request until the socket is writable. A connection's output is
 * double-buffered: one buffer fills while the other is in flight, because
 * the kernel reads a SEND's bytes after the call that queued it returns.
 */
import * as os from 'node:os';
import type { ClientWorkload } from '../../core/client.js';
import * as sys from '../../strategies/sys/index.js';
import * as uring from '../../strategies/sys/io-uring.js';
import { CONNECTING, copyInto, DEAD, LoadLoop, LoopConn, OPEN, type TransportEvents, type TransportOptions } from './load-loop.js';
import { errorKind } from './selector-transport.js';

// user_data high word: what completed. Low word: the connection id.
const OP_CONNECT = 1;
const OP_RECV = 2;
const OP_SEND = 3;

const BUF_SIZE = uring.RING_GEOMETRY.bufSize;
/** Output buffers start this small and double; above KEEP_OUT_MAX they are dropped once sent. */
const OUT_INITIAL = 4096;
const KEEP_OUT_MAX = 64 * 1024;

const NEG_ENOBUFS = -sys.ENOBUFS;
const NEG_EBUSY = -os.constants.errno.EBUSY;
const NEG_ETIME = -os.constants.errno.ETIME;
/** The longest one wait: the loop's deadlines are never further than its sweep anyway. */
const MAX_WAIT_MS = 1000;

class UringConn extends LoopConn {
  /** Unique while any request of it can still complete (the user_data low word). */
  id = 0;
  /** Requests of this connection that may still complete. */
  inFlight = 0;
  recvArmed = false;
  /** Bytes queued for the next SEND. */
  fill: Buffer | null = null;
  fillLen = 0;
  /** The SEND in flight: its buffer (kept alive until its completion), start and end. */
  flight: Buffer | null = null;
  flightOff = 0;
  flightLen = 0;
  /** Queued in the loop's dirty list this turn. */
  dirty = false;
}

export class UringTransport extends LoadLoop<UringConn> {
  protected readonly driverName = 'uring';
  readonly #ring: uring.IoUring;
  /** By id: every connection with a request that can still complete. */
  readonly #byId = new Map<number, UringConn>();
  #nextId = 1;
  readonly #dirty: UringConn[] = [];
  readonly #views = new Map<number, Buffer>();

  constructor(o: TransportOptions, client: ClientWorkload, ev: TransportEvents) {
    super(o, client, ev);
    this.#ring = new uring.IoUring(uring.RING_GEOMETRY);
  }

  sendOn(c: UringConn, buf: Uint8Array, off: number, len: number): void {
    let f = c.fill;
    if (f === null || c.fillLen + len > f.length) {
      let cap = f === null ? OUT_INITIAL : f.length;
      while (cap < c.fillLen + len) cap *= 2;
      const next = sys.allocBuffer(cap);
      if (f !== null) f.copy(next, 0, 0, c.fillLen);
      c.fill = f = next;
    }
    copyInto(buf, off, len, f, c.fillLen);
    c.fillLen += len;
    if (!c.dirty) {
      c.dirty = true;
      this.#dirty.push(c);
    }
  }

  protected release(c: UringConn): void {
    // Wakes the armed RECV (and fails a SEND): their completions find the
    // connection DEAD. The fd can close now: the ring holds its own
    // reference to the socket for what is still in flight.
    sys.shutdown(c.fd, sys.SHUT_RDWR);
    sys.close(c.fd);
    if (c.inFlight === 0) this.#byId.delete(c.id);
  }

  protected closeIo(): void {
    this.#ring.close();
  }

  protected openSocket(index: number, now: number): void {
    const r = this.connectSocket();
    if (r === undefined) return;
    const c = new UringConn(this, this.o.first + index, r.fd);
    c.id = this.#nextId++;
    if (this.#nextId > 0xffffffff) this.#nextId = 1;
    this.#byId.set(c.id, c);
    this.track(c, index, now, r.pending);
    if (r.pending) {
      this.#room();
      c.inFlight++;
      this.#ring.prep(uring.IORING_OP_POLL_ADD, r.fd, 0, 0, 0, sys.POLLOUT, 0, 0, 0, c.id, OP_CONNECT);
    } else {
      this.#start(c, now);
    }
  }

  /** Connected: arm its RECV, then let the loop open its session. */
  #start(c: UringConn, now: number): void {
    this.#armRecv(c);
    this.opened(c, now);
  }

  #armRecv(c: UringConn): void {
    this.#room();
    c.recvArmed = true;
    c.inFlight++;
    this.#ring.prep(uring.IORING_OP_RECV, c.fd, 0, 0, 0, 0, uring.IOSQE_BUFFER_SELECT, uring.IORING_RECV_MULTISHOT, 0, c.id, OP_RECV);
  }

  /** Make room in the SQ (submit without waiting) when it is full. */
  #room(): void {
    while (this.#ring.sqSpace === 0) {
      const rc = this.#ring.submit(false);
      if (rc === NEG_EBUSY) this.#reap();
      else if (rc < 0 && rc !== sys.NEG_EINTR) throw new sys.SysError('io_uring_enter', -rc);
    }
  }

  /** One SEND for every connection with queued bytes and none in flight. */
  #flushDirty(): void {
    const list = this.#dirty;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (c === undefined) continue;
      c.dirty = false;
      if (c.state === OPEN && c.flight === null && c.fillLen > 0) this.#sendFill(c);
    }
    list.length = 0;
  }

  #sendFill(c: UringConn): void {
    const f = c.fill;
    if (f === null) return;
    c.flight = f;
    c.flightOff = 0;
    c.flightLen = c.fillLen;
    c.fill = null;
    c.fillLen = 0;
    this.#prepSend(c);
  }

  #prepSend(c: UringConn): void {
    const f = c.flight;
    if (f === null) return;
    this.#room();
    c.inFlight++;
    this.#ring.prep(uring.IORING_OP_SEND, c.fd, sys.addressOf(f) + c.flightOff, c.flightLen - c.flightOff, 0, sys.MSG_NOSIGNAL, 0, 0, 0, c.id, OP_SEND);
  }

  protected poll(timeoutMs: number): void {
    this.#flushDirty();
    // One enter: submit what this turn queued and wait for completions, no
    // later than the loop's next deadline.
    const rc = timeoutMs > 0 ? this.#ring.submitAndWait(Math.min(timeoutMs, MAX_WAIT_MS)) : this.#ring.submit(false);
    if (rc < 0 && rc !== sys.NEG_EINTR && rc !== NEG_EBUSY && rc !== NEG_ETIME) throw new sys.SysError('io_uring_enter', -rc);
    this.#reap();
    // Replies queued by the sessions while reaping go out on the next turn's
    // enter, or now when nothing else would wake us soon.
    this.#flushDirty();
  }

  #reap(): void {
    const recycled = this.#ring.reap(this.#onCqe);
    if (recycled > 0) this.#ring.publishBuffers();
  }

  /** A view of provided buffer `bid`'s first n bytes, cached per (bid, n) for small n. */
  #view(bid: number, n: number): Buffer {
    const start = bid * BUF_SIZE;
    if (n > 256) return this.#ring.bufs.subarray(start, start + n);
    const key = bid * 257 + n;
    let v = this.#views.get(key);
    if (v === undefined) {
      v = this.#ring.bufs.subarray(start, start + n);
      if (this.#views.size < 65_536) this.#views.set(key, v);
    }
    return v;
  }

  readonly #onCqe = (lo: number, hi: number, res: number, flags: number): void => {
    const c = this.#byId.get(lo);
    const more = (flags & uring.IORING_CQE_F_MORE) !== 0;
    const bid = (flags & uring.IORING_CQE_F_BUFFER) !== 0 ? flags >>> uring.IORING_CQE_BUFFER_SHIFT : -1;
    if (c === undefined) {
      if (bid >= 0) this.#ring.recycleBuffer(bid);
      return;
    }
    if (!(hi === OP_RECV && more)) c.inFlight--;
    try {
      if (hi === OP_RECV) this.#onRecv(c, res, more, bid);
      else if (hi === OP_SEND) this.#onSend(c, res);
      else if (hi === OP_CONNECT) this.#onConnect(c, res);
    } finally {
      // The session is done with the view (its contract): give it back.
      if (bid >= 0) this.#ring.recycleBuffer(bid);
      if (c.state === DEAD && c.inFlight === 0) this.#byId.delete(c.id);
    }
  };

  #onConnect(c: UringConn, res: number): void {
    if (c.state !== CONNECTING) return;
    let err = res < 0 ? -res : 0;
    if (err === 0) {
      try {
        err = sys.socketError(c.fd);
      } catch (e) {
        err = (e as { errno?: number }).errno ?? sys.EINVAL;
      }
    }
    if (this.connectDone(c, err, sys.errnoName)) this.#start(c, performance.now());
  }

  #onRecv(c: UringConn, res: number, more: boolean, bid: number): void {
    if (!more) c.recvArmed = false;
    if (c.state !== OPEN) return;
    if (res > 0 && bid >= 0) {
      c.session?.onData(this.#view(bid, res), performance.now());
    } else if (res === 0) {
      this.peerClosed(c);
      return;
    } else if (res < 0 && res !== NEG_ENOBUFS && res !== sys.NEG_EINTR) {
      this.drop(c, errorKind(res));
      return;
    }
    // Out of provided buffers, or the kernel ended the multishot: arm it again.
    if (!c.recvArmed && c.state === OPEN) this.#armRecv(c);
  }

  #onSend(c: UringConn, res: number): void {
    if (c.state !== OPEN) {
      c.flight = null;
      return;
    }
    if (res < 0) {
      if (res === sys.NEG_EAGAIN || res === sys.NEG_EINTR) {
        this.#prepSend(c);
        return;
      }
      c.flight = null;
      this.drop(c, errorKind(res));
      return;
    }
    c.flightOff += res;
    if (c.flightOff < c.flightLen) {
      // A short send: the rest of the same buffer.
      this.#prepSend(c);
      return;
    }
    const sent = c.flight;
    c.flight = null;
    // Keep the drained buffer for the next fill when the fill has none yet (small ones only).
    if (c.fill === null && sent !== null && sent.length <= KEEP_OUT_MAX) {
      c.fill = sent;
      c.fillLen = 0;
    }
    if (c.fillLen > 0) this.#sendFill(c);
  }
}
