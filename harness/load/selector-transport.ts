/**
 * The load transport on the Selector layer (non-blocking sockets,
 * DefaultSelector: epoll/kqueue): it runs any workload's client sessions
 * (core/client.ts), built to measure servers faster than a node:net client
 * can:
 *
 * - one select() hands back every ready connection and the loop serves all
 *   of them before it waits again (batched work per wake-up);
 * - one preallocated slab for the hot-path IO: every recv lands in it and
 *   every small send leaves from it, so recv and send hand C the same
 *   buffer (sys.addressOf's one-entry cache always hits); a send the socket
 *   does not take whole is the only thing copied, into that connection's
 *   queue;
 * - the connects, the window and the schedule are the load loop's
 *   (load-loop.ts), kept by its own clock, so phases are stamped on time
 *   even while the loop never returns to Node's event loop.
 */
import type { ClientWorkload } from '../../core/client.js';
import * as sel from '../../strategies/selectors/index.js';
import * as sys from '../../strategies/sys/index.js';
import { CONNECTING, copyInto, LoadLoop, LoopConn, OPEN, type TransportEvents, type TransportOptions } from './load-loop.js';


/** Bytes one recv() may bring: the slab's first RECV_BUFFER bytes. */
const RECV_BUFFER = 64 * 1024;
/** Sends up to this size are copied into the slab's send area first (see the header). */
const SEND_AREA = 16 * 1024;
/** recv views of these lengths are cached, so a read allocates nothing. */
const VIEW_CACHE_MAX = 16 * 1024;

class SelConn extends LoopConn {
  events = sel.EVENT_WRITE;
  /** Unsent bytes (allocated the first time a send comes up short). */
  out: Buffer | null = null;
  outHead = 0;
  outTail = 0;
}

export class SelectorTransport extends LoadLoop<SelConn> {
  readonly #sel: sel.Selector<SelConn>;
  readonly #slab: Buffer;
  readonly #views: (Buffer | undefined)[] = [];
  protected readonly driverName: string;

  constructor(o: TransportOptions, client: ClientWorkload, ev: TransportEvents) {
    super(o, client, ev);
    this.#sel = sel.DefaultSelector<SelConn>();
    this.driverName = `selector:${this.#sel.name}`;
    this.#slab = sys.allocBuffer(RECV_BUFFER + SEND_AREA);
  }

  sendOn(c: SelConn, buf: Uint8Array, off: number, len: number): void {
    if (c.outTail > c.outHead) {
      this.#enqueue(c, buf, off, len);
      return;
    }
    let src: Uint8Array = buf;
    let at = off;
    if (len <= SEND_AREA) {
      // Through the slab: recv and send hand C one buffer (see the header).
      copyInto(buf, off, len, this.#slab, RECV_BUFFER);
      src = this.#slab;
      at = RECV_BUFFER;
    }
    const n = sys.send(c.fd, src, at, len);
    if (n === len) return;
    if (n >= 0) this.#enqueue(c, src, at + n, len - n);
    else if (n === sys.NEG_EAGAIN || n === sys.NEG_EINTR) this.#enqueue(c, src, at, len);
    else this.drop(c, errorKind(n));
  }

  protected release(c: SelConn): void {
    if (this.#sel.get(c.fd) !== undefined) this.#sel.unregister(c.fd);
    sys.close(c.fd);
  }

  protected closeIo(): void {
    this.#sel.close();
  }

  protected openSocket(index: number, now: number): void {
    const r = this.connectSocket();
    if (r === undefined) return;
    const c = new SelConn(this, this.o.first + index, r.fd);
    this.track(c, index, now, r.pending);
    if (r.pending) {
      this.#sel.register(r.fd, sel.EVENT_WRITE, c);
    } else {
      c.events = sel.EVENT_READ;
      this.#sel.register(r.fd, sel.EVENT_READ, c);
      this.opened(c, now);
    }
  }

  #connected(c: SelConn): void {
    let err: number;
    try {
      err = sys.socketError(c.fd);
    } catch (e) {
      err = (e as { errno?: number }).errno ?? sys.EINVAL;
    }
    if (!this.connectDone(c, err, sys.errnoName)) return;
    c.events = sel.EVENT_READ;
    this.#sel.modify(c.fd, sel.EVENT_READ);
    this.opened(c, performance.now());
  }

  protected poll(timeoutMs: number): void {
    const r = this.#sel.select(timeoutMs);
    for (let i = 0; i < r.count; i++) {
      const key = r.keys[i];
      if (key === undefined) continue;
      const c = key.data;
      const ev = r.events[i] ?? 0;
      if (c.state !== OPEN) {
        if (c.state === CONNECTING) this.#connected(c);
        continue;
      }
      if ((ev & sel.EVENT_WRITE) !== 0) this.#flush(c);
      if ((ev & sel.EVENT_READ) !== 0 && c.state === OPEN) this.#readable(c);
    }
  }

  #enqueue(c: SelConn, buf: Uint8Array, off: number, len: number): void {
    let out = c.out;
    if (out === null || c.outTail + len > out.length) {
      const used = c.outTail - c.outHead;
      let cap = out === null ? Math.max(4096, 2 * len) : out.length;
      while (cap < used + len) cap *= 2;
      const next = cap === out?.length ? out : Buffer.allocUnsafe(cap);
      if (out !== null) out.copy(next, 0, c.outHead, c.outTail);
      c.out = out = next;
      c.outHead = 0;
      c.outTail = used;
    }
    copyInto(buf, off, len, out, c.outTail);
    c.outTail += len;
    this.#want(c, sel.EVENT_READ | sel.EVENT_WRITE);
  }

  #flush(c: SelConn): void {
    const out = c.out;
    if (out === null || c.outTail === c.outHead) {
      this.#want(c, sel.EVENT_READ);
      return;
    }
    const n = sys.send(c.fd, out, c.outHead, c.outTail - c.outHead);
    if (n >= 0) {
      c.outHead += n;
      if (c.outHead === c.outTail) {
        c.outHead = c.outTail = 0;
        this.#want(c, sel.EVENT_READ);
      }
    } else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) {
      this.drop(c, errorKind(n));
    }
  }

  #want(c: SelConn, events: number): void {
    if (c.events === events) return;
    c.events = events;
    this.#sel.modify(c.fd, events);
  }

  #readable(c: SelConn): void {
    const n = sys.recv(c.fd, this.#slab, 0, RECV_BUFFER);
    if (n > 0) {
      c.session?.onData(this.#view(n), performance.now());
      return;
    }
    if (n === 0) this.peerClosed(c);
    else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) this.drop(c, errorKind(n));
  }

  /** slab[0, n) as a Buffer view, cached per length. */
  #view(n: number): Buffer {
    if (n > VIEW_CACHE_MAX) return this.#slab.subarray(0, n);
    let v = this.#views[n];
    if (v === undefined) {
      v = this.#slab.subarray(0, n);
      this.#views[n] = v;
    }
    return v;
  }
}

/** Error kind of a negative-errno send/recv result, as the node:net transport names them. */
export function errorKind(negErrno: number): string {
  const e = -negErrno;
  if (e === sys.ECONNRESET || e === sys.EPIPE) return 'reset';
  return sys.errnoName(e);
}
