/**
 * The completion loop of the io-uring strategy (runs in its own
 * worker_thread). Nothing here asks "is this fd ready?": the loop hands the
 * kernel whole operations (a multishot ACCEPT on the listener, one
 * multishot RECV per connection into provided buffers, a SEND per flushed
 * write) and blocks in io_uring_enter until some of them are *done*. Both
 * phases of a read — waiting for data and copying it — happen in the
 * kernel; a CQE says "n bytes are already in buffer b".
 *
 * One iteration: enter the kernel once (submit every SQE queued since the
 * last iteration, wait for >= 1 CQE), run every ready CQE through the
 * protocol, give the provided buffers back, queue one SEND per connection
 * that has new output and no SEND in flight, repeat.
 */
import * as os from 'node:os';
import type { Conn, Protocol, Session } from '../../core/protocol.js';
import { LocalHub } from '../hub.js';
import { protocolFault } from '../session-guard.js';
import { bump, type ServerCounters } from '../../core/strategy.js';
import type { LoopHooks } from '../loop-thread-entry.js';
import { CONTROL_STOP, type LoopWorkerData } from '../loop-thread.js';
import * as sys from '../sys/index.js';
import * as uring from '../sys/io-uring.js';

// user_data high word: what completed. Low word: the connection id.
const OP_ACCEPT = 1;
const OP_RECV = 2;
const OP_SEND = 3;
const OP_WAKE = 4;
const OP_TIMER = 5;

const SQ_ENTRIES = 4096;
const CQ_ENTRIES = 16384;
/** Provided receive buffers, shared by every connection: 4096 × 16 KiB. */
const BUF_COUNT = 4096;
const BUF_SIZE = 16 * 1024;
const TICK_MS = 1000;
/** How long a stopping loop lets queued replies drain. */
const STOP_GRACE_MS = 300;
/** Output buffers above this are dropped after use instead of kept for reuse. */
const KEEP_OUT_MAX = 64 * 1024;

const OPEN = 0;
const CLOSING = 1; // Conn.close(): flush, then close
const PEER_EOF = 2; // peer FIN: flush, then close
const CLOSED = 3;

const NEG_ENOBUFS = -sys.ENOBUFS;
/** IORING_OP_TIMEOUT completes with -ETIME when it simply expired. */
const NEG_ETIME = -os.constants.errno.ETIME;
const NEG_ECANCELED = -os.constants.errno.ECANCELED;
const NEG_EBUSY = -os.constants.errno.EBUSY;
const NEG_EMFILE = -sys.EMFILE;
const NEG_ENFILE = -sys.ENFILE;
/** After EMFILE, how long before ACCEPT is armed again (or it would spin). */
const ACCEPT_PAUSE_MS = 100;
const EMPTY = sys.allocBuffer(0);

class UringConn implements Conn {
  readonly id: number;
  readonly fd: number;
  state = OPEN;
  session: Session | undefined;
  onCloseCalled = false;
  /** A multishot RECV is armed (its last CQE had IORING_CQE_F_MORE). */
  recvArmed = false;
  /** Waiting in the loop's rearm list. */
  rearmQueued = false;
  /** A SEND is in flight from `wire`. */
  sending = false;
  /** Bytes written by the protocol since the last SEND (our copy). */
  out: Buffer = EMPTY;
  outLen = 0;
  /** The bytes of the SEND in flight: wire[wireOff, wireLen) not yet acknowledged. */
  wire: Buffer = EMPTY;
  wireOff = 0;
  wireLen = 0;
  /** In the loop's flush list. */
  dirty = false;

  constructor(
    readonly loop: UringLoop,
    id: number,
    fd: number,
  ) {
    this.id = id;
    this.fd = fd;
  }

  get queued(): number {
    return this.outLen + (this.wireLen - this.wireOff);
  }

  write(bytes: Uint8Array): void {
    if (this.state === CLOSED || this.state === CLOSING) return;
    const n = bytes.length;
    if (n === 0) return;
    // Copy: `bytes` may be a provided buffer the kernel gets back right after onData.
    const need = this.outLen + n;
    if (need > this.out.length) {
      const grown = sys.allocBuffer(Math.max(need, Math.min(2 * this.out.length, need + KEEP_OUT_MAX), 512));
      this.out.copy(grown, 0, 0, this.outLen);
      this.out = grown;
    }
    this.out.set(bytes, this.outLen);
    this.outLen = need;
    if (this.queued > this.loop.writeQueueCap) {
      bump(this.loop.counters, this.loop.overflowCounter);
      this.abort();
      return;
    }
    this.loop.markDirty(this);
  }

  close(): void {
    if (this.state !== OPEN && this.state !== PEER_EOF) return;
    this.loop.hub.delete(this);
    if (this.state === OPEN) this.state = CLOSING;
    if (this.queued === 0) this.finish();
  }

  /** Called by the loop after a batch of CQEs: start a SEND if none is in flight. */
  flush(): void {
    this.dirty = false;
    if (this.state === CLOSED || this.sending || this.outLen === 0) return;
    // Swap the buffers: the protocol keeps appending to `out` while `wire` is in flight.
    const w = this.wire;
    this.wire = this.out;
    this.wireOff = 0;
    this.wireLen = this.outLen;
    this.out = w.length > KEEP_OUT_MAX ? EMPTY : w;
    this.outLen = 0;
    this.#submitSend();
  }

  #submitSend(): void {
    this.sending = true;
    this.loop.prepSend(this, sys.addressOf(this.wire) + this.wireOff, this.wireLen - this.wireOff);
  }

  onSend(res: number): void {
    this.sending = false;
    if (this.state === CLOSED) return;
    if (res < 0) {
      this.fail();
      return;
    }
    this.wireOff += res;
    if (this.wireOff < this.wireLen) {
      // A short send: the kernel took part; resubmit exactly the tail.
      this.#submitSend();
      return;
    }
    this.wireOff = this.wireLen = 0;
    if (this.outLen > 0) this.flush();
    else if (this.state !== OPEN) this.finish();
  }

  onRecv(bytes: Buffer | undefined, res: number, more: boolean): void {
    if (!more) this.recvArmed = false;
    if (this.state !== OPEN) return;
    if (res > 0 && bytes !== undefined) {
      const s = this.session;
      if (s === undefined) return;
      try {
        s.onData(bytes);
      } catch (err) {
        protocolFault(this.loop.counters, err);
        this.abort();
        return;
      }
      if (!more && this.state === OPEN) this.loop.rearm(this);
      return;
    }
    if (res === 0) {
      // Peer FIN: tell the session, send what is queued, then close.
      this.state = PEER_EOF;
      this.loop.hub.delete(this);
      this.callOnClose();
      if (this.queued === 0) this.finish();
      return;
    }
    if (res === NEG_ENOBUFS || res === NEG_ECANCELED || res === sys.NEG_EINTR || res === sys.NEG_EAGAIN) {
      // Out of provided buffers (every one is full of unprocessed data):
      // the multishot stopped; arm it again once buffers are recycled.
      if (res === NEG_ENOBUFS) bump(this.loop.counters, 'recv: out of provided buffers (re-armed)');
      if (!this.recvArmed) this.loop.rearm(this);
      return;
    }
    this.fail();
  }

  fail(): void {
    if (this.state === CLOSED) return;
    bump(this.loop.counters, 'errors: socket');
    this.abort();
  }

  /** Close now, dropping anything queued. */
  abort(): void {
    if (this.state === CLOSED) return;
    this.outLen = 0;
    this.wireOff = this.wireLen = 0;
    this.finish();
  }

  finish(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    // shutdown() completes the armed multishot RECV (with 0) and any SEND in
    // flight; closing the fd alone would not, as each request holds its own
    // reference to the socket. The fd number may be reused at once: CQEs are
    // matched by connection id, never by fd.
    sys.shutdown(this.fd, sys.SHUT_RDWR);
    sys.close(this.fd);
    this.loop.forget(this);
    bump(this.loop.counters, 'closed');
    this.callOnClose();
  }

  callOnClose(): void {
    if (this.onCloseCalled) return;
    const s = this.session;
    if (s === undefined) return;
    this.onCloseCalled = true;
    try {
      s.onClose();
    } catch (err) {
      protocolFault(this.loop.counters, err);
    }
  }

  tick(now: number): void {
    const s = this.session;
    if (this.state === CLOSED || s?.tick === undefined) return;
    try {
      s.tick(now);
    } catch (err) {
      protocolFault(this.loop.counters, err);
      this.abort();
    }
  }

  /** No request of ours can still complete for this connection. */
  get idle(): boolean {
    return !this.recvArmed && !this.sending;
  }
}

export class UringLoop {
  readonly counters: ServerCounters = {};
  readonly hub = new LocalHub();
  readonly protocol: Protocol;
  readonly overflowCounter: string;
  readonly writeQueueCap: number;
  readonly ring: uring.IoUring;
  /** Every connection with a request in flight or a live session, by id. */
  readonly #conns = new Map<number, UringConn>();
  /** Live (not CLOSED) connections. */
  #live = 0;
  readonly #dirty: UringConn[] = [];
  readonly #rearm: UringConn[] = [];
  #nextId = 1;
  #acceptArmed = false;
  #accepting = true;
  #acceptPausedUntil = 0;
  readonly #listenFd: number;
  readonly #wakeFd: number;
  readonly #wakeBuf = sys.allocBuffer(8);
  readonly #timespec = sys.allocBuffer(16);
  #timerArmed = false;
  #wakeArmed = false;
  #recycled = 0;
  readonly #views = new Map<number, Buffer>();

  constructor(d: LoopWorkerData, protocol: Protocol) {
    this.protocol = protocol;
    this.overflowCounter = `closed: ${this.protocol.overflowReason ?? 'write queue full'}`;
    this.writeQueueCap = d.opts.writeQueueCap;
    this.#listenFd = d.listenFd;
    this.#wakeFd = d.wakeFd;
    this.ring = new uring.IoUring({ sqEntries: SQ_ENTRIES, cqEntries: CQ_ENTRIES, bufCount: BUF_COUNT, bufSize: BUF_SIZE });
  }

  // -- SQE helpers: each makes room first (submitting without waiting) if the SQ is full.

  #room(): void {
    while (this.ring.sqSpace === 0) {
      const rc = this.ring.submit(false);
      if (rc === NEG_EBUSY) {
        // The CQ is overflowing; consume completions, then retry.
        this.#reap();
      } else if (rc < 0 && rc !== sys.NEG_EINTR) {
        throw new sys.SysError('io_uring_enter', -rc);
      }
    }
  }

  prepSend(c: UringConn, addr: number, len: number): void {
    this.#room();
    this.ring.prep(uring.IORING_OP_SEND, c.fd, addr, len, 0, sys.MSG_NOSIGNAL, 0, 0, 0, c.id, OP_SEND);
  }

  #prepRecv(c: UringConn): void {
    this.#room();
    c.recvArmed = true;
    this.ring.prep(uring.IORING_OP_RECV, c.fd, 0, 0, 0, 0, uring.IOSQE_BUFFER_SELECT, uring.IORING_RECV_MULTISHOT, 0, c.id, OP_RECV);
  }

  #prepAccept(): void {
    this.#room();
    this.#acceptArmed = true;
    this.ring.prep(uring.IORING_OP_ACCEPT, this.#listenFd, 0, 0, 0, sys.SOCK_CLOEXEC, 0, uring.IORING_ACCEPT_MULTISHOT, 0, 0, OP_ACCEPT);
  }

  #prepWake(): void {
    this.#room();
    this.#wakeArmed = true;
    this.ring.prep(uring.IORING_OP_READ, this.#wakeFd, sys.addressOf(this.#wakeBuf), 8, 0, 0, 0, 0, 0, 0, OP_WAKE);
  }

  #prepTimer(ms: number): void {
    this.#room();
    this.#timerArmed = true;
    this.#timespec.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
    this.#timespec.writeBigInt64LE(BigInt((ms % 1000) * 1e6), 8);
    this.ring.prep(uring.IORING_OP_TIMEOUT, -1, sys.addressOf(this.#timespec), 1, 0, 0, 0, 0, 0, 0, OP_TIMER);
  }

  markDirty(c: UringConn): void {
    if (c.dirty) return;
    c.dirty = true;
    this.#dirty.push(c);
  }

  rearm(c: UringConn): void {
    if (c.rearmQueued) return;
    c.rearmQueued = true;
    this.#rearm.push(c);
  }

  forget(c: UringConn): void {
    this.#live--;
    this.hub.delete(c);
    if (c.idle) this.#conns.delete(c.id);
  }

  /** A view of provided buffer `bid`'s first n bytes. Cached per (bid, n) for small n. */
  #view(bid: number, n: number): Buffer {
    const start = bid * BUF_SIZE;
    if (n > 256) return this.ring.bufs.subarray(start, start + n);
    const key = bid * 257 + n;
    let v = this.#views.get(key);
    if (v === undefined) {
      v = this.ring.bufs.subarray(start, start + n);
      if (this.#views.size < 65_536) this.#views.set(key, v);
    }
    return v;
  }

  #open(fd: number): void {
    const c = new UringConn(this, this.#nextId++, fd);
    if (this.#nextId > 0xffffffff) this.#nextId = 1;
    bump(this.counters, 'accepted');
    try {
      sys.setNoDelay(fd);
    } catch {
      // The peer may have reset already; the RECV will say so.
    }
    this.#conns.set(c.id, c);
    this.#live++;
    this.hub.add(c);
    let session: Session;
    try {
      session = this.protocol.open(c, this.hub);
    } catch (err) {
      protocolFault(this.counters, err);
      c.abort();
      return;
    }
    if (c.state === CLOSED) return;
    c.session = session;
    this.#prepRecv(c);
  }

  readonly #onCqe = (lo: number, hi: number, res: number, flags: number): void => {
    const more = (flags & uring.IORING_CQE_F_MORE) !== 0;
    switch (hi) {
      case OP_RECV: {
        let bytes: Buffer | undefined;
        let bid = -1;
        if ((flags & uring.IORING_CQE_F_BUFFER) !== 0) {
          bid = flags >>> uring.IORING_CQE_BUFFER_SHIFT;
          if (res > 0) bytes = this.#view(bid, res);
        }
        const c = this.#conns.get(lo);
        if (c !== undefined) {
          c.onRecv(bytes, res, more);
          if (c.state === CLOSED && c.idle) this.#conns.delete(c.id);
        }
        // The protocol is done with the view (its contract): give it back.
        if (bid >= 0) {
          this.ring.recycleBuffer(bid);
          this.#recycled++;
        }
        return;
      }
      case OP_SEND: {
        const c = this.#conns.get(lo);
        if (c === undefined) return;
        c.onSend(res);
        if (c.state === CLOSED && c.idle) this.#conns.delete(c.id);
        return;
      }
      case OP_ACCEPT:
        if (!more) this.#acceptArmed = false;
        if (res >= 0) {
          if (this.#accepting) this.#open(res);
          else sys.close(res);
        } else if (res !== NEG_ECANCELED) {
          bump(this.counters, `errors: accept ${sys.errnoName(-res)}`);
          if (res === NEG_EMFILE || res === NEG_ENFILE) this.#acceptPausedUntil = Date.now() + ACCEPT_PAUSE_MS;
        }
        return;
      case OP_WAKE:
        this.#wakeArmed = false;
        return;
      case OP_TIMER:
        // -ETIME is the normal expiry.
        if (res !== NEG_ETIME && res !== NEG_ECANCELED && res < 0) bump(this.counters, `errors: timeout ${sys.errnoName(-res)}`);
        this.#timerArmed = false;
        return;
    }
  };

  #reap(): number {
    return this.ring.reap(this.#onCqe);
  }

  /** After a batch: give buffers back, re-arm RECVs, start SENDs. */
  #afterBatch(): void {
    if (this.#recycled > 0) {
      this.ring.publishBuffers();
      this.#recycled = 0;
    }
    const r = this.#rearm;
    for (let i = 0; i < r.length; i++) {
      const c = r[i];
      if (c === undefined) continue;
      c.rearmQueued = false;
      if (c.state === OPEN && !c.recvArmed) this.#prepRecv(c);
    }
    r.length = 0;
    const d = this.#dirty;
    // flush() may not add to the list (it only submits), so a plain loop is safe.
    for (let i = 0; i < d.length; i++) d[i]?.flush();
    d.length = 0;
  }

  #tick(now: number): void {
    for (const c of this.#conns.values()) c.tick(now);
  }

  run(control: Int32Array, hooks: LoopHooks): ServerCounters {
    hooks.ready();
    this.#prepAccept();
    this.#prepWake();
    this.#prepTimer(TICK_MS);
    let nextTick = Date.now() + TICK_MS;
    let stopDeadline = 0;
    for (;;) {
      const rc = this.ring.submit(true);
      if (rc < 0 && rc !== sys.NEG_EINTR && rc !== NEG_EBUSY) throw new sys.SysError('io_uring_enter', -rc);
      this.#reap();
      this.#afterBatch();
      const now = Date.now();
      if (stopDeadline === 0 && Atomics.load(control, CONTROL_STOP) !== 0) {
        // Stop: no new connections; every connection flushes what it has
        // queued and closes; whatever is left at the deadline is dropped.
        this.#accepting = false;
        stopDeadline = now + STOP_GRACE_MS;
        for (const c of [...this.#conns.values()]) c.close();
        this.#afterBatch();
      }
      if (stopDeadline !== 0) {
        if (this.#live === 0 || now >= stopDeadline) break;
        if (!this.#timerArmed) this.#prepTimer(50);
        continue;
      }
      if (!this.#wakeArmed) this.#prepWake();
      if (!this.#acceptArmed && this.#accepting && now >= this.#acceptPausedUntil) this.#prepAccept();
      if (now >= nextTick) {
        nextTick = now + TICK_MS;
        this.#tick(now);
        this.#afterBatch();
        hooks.counters(this.counters);
      }
      if (!this.#timerArmed) {
        const paused = this.#acceptPausedUntil > now ? this.#acceptPausedUntil - now : TICK_MS;
        this.#prepTimer(Math.max(1, Math.min(nextTick - now, paused)));
      }
    }
    for (const c of [...this.#conns.values()]) c.abort();
    return this.counters;
  }

  close(): void {
    this.ring.close();
  }
}
