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
 *
 * A connection's session side (states, guarded calls, hub, the cap) is the
 * shared session slot (session-slot.ts); what is io-uring's own is here:
 * its RECV and SEND requests and the two output buffers they read from.
 */
import * as os from 'node:os';
import type { Protocol } from '../../core/protocol.js';
import { SessionSlot, SlotHost } from '../session-slot.js';
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

const BUF_SIZE = uring.RING_GEOMETRY.bufSize;
const TICK_MS = 1000;
/** How long a stopping loop lets queued replies drain. */
const STOP_GRACE_MS = 300;
/** Output buffers above this are dropped after use instead of kept for reuse. */
const KEEP_OUT_MAX = 64 * 1024;

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

/** An io-uring connection: the session slot plus its RECV/SEND requests and output buffers. */
class UringConn extends SessionSlot {
  readonly fd: number;
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
    super(loop, id);
    this.fd = fd;
  }

  get queued(): number {
    return this.outLen + (this.wireLen - this.wireOff);
  }

  protected send(bytes: Uint8Array): boolean {
    const n = bytes.length;
    // Copy: `bytes` may be a provided buffer the kernel gets back right after onData.
    const need = this.outLen + n;
    if (need > this.out.length) {
      const grown = sys.allocBuffer(Math.max(need, Math.min(2 * this.out.length, need + KEEP_OUT_MAX), 512));
      this.out.copy(grown, 0, 0, this.outLen);
      this.out = grown;
    }
    this.out.set(bytes, this.outLen);
    this.outLen = need;
    return true;
  }

  /** New output goes out after this batch of CQEs; a slot that stopped reading closes once it is all sent (onSend). */
  protected flush(): void {
    if (!this.open && this.queued === 0) this.finish();
    else this.loop.markDirty(this);
  }

  /** Called by the loop after a batch of CQEs: start a SEND if none is in flight. */
  startSend(): void {
    this.dirty = false;
    if (this.closed || this.sending || this.outLen === 0) return;
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
    if (this.closed) return;
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
    if (this.outLen > 0) this.startSend();
    else if (!this.open) this.finish();
  }

  onRecv(bytes: Buffer | undefined, res: number, more: boolean): void {
    if (!more) this.recvArmed = false;
    if (!this.open) return;
    if (res > 0 && bytes !== undefined) {
      this.deliver(bytes);
      if (!more && this.open) this.loop.rearm(this);
      return;
    }
    if (res === 0) {
      this.peerClosed();
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

  protected release(): void {
    // Bytes still queued are dropped by this close: reset, do not linger.
    if (this.queued > 0) sys.resetOnClose(this.fd);
    this.outLen = 0;
    this.wireOff = this.wireLen = 0;
    // shutdown() completes the armed multishot RECV (with 0) and any SEND in
    // flight; closing the fd alone would not, as each request holds its own
    // reference to the socket. The fd number may be reused at once: CQEs are
    // matched by connection id, never by fd.
    sys.shutdown(this.fd, sys.SHUT_RDWR);
    sys.close(this.fd);
    this.loop.settle(this);
  }

  /** No request of ours can still complete for this connection. */
  get idle(): boolean {
    return !this.recvArmed && !this.sending;
  }
}

/** The io-uring slot host: the core's bookkeeping plus the ring and its requests. */
export class UringLoop extends SlotHost<UringConn> {
  readonly ring: uring.IoUring;
  /** Every connection with a request in flight or a live session, by id (CQEs name the id). */
  readonly #conns = new Map<number, UringConn>();
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
    super(protocol, d.opts.writeQueueCap);
    this.#listenFd = d.listenFd;
    this.#wakeFd = d.wakeFd;
    this.ring = new uring.IoUring(uring.RING_GEOMETRY);
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

  /** A connection closed: forget it by id unless a request of its can still complete. */
  settle(c: UringConn): void {
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

  #accepted(fd: number): void {
    const c = new UringConn(this, this.#nextId++, fd);
    if (this.#nextId > 0xffffffff) this.#nextId = 1;
    try {
      sys.setNoDelay(fd);
    } catch {
      // The peer may have reset already; the RECV will say so.
    }
    this.#conns.set(c.id, c);
    if (this.start(c)) this.#prepRecv(c);
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
          if (c.closed && c.idle) this.#conns.delete(c.id);
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
        if (c.closed && c.idle) this.#conns.delete(c.id);
        return;
      }
      case OP_ACCEPT:
        if (!more) this.#acceptArmed = false;
        if (res >= 0) {
          if (this.#accepting) this.#accepted(res);
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
      if (c.open && !c.recvArmed) this.#prepRecv(c);
    }
    r.length = 0;
    const d = this.#dirty;
    // startSend() may not add to the list (it only submits), so a plain loop is safe.
    for (let i = 0; i < d.length; i++) d[i]?.startSend();
    d.length = 0;
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
        this.closeAll();
        this.#afterBatch();
      }
      if (stopDeadline !== 0) {
        if (this.size === 0 || now >= stopDeadline) break;
        if (!this.#timerArmed) this.#prepTimer(50);
        continue;
      }
      if (!this.#wakeArmed) this.#prepWake();
      if (!this.#acceptArmed && this.#accepting && now >= this.#acceptPausedUntil) this.#prepAccept();
      if (now >= nextTick) {
        nextTick = now + TICK_MS;
        this.tick(now);
        this.#afterBatch();
        hooks.counters(this.counters);
      }
      if (!this.#timerArmed) {
        const paused = this.#acceptPausedUntil > now ? this.#acceptPausedUntil - now : TICK_MS;
        this.#prepTimer(Math.max(1, Math.min(nextTick - now, paused)));
      }
    }
    this.finishAll();
    return this.counters;
  }

  close(): void {
    this.ring.close();
  }
}
