/**
 * The client half of a load driver on the Selector layer (non-blocking
 * sockets, DefaultSelector), shared by the echo and http selector drivers.
 * The same closed/open-loop semantics as the node:net drivers, built to
 * measure servers faster than a node:net client can:
 *
 * - one select() hands back every ready connection and the loop serves all
 *   of them before it waits again (batched work per wake-up);
 * - one receive area in one preallocated slab; a send the socket does not
 *   take whole is the only thing copied, into that connection's queue;
 * - connects are non-blocking and bounded (connectConcurrency in flight);
 * - the phases (connected / measuring / draining) are kept by the loop's own
 *   clock, so they are emitted on time even while the loop never returns to
 *   Node's event loop (the worker_thread mode).
 *
 * A workload subclass says what an op is: what to send when the clock
 * starts (closed loop) or a slot comes due (open loop), and how to read and
 * verify replies. This file is pure loop: selector-driver.ts runs it in a
 * worker_thread or in slices on the main thread.
 */
import * as sel from '../../strategies/selectors/index.js';
import * as sys from '../../strategies/sys/index.js';
import { bumpError, phaseClock, type DriverOptions, type DriverPhase, type DriverResult } from './driver.js';
import { encodeHistogram, newHistogram, recordUs, type LatencyHistogram } from '../../core/latency.js';
import { GATE_POLL_MS } from './clock.js';
import { WindowGate } from './window-gate.js';

/** The options a loop needs (host already an IP literal). */
export type SelectorLoopOptions = Omit<DriverOptions, 'onPhase'>;

/** Bytes one recv() may bring; the slab's first RECV_BUFFER bytes. */
export const RECV_BUFFER = 64 * 1024;
/** How often in-flight ops (and reconnects) are checked against their deadlines. */
const SWEEP_MS = 100;
/** Open loop: the longest the loop sleeps between two scheduled sends. */
const OPEN_LOOP_TICK_MS = 1;

export const CONNECTING = 0;
export const OPEN = 1;
export const DEAD = 2;

export class ClientConn {
  state = CONNECTING;
  /** Events registered with the selector. */
  events = sel.EVENT_WRITE;
  /** performance.now() when the connect started. */
  since = 0;
  /** Intended send times of ops in flight, oldest first: a ring. */
  starts = new Float64Array(4);
  ph = 0;
  pn = 0;
  /** Unsent bytes (allocated the first time a send comes up short). */
  out: Buffer | null = null;
  outHead = 0;
  outTail = 0;

  constructor(
    /** Which of the `connections` this is (a reconnect keeps its slot). */
    readonly slot: number,
    readonly fd: number,
  ) {}
}

export type LoopPhase = 'connecting' | DriverPhase | 'done';

export type PhaseListener = (p: DriverPhase, atMs: number) => void;

export abstract class SelectorClientLoop<C extends ClientConn> {
  protected readonly o: SelectorLoopOptions;
  protected readonly openLoop: boolean;
  readonly #rate: number;
  readonly #sel: sel.Selector<C>;
  /**
   * One buffer for the hot-path IO, so recv and send hand C the same Buffer
   * (sys.addressOf's one-entry cache always hits): [0, RECV_BUFFER)
   * receives; the subclass lays out the rest (`slabExtra` bytes).
   */
  protected readonly slab: Buffer;
  readonly #hist: LatencyHistogram = newHistogram();
  protected readonly errors: Record<string, number> = {};
  /** By slot. */
  protected readonly conns: (C | undefined)[] = [];
  readonly #onPhase: PhaseListener;
  /** Opens the window when the load child says (absent: warmupSec after connecting). */
  readonly #gate: WindowGate | undefined;

  phase: LoopPhase = 'connecting';
  #nextConnect = 0;
  #connecting = 0;
  readonly #connectDeadline: number;
  #windowStart = Number.POSITIVE_INFINITY;
  #windowEnd = Number.POSITIVE_INFINITY;
  #nextSweep = Number.POSITIVE_INFINITY;
  #t0 = 0;
  #issued = 0;
  #rr = 0;
  #ops = 0;
  #bytes = 0;
  #established = 0;

  constructor(o: SelectorLoopOptions, onPhase: PhaseListener, slabExtra: number) {
    this.o = o;
    this.#onPhase = onPhase;
    this.#rate = o.rate ?? 0;
    this.openLoop = this.#rate > 0;
    this.#sel = sel.DefaultSelector<C>();
    this.slab = sys.allocBuffer(RECV_BUFFER + slabExtra);
    this.#connectDeadline = performance.now() + o.connectTimeoutMs;
    this.#gate = o.gate === undefined ? undefined : new WindowGate(o.gate);
  }

  // -------------------------------------------------------------------------
  // What a workload supplies

  protected abstract newConn(slot: number, fd: number): C;
  /** Closed loop: the first op(s) on an open connection once the clock runs. */
  protected abstract start(c: C, now: number): void;
  /** Open loop: one op on `c`, timed from `intended`; false if `c` cannot take one now. */
  protected abstract issue(c: C, intended: number): boolean;
  /** slab[0, n) arrived on `c` at `now`. */
  protected abstract received(c: C, n: number, now: number): void;
  /** Workload figures for DriverResult.extra. */
  protected extra(): Record<string, number> {
    return {};
  }
  /** The peer closed `c` (recv returned 0): a failure unless the workload knows better. */
  protected peerClosed(c: C): void {
    this.drop(c, 'closed');
  }
  /** The error kind of an op on `c` that outlived timeoutMs. */
  protected timeoutKind(_c: C): string {
    return 'timeout';
  }
  /** `established` as the window opens: live connections, unless a workload says otherwise. */
  protected countEstablished(): number {
    let n = 0;
    for (const c of this.conns) if (c?.state === OPEN) n++;
    return n;
  }

  // -------------------------------------------------------------------------
  // Running

  get done(): boolean {
    return this.phase === 'done';
  }

  /** Whether new ops may still be started (the window has not closed). */
  get running(): boolean {
    return this.phase !== 'draining' && this.phase !== 'done';
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
      windowSec: this.o.durationSec,
      histogram: encodeHistogram(this.#hist),
      errors: this.errors,
      extra: this.extra(),
    };
    if (this.openLoop) r.targetRate = this.#rate;
    return r;
  }

  /** Close every socket and the selector (idempotent). */
  close(): void {
    for (const c of this.conns) if (c !== undefined) this.drop(c, null);
    this.#sel.close();
  }

  // -------------------------------------------------------------------------
  // Helpers for workloads

  protected pushStart(c: C, start: number): void {
    let cap = c.starts.length;
    if (c.pn === cap) {
      // Pipelining or open loop with a slow server: grow the ring (rare; bounded by timeoutMs).
      const grown = new Float64Array(cap * 2);
      for (let i = 0; i < c.pn; i++) grown[i] = c.starts[(c.ph + i) & (cap - 1)] ?? 0;
      c.starts = grown;
      c.ph = 0;
      cap *= 2;
    }
    c.starts[(c.ph + c.pn) & (cap - 1)] = start;
    c.pn++;
  }

  /**
   * The oldest op in flight on `c` completed at `now`, moving `bytes`:
   * recorded when inside the window. Returns false if none was in flight.
   */
  protected complete(c: C, now: number, bytes: number): boolean {
    if (c.pn === 0) return false;
    const start = c.starts[c.ph] ?? now;
    c.ph = (c.ph + 1) & (c.starts.length - 1);
    c.pn--;
    if (now >= this.#windowStart && now < this.#windowEnd) {
      this.#ops++;
      this.#bytes += bytes;
      recordUs(this.#hist, (now - start) * 1000);
    }
    return true;
  }

  /** The oldest op in flight on `c` ended without counting (a wrong reply). Returns false if none was in flight. */
  protected forget(c: C): boolean {
    if (c.pn === 0) return false;
    c.ph = (c.ph + 1) & (c.starts.length - 1);
    c.pn--;
    return true;
  }

  /** Send buf[off, off+len) on `c`, queueing what the socket does not take. */
  protected sendBytes(c: C, buf: Buffer, off: number, len: number): void {
    if (c.outTail > c.outHead) {
      this.#enqueue(c, buf, off, len);
      return;
    }
    const n = sys.send(c.fd, buf, off, len);
    if (n === len) return;
    if (n >= 0) this.#enqueue(c, buf, off + n, len - n);
    else if (n === sys.NEG_EAGAIN || n === sys.NEG_EINTR) this.#enqueue(c, buf, off, len);
    else this.drop(c, errorKind(n));
  }

  protected drop(c: C, kind: string | null): void {
    if (c.state === DEAD) return;
    if (c.state === CONNECTING) this.#connecting--;
    c.state = DEAD;
    // Failures after the window closed are our own teardown, not the server's.
    if (kind !== null && this.running) bumpError(this.errors, kind);
    if (this.#sel.get(c.fd) !== undefined) this.#sel.unregister(c.fd);
    sys.close(c.fd);
  }

  /** Close `c` (not a failure) and, while the window is open, connect its slot again. */
  protected reconnect(c: C): void {
    this.drop(c, null);
    if (this.running) this.#open(c.slot, performance.now());
  }

  // -------------------------------------------------------------------------
  // Time: connect admission, phases, timeouts, the open-loop schedule.

  /** Do what is due at `now`; returns ms until something is due next. */
  #timers(now: number): number {
    if (this.phase === 'connecting') {
      if (now >= this.#connectDeadline) {
        // Connects still in flight at the deadline have failed; the ones
        // never started are visible as established < connections.
        for (const c of this.conns) if (c?.state === CONNECTING) this.drop(c, 'connect timeout');
        this.#nextConnect = this.o.connections;
      }
      while (this.#connecting < this.o.connectConcurrency && this.#nextConnect < this.o.connections) {
        this.#open(this.#nextConnect++, now);
      }
      if (this.#connecting > 0 || this.#nextConnect < this.o.connections) return this.#connectDeadline - now;
      this.#startClock(now);
    }
    if (this.phase === 'connected' && this.#windowStart === Number.POSITIVE_INFINITY && this.#gate !== undefined) {
      const t = this.#gate.opensAtLocal();
      // Seen late (a long select): the window starts now and still lasts its full length.
      if (!Number.isNaN(t)) this.#openWindowAt(Math.max(t, now));
    }
    if (this.phase === 'connected' && now >= this.#windowStart) {
      this.#established = this.countEstablished();
      this.#setPhase('measuring', this.#windowStart);
    }
    if (now >= this.#windowEnd) {
      this.#setPhase('draining', this.#windowEnd);
      this.close();
      this.phase = 'done';
      return 0;
    }
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + SWEEP_MS;
      this.#sweep(now);
    }
    let due = Math.min(this.#nextSweep, this.phase === 'connected' ? this.#windowStart : this.#windowEnd);
    // Waiting for the gate: look at it often (it is set a little ahead of time).
    if (this.phase === 'connected' && this.#windowStart === Number.POSITIVE_INFINITY) due = Math.min(due, now + GATE_POLL_MS);
    if (this.openLoop) due = Math.min(due, this.#schedule(now));
    return due - now;
  }

  #startClock(now: number): void {
    this.#setPhase('connected', now);
    this.#nextSweep = now + SWEEP_MS;
    this.#t0 = now;
    if (this.#gate === undefined) this.#openWindowAt(now + this.o.warmupSec * 1000);
    if (this.phase === 'connected' && this.o.warmupSec === 0 && this.#windowStart <= now) {
      this.#established = this.countEstablished();
      this.#setPhase('measuring', this.#windowStart);
    }
    if (!this.openLoop) for (const c of this.conns) if (c?.state === OPEN) this.start(c, now);
  }

  #openWindowAt(start: number): void {
    this.#windowStart = start;
    this.#windowEnd = start + this.o.durationSec * 1000;
  }

  /**
   * `at` is the performance.now() the phase is defined by (the window's own
   * bounds, which decide what is recorded), not when this check ran.
   */
  #setPhase(p: DriverPhase, at: number): void {
    this.phase = p;
    this.#onPhase(p, phaseClock(at));
  }

  #sweep(now: number): void {
    const limit = this.o.timeoutMs;
    for (const c of this.conns) {
      if (c === undefined) continue;
      if (c.state === OPEN && c.pn > 0 && now - (c.starts[c.ph] ?? now) > limit) this.drop(c, this.timeoutKind(c));
      else if (c.state === CONNECTING && now - c.since > this.o.connectTimeoutMs) this.drop(c, 'connect timeout');
    }
  }

  /** Issue every op due by `now`; returns when the next one is due. */
  #schedule(now: number): number {
    const rate = this.#rate;
    // Op k is due at t0 + k/rate, whatever now is: ops 0..due-1 are due by now.
    const due = Math.floor(((now - this.#t0) / 1000) * rate) + 1;
    const conns = this.conns;
    const n = conns.length;
    while (this.#issued < due) {
      const intended = this.#t0 + (this.#issued / rate) * 1000;
      this.#issued++;
      let sent = false;
      for (let tries = n; tries > 0 && !sent; tries--) {
        const c = conns[this.#rr++ % n];
        if (c !== undefined && c.state === OPEN) sent = this.issue(c, intended);
      }
      // Every connection is gone: the schedule still asked for this op; count it, never drop it silently.
      if (!sent && intended >= this.#windowStart && intended < this.#windowEnd) bumpError(this.errors, 'unsent');
    }
    const next = this.#t0 + (this.#issued / rate) * 1000;
    // Sleep at least a tick: latency still counts from the intended time.
    return Math.max(next, now + OPEN_LOOP_TICK_MS);
  }

  // -------------------------------------------------------------------------
  // Connects

  #open(slot: number, now: number): void {
    let r: { fd: number; pending: boolean };
    try {
      r = sys.connectTcp(this.o.host, this.o.port);
    } catch (err) {
      bumpError(this.errors, `connect ${(err as { code?: string }).code ?? 'error'}`);
      return;
    }
    const c = this.newConn(slot, r.fd);
    c.since = now;
    this.conns[slot] = c;
    if (r.pending) {
      this.#connecting++;
      this.#sel.register(r.fd, sel.EVENT_WRITE, c);
    } else {
      c.state = OPEN;
      c.events = sel.EVENT_READ;
      this.#sel.register(r.fd, sel.EVENT_READ, c);
      if (this.phase !== 'connecting' && !this.openLoop && this.running) this.start(c, now);
    }
  }

  #connected(c: C): void {
    this.#connecting--;
    let err: number;
    try {
      err = sys.socketError(c.fd);
    } catch (e) {
      err = (e as { errno?: number }).errno ?? sys.EINVAL;
    }
    c.state = OPEN;
    if (err !== 0) {
      this.drop(c, `connect ${sys.errnoName(err)}`);
      return;
    }
    c.events = sel.EVENT_READ;
    this.#sel.modify(c.fd, sel.EVENT_READ);
    // A reconnect while the clock runs starts work at once.
    if (this.phase !== 'connecting' && !this.openLoop && this.running) this.start(c, performance.now());
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

  #enqueue(c: C, buf: Buffer, off: number, len: number): void {
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
    buf.copy(out, c.outTail, off, off + len);
    c.outTail += len;
    this.#want(c, sel.EVENT_READ | sel.EVENT_WRITE);
  }

  #flush(c: C): void {
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

  #want(c: C, events: number): void {
    if (c.events === events) return;
    c.events = events;
    this.#sel.modify(c.fd, events);
  }

  #readable(c: C): void {
    const n = sys.recv(c.fd, this.slab, 0, RECV_BUFFER);
    if (n > 0) {
      this.received(c, n, performance.now());
      return;
    }
    if (n === 0) this.peerClosed(c);
    else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) this.drop(c, errorKind(n));
  }
}

/** Error kind of a negative-errno send/recv result, as the net drivers name them. */
function errorKind(negErrno: number): string {
  const e = -negErrno;
  if (e === sys.ECONNRESET || e === sys.EPIPE) return 'reset';
  return sys.errnoName(e);
}
