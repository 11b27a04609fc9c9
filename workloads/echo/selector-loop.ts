/**
 * The echo load driver's loop on the Selector layer (non-blocking sockets,
 * DefaultSelector), the same closed/open-loop semantics as driver.ts on
 * node:net, built to measure servers faster than a node:net client can:
 *
 * - one select() hands back every ready connection and the loop serves all
 *   of them before it waits again (batched work per wake-up);
 * - messages are written into one preallocated slab and verified in place
 *   (fillMessageAt/firstMismatchAt), one shared receive buffer, no
 *   per-op allocation on the hot path (a send the socket does not take
 *   whole is the only thing copied, into that connection's queue);
 * - connects are non-blocking and bounded (connectConcurrency in flight);
 * - the phases (connected / measuring / draining) are kept by the loop's own
 *   clock, so they are emitted on time even while the loop never returns to
 *   Node's event loop (the worker_thread mode).
 *
 * This file is pure loop: driver-selector.ts runs it in a worker_thread or
 * in slices on the main thread.
 */
import * as sel from '../../strategies/selectors/index.js';
import * as sys from '../../strategies/sys/index.js';
import { bumpError, type DriverOptions, type DriverPhase, type DriverResult } from '../driver.js';
import { encodeHistogram, newHistogram, recordUs, type LatencyHistogram } from '../latency.js';
import { echoMessageSize, fillMessageAt, firstMismatchAt } from './message.js';

/** The options the loop needs (host already an IP literal). */
export type EchoLoopOptions = Omit<DriverOptions, 'onPhase'>;

const RECV_BUFFER = 64 * 1024;
/** Where the slab's scratch message lives (right after the receive area). */
const SCRATCH_OFF = RECV_BUFFER;
/** How often in-flight messages are checked against timeoutMs. */
const SWEEP_MS = 100;
/** Open loop: the longest the loop sleeps between two scheduled sends. */
const OPEN_LOOP_TICK_MS = 1;

const CONNECTING = 0;
const OPEN = 1;
const DEAD = 2;

class EchoConn {
  state = CONNECTING;
  /** Events registered with the selector. */
  events = sel.EVENT_WRITE;
  nextSeq = 0;
  /** Intended send times (performance.now) of messages in flight: a ring. */
  starts = new Float64Array(4);
  ph = 0;
  pn = 0;
  /** Bytes of the head message received so far. */
  received = 0;
  /** Unsent bytes (allocated the first time a send comes up short). */
  out: Buffer | null = null;
  outHead = 0;
  outTail = 0;

  constructor(
    readonly id: number,
    readonly fd: number,
    /** Offset in the slab of the message this connection expects next. */
    readonly expOff: number,
  ) {}
}

export type LoopPhase = 'connecting' | DriverPhase | 'done';

export class EchoSelectorLoop {
  readonly #o: EchoLoopOptions;
  readonly #size: number;
  readonly #openLoop: boolean;
  readonly #rate: number;
  readonly #sel: sel.Selector<EchoConn>;
  /**
   * One buffer for all hot-path IO, so every recv/send hands C the same
   * Buffer (sys.addressOf's one-entry cache always hits): [0, RECV_BUFFER)
   * receives, then one scratch message, then the expected (and, in closed
   * loop, sent) message of every connection.
   */
  readonly #slab: Buffer;
  readonly #hist: LatencyHistogram = newHistogram();
  readonly #errors: Record<string, number> = {};
  readonly #conns: EchoConn[] = [];
  readonly #onPhase: (p: DriverPhase) => void;

  phase: LoopPhase = 'connecting';
  #nextConnect = 0;
  #connecting = 0;
  #connectDeadline: number;
  #windowStart = Number.POSITIVE_INFINITY;
  #windowEnd = Number.POSITIVE_INFINITY;
  #nextSweep = Number.POSITIVE_INFINITY;
  #t0 = 0;
  #issued = 0;
  #rr = 0;
  #ops = 0;
  #bytes = 0;
  #established = 0;

  constructor(o: EchoLoopOptions, onPhase: (p: DriverPhase) => void) {
    this.#o = o;
    this.#onPhase = onPhase;
    this.#size = echoMessageSize(o);
    this.#rate = o.rate ?? 0;
    this.#openLoop = this.#rate > 0;
    this.#sel = sel.DefaultSelector<EchoConn>();
    this.#slab = sys.allocBuffer(RECV_BUFFER + (o.connections + 1) * this.#size);
    this.#connectDeadline = performance.now() + o.connectTimeoutMs;
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  get selectorName(): string {
    return this.#sel.name;
  }

  /**
   * Run until `until` (performance.now) or the end, blocking in select()
   * no later than that. Returns true once the run is over.
   */
  run(until: number): boolean {
    while (!this.done) {
      const now = performance.now();
      const wait = this.#timers(now);
      if (this.done) break;
      if (now >= until) return false;
      this.#poll(Math.max(0, Math.min(wait, until - now)));
    }
    return true;
  }

  result(): DriverResult {
    const r: DriverResult = {
      driver: `selector:${this.#sel.name}`,
      established: this.#established,
      ops: this.#ops,
      bytes: this.#bytes,
      windowSec: this.#o.durationSec,
      histogram: encodeHistogram(this.#hist),
      errors: this.#errors,
      extra: {},
    };
    if (this.#openLoop) r.targetRate = this.#rate;
    return r;
  }

  /** Close every socket and the selector (idempotent). */
  close(): void {
    for (const c of this.#conns) this.#drop(c, null);
    this.#sel.close();
  }

  // -------------------------------------------------------------------------
  // Time: connect admission, phases, timeouts, the open-loop schedule.

  /** Do what is due at `now`; returns ms until something is due next. */
  #timers(now: number): number {
    if (this.phase === 'connecting') {
      if (now >= this.#connectDeadline) {
        // Connects still in flight at the deadline have failed; the ones
        // never started are visible as established < connections.
        for (const c of this.#conns) if (c.state === CONNECTING) this.#drop(c, 'connect timeout');
        this.#nextConnect = this.#o.connections;
      }
      this.#admitConnects();
      if (this.#connecting > 0 || this.#nextConnect < this.#o.connections) return this.#connectDeadline - now;
      this.#startClock(now);
    }
    if (this.phase === 'connected' && now >= this.#windowStart) {
      this.#established = this.#alive();
      this.#setPhase('measuring');
    }
    if (now >= this.#windowEnd) {
      this.#setPhase('draining');
      this.close();
      this.phase = 'done';
      return 0;
    }
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + SWEEP_MS;
      this.#sweep(now);
    }
    let due = Math.min(this.#nextSweep, this.phase === 'connected' ? this.#windowStart : this.#windowEnd);
    if (this.#openLoop) due = Math.min(due, this.#schedule(now));
    return due - now;
  }

  #startClock(now: number): void {
    this.#setPhase('connected');
    this.#windowStart = now + this.#o.warmupSec * 1000;
    this.#windowEnd = this.#windowStart + this.#o.durationSec * 1000;
    this.#nextSweep = now + SWEEP_MS;
    this.#t0 = now;
    if (this.#o.warmupSec === 0) {
      this.#established = this.#alive();
      this.#setPhase('measuring');
    }
    if (!this.#openLoop) for (const c of this.#conns) if (c.state === OPEN) this.#send(c, now);
  }

  #setPhase(p: DriverPhase): void {
    this.phase = p;
    this.#onPhase(p);
  }

  #alive(): number {
    let n = 0;
    for (const c of this.#conns) if (c.state === OPEN) n++;
    return n;
  }

  #sweep(now: number): void {
    const limit = this.#o.timeoutMs;
    for (const c of this.#conns) {
      if (c.state === OPEN && c.pn > 0 && now - (c.starts[c.ph] ?? now) > limit) this.#drop(c, 'timeout');
    }
  }

  /** Issue every message due by `now`; returns when the next one is due. */
  #schedule(now: number): number {
    const rate = this.#rate;
    // Message k is due at t0 + k/rate, whatever now is: messages 0..due-1
    // are due by now (the same slots as the net driver).
    const due = Math.floor(((now - this.#t0) / 1000) * rate) + 1;
    const conns = this.#conns;
    const n = conns.length;
    while (this.#issued < due) {
      const intended = this.#t0 + (this.#issued / rate) * 1000;
      this.#issued++;
      let sent = false;
      for (let tries = n; tries > 0; tries--) {
        const c = conns[this.#rr++ % n];
        if (c !== undefined && c.state === OPEN) {
          this.#send(c, intended);
          sent = true;
          break;
        }
      }
      // Every connection is gone: the schedule still asked for this message; count it, never drop it silently.
      if (!sent && intended >= this.#windowStart && intended < this.#windowEnd) bumpError(this.#errors, 'unsent');
    }
    const next = this.#t0 + (this.#issued / rate) * 1000;
    // Sleep at least a tick: latency still counts from the intended time.
    return Math.max(next, now + OPEN_LOOP_TICK_MS);
  }

  // -------------------------------------------------------------------------
  // Connects

  #admitConnects(): void {
    const o = this.#o;
    while (this.#connecting < o.connectConcurrency && this.#nextConnect < o.connections) {
      const id = this.#nextConnect++;
      let r: { fd: number; pending: boolean };
      try {
        r = sys.connectTcp(o.host, o.port);
      } catch (err) {
        bumpError(this.#errors, `connect ${(err as { code?: string }).code ?? 'error'}`);
        continue;
      }
      const c = new EchoConn(id, r.fd, RECV_BUFFER + (id + 1) * this.#size);
      this.#conns.push(c);
      if (r.pending) {
        this.#connecting++;
        this.#sel.register(r.fd, sel.EVENT_WRITE, c);
      } else {
        c.state = OPEN;
        c.events = sel.EVENT_READ;
        this.#sel.register(r.fd, sel.EVENT_READ, c);
      }
    }
  }

  #connected(c: EchoConn): void {
    this.#connecting--;
    let err: number;
    try {
      err = sys.socketError(c.fd);
    } catch (e) {
      err = (e as { errno?: number }).errno ?? sys.EINVAL;
    }
    if (err !== 0) {
      c.state = OPEN; // counted by #drop as a connect failure, not a live one
      this.#drop(c, `connect ${sys.errnoName(err)}`);
      return;
    }
    c.state = OPEN;
    c.events = sel.EVENT_READ;
    this.#sel.modify(c.fd, sel.EVENT_READ);
  }

  // -------------------------------------------------------------------------
  // IO

  #poll(timeoutMs: number): void {
    const r = this.#sel.select(timeoutMs);
    for (let i = 0; i < r.count; i++) {
      const key = r.keys[i];
      if (key === undefined) continue;
      const c = key.data;
      const ev = r.events[i] ?? 0;
      if (c.state === CONNECTING) {
        this.#connected(c);
        continue;
      }
      if ((ev & sel.EVENT_WRITE) !== 0 && c.state === OPEN) this.#flush(c);
      if ((ev & sel.EVENT_READ) !== 0 && c.state === OPEN) this.#readable(c);
    }
  }

  #send(c: EchoConn, start: number): void {
    const size = this.#size;
    const seq = c.nextSeq++;
    this.#pushStart(c, start);
    const buf = this.#slab;
    // The head message is written where it will be verified; later ones
    // (open loop) go through the scratch slot.
    const off = c.pn === 1 ? c.expOff : SCRATCH_OFF;
    fillMessageAt(buf, off, size, c.id, seq);
    if (c.outTail > c.outHead) {
      this.#enqueue(c, buf, off, size);
      return;
    }
    const n = sys.send(c.fd, buf, off, size);
    if (n === size) return;
    if (n >= 0) this.#enqueue(c, buf, off + n, size - n);
    else if (n === sys.NEG_EAGAIN || n === sys.NEG_EINTR) this.#enqueue(c, buf, off, size);
    else this.#drop(c, errorKind(n));
  }

  #pushStart(c: EchoConn, start: number): void {
    let cap = c.starts.length;
    if (c.pn === cap) {
      // Open loop with a slow server: grow the ring (rare; bounded by timeoutMs).
      const grown = new Float64Array(cap * 2);
      for (let i = 0; i < c.pn; i++) grown[i] = c.starts[(c.ph + i) & (cap - 1)] ?? 0;
      c.starts = grown;
      c.ph = 0;
      cap *= 2;
    }
    c.starts[(c.ph + c.pn) & (cap - 1)] = start;
    c.pn++;
  }

  #enqueue(c: EchoConn, buf: Buffer, off: number, len: number): void {
    let out = c.out;
    if (out === null || c.outTail + len > out.length) {
      const used = c.outTail - c.outHead;
      let cap = out === null ? Math.max(4096, 2 * this.#size) : out.length;
      while (cap < used + len) cap *= 2;
      const next = cap === out?.length ? out : Buffer.allocUnsafe(cap);
      if (out !== null) out.copy(next, 0, c.outHead, c.outTail);
      c.out = out = next;
      c.outHead = 0;
      c.outTail = used;
    }
    buf.copy(out, c.outTail, off, off + len);
    c.outTail += len;
    this.#want(c, sel.EVENT_READ | sel.EVENT_WRITE);
  }

  #flush(c: EchoConn): void {
    const out = c.out;
    if (out === null || c.outTail === c.outHead) {
      this.#want(c, sel.EVENT_READ);
      return;
    }
    const len = c.outTail - c.outHead;
    const n = sys.send(c.fd, out, c.outHead, len);
    if (n >= 0) {
      c.outHead += n;
      if (c.outHead === c.outTail) {
        c.outHead = c.outTail = 0;
        this.#want(c, sel.EVENT_READ);
      }
    } else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) {
      this.#drop(c, errorKind(n));
    }
  }

  #want(c: EchoConn, events: number): void {
    if (c.events === events) return;
    c.events = events;
    this.#sel.modify(c.fd, events);
  }

  #readable(c: EchoConn): void {
    const buf = this.#slab;
    const n = sys.recv(c.fd, buf, 0, RECV_BUFFER);
    if (n <= 0) {
      if (n === 0) this.#drop(c, 'closed');
      else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) this.#drop(c, errorKind(n));
      return;
    }
    const size = this.#size;
    const slab = this.#slab;
    let now = -1;
    let off = 0;
    while (off < n) {
      if (c.pn === 0) {
        // Bytes nobody asked for.
        this.#drop(c, 'verify');
        return;
      }
      const want = size - c.received;
      const take = want < n - off ? want : n - off;
      if (firstMismatchAt(slab, c.expOff + c.received, want, buf, off, take) !== -1) {
        this.#drop(c, 'verify');
        return;
      }
      c.received += take;
      off += take;
      if (c.received < size) break;
      if (now < 0) now = performance.now();
      const start = c.starts[c.ph] ?? now;
      c.ph = (c.ph + 1) & (c.starts.length - 1);
      c.pn--;
      c.received = 0;
      if (now >= this.#windowStart && now < this.#windowEnd) {
        this.#ops++;
        this.#bytes += 2 * size;
        recordUs(this.#hist, (now - start) * 1000);
      }
      if (c.pn > 0) fillMessageAt(slab, c.expOff, size, c.id, c.nextSeq - c.pn);
      else if (!this.#openLoop && this.phase !== 'draining') {
        this.#send(c, now);
        if (c.state !== OPEN) return;
      }
    }
  }

  #drop(c: EchoConn, kind: string | null): void {
    if (c.state === DEAD) return;
    if (c.state === CONNECTING) this.#connecting--;
    c.state = DEAD;
    // Failures after the window closed are our own teardown, not the server's.
    if (kind !== null && this.phase !== 'draining' && this.phase !== 'done') bumpError(this.#errors, kind);
    if (this.#sel.get(c.fd) !== undefined) this.#sel.unregister(c.fd);
    sys.close(c.fd);
  }
}

/** Error kind of a negative-errno send/recv result, as the net driver names them. */
function errorKind(negErrno: number): string {
  const e = -negErrno;
  if (e === sys.ECONNRESET || e === sys.EPIPE) return 'reset';
  return sys.errnoName(e);
}
