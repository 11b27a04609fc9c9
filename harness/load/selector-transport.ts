/**
 * The load transport on the Selector layer (non-blocking sockets,
 * DefaultSelector: epoll/kqueue), the default: it runs any workload's client
 * sessions (core/client.ts), built to measure servers faster than a
 * node:net client can:
 *
 * - one select() hands back every ready connection and the loop serves all
 *   of them before it waits again (batched work per wake-up);
 * - one preallocated slab for the hot-path IO: every recv lands in it and
 *   every small send leaves from it, so recv and send hand C the same
 *   buffer (sys.addressOf's one-entry cache always hits); a send the socket
 *   does not take whole is the only thing copied, into that connection's
 *   queue;
 * - connects are non-blocking and bounded (connectConcurrency in flight);
 * - the window is kept by the loop's own clock (window.ts), so phases are
 *   stamped on time even while the loop never returns to Node's event loop
 *   (it runs in a load thread of its own: load-thread.ts).
 */
import type { ClientConn, ClientSession, ClientWorkload } from '../../core/client.js';
import * as sel from '../../strategies/selectors/index.js';
import * as sys from '../../strategies/sys/index.js';
import type { DriverPhase } from './driver.js';
import { LoadRecorder } from './recorder.js';
import { openLoopAt, type OpenLoopSchedule } from './schedule.js';
import { LoadWindow } from './window.js';

/** Bytes one recv() may bring: the slab's first RECV_BUFFER bytes. */
const RECV_BUFFER = 64 * 1024;
/** Sends up to this size are copied into the slab's send area first (see the header). */
const SEND_AREA = 16 * 1024;
/** How often in-flight ops (and connects) are checked against their deadlines. */
const SWEEP_MS = 100;
/** recv views of these lengths are cached, so a read allocates nothing. */
const VIEW_CACHE_MAX = 16 * 1024;

const CONNECTING = 0;
const OPEN = 1;
const DEAD = 2;

/** What a load thread runs: its share of the connections, the window, the schedule. */
export interface TransportOptions {
  /** An IP literal. */
  readonly host: string;
  readonly port: number;
  /** The slots this thread owns: [first, first + count). */
  readonly first: number;
  readonly count: number;
  readonly warmupSec: number;
  readonly durationSec: number;
  readonly timeoutMs: number;
  readonly connectConcurrency: number;
  readonly connectTimeoutMs: number;
  /** Open loop: ops/s of the whole load (every thread); 0: closed loop. */
  readonly rate: number;
  /** This thread's index and the thread count (the open-loop schedule is dealt out among them). */
  readonly thread: number;
  readonly threads: number;
  /** Epoch ms of the open-loop schedule's op 0, the same for every thread (absent: when this thread connected). */
  readonly scheduleOrigin?: number;
  readonly gate?: SharedArrayBuffer;
  /** After the window, how long to wait for what is in flight (chat). */
  readonly drainMs: number;
  /** Test seam: the load thread busy-waits `forMs` once, `afterMs` into the window (a stalled load side). */
  readonly stall?: { readonly afterMs: number; readonly forMs: number };
}

export interface TransportEvents {
  phase(p: DriverPhase, atMs: number): void;
  /** The load reached its steady state (the workload's ready(), after the connects). */
  ready(): void;
}

/** What one load thread measured. */
export interface ThreadResult {
  driver: string;
  established: number;
  ops: number;
  bytes: number;
  histogram: string;
  errors: Record<string, number>;
  /** Summed over threads. */
  counts: Record<string, number>;
  /** The same in every thread. */
  figures: Record<string, number>;
}

class Conn implements ClientConn {
  state = CONNECTING;
  events = sel.EVENT_WRITE;
  /** performance.now() when the connect started. */
  since = 0;
  session: ClientSession | undefined;
  /** Unsent bytes (allocated the first time a send comes up short). */
  out: Buffer | null = null;
  outHead = 0;
  outTail = 0;

  constructor(
    readonly t: SelectorTransport,
    readonly slot: number,
    readonly fd: number,
  ) {}

  send(buf: Uint8Array, off = 0, len = buf.length - off): void {
    this.t.sendOn(this, buf, off, len);
  }

  fail(kind: string): void {
    this.t.drop(this, kind);
  }

  reconnect(): void {
    this.t.reconnect(this);
  }
}

export class SelectorTransport {
  readonly #o: TransportOptions;
  readonly #client: ClientWorkload;
  readonly #ev: TransportEvents;
  readonly #sel: sel.Selector<Conn>;
  readonly #slab: Buffer;
  readonly #views: (Buffer | undefined)[] = [];
  readonly #window: LoadWindow;
  readonly #rec: LoadRecorder;
  /** By local index (slot - first). */
  readonly #conns: (Conn | undefined)[] = [];
  readonly #issuers: number;
  #schedule: OpenLoopSchedule | undefined;
  #nextConnect = 0;
  #connecting = 0;
  readonly #connectDeadline: number;
  #nextSweep = Number.POSITIVE_INFINITY;
  #rr = 0;
  #established = 0;
  #saidReady = false;
  #drainUntil = Number.NaN;
  #stalled = false;
  #done = false;
  /** The workload's end-of-run counts, taken before the connections close (chat counts what live clients never got). */
  #finished: ReturnType<NonNullable<ClientWorkload['finish']>> | undefined;

  constructor(o: TransportOptions, client: ClientWorkload, ev: TransportEvents) {
    this.#o = o;
    this.#client = client;
    this.#ev = ev;
    this.#sel = sel.DefaultSelector<Conn>();
    this.#slab = sys.allocBuffer(RECV_BUFFER + SEND_AREA);
    this.#window = new LoadWindow(o, (p, at) => ev.phase(p, at), () => {
      this.#established = this.#countEstablished();
    });
    this.#rec = new LoadRecorder(this.#window);
    this.#issuers = Math.min(o.count, client.issuers ?? o.count);
    this.#connectDeadline = performance.now() + o.connectTimeoutMs;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Run until `until` (performance.now) or the end, blocking in select() no later than that. Returns true once the run is over. */
  run(until: number): boolean {
    while (!this.#done) {
      const now = performance.now();
      const due = this.#timers(now);
      if (this.#done) break;
      if (now >= until) return false;
      this.#poll(Math.max(0, Math.min(due, until) - now));
    }
    return true;
  }

  result(): ThreadResult {
    const fin = this.#finished ?? this.#client.finish?.() ?? {};
    return this.#rec.result(`selector:${this.#sel.name}`, this.#established, fin);
  }

  /** Close every socket and the selector (idempotent). */
  close(): void {
    for (const c of this.#conns) if (c !== undefined) this.drop(c, null);
    this.#sel.close();
    this.#done = true;
  }

  // -------------------------------------------------------------------------
  // What sessions call (through Conn)

  sendOn(c: Conn, buf: Uint8Array, off: number, len: number): void {
    if (c.state !== OPEN) return;
    if (c.outTail > c.outHead) {
      this.#enqueue(c, buf, off, len);
      return;
    }
    let n: number;
    if (len <= SEND_AREA) {
      // Through the slab: recv and send hand C one buffer (see the header).
      copyInto(buf, off, len, this.#slab, RECV_BUFFER);
      n = sys.send(c.fd, this.#slab, RECV_BUFFER, len);
      if (n === len) return;
      if (n >= 0) this.#enqueue(c, this.#slab, RECV_BUFFER + n, len - n);
      else if (n === sys.NEG_EAGAIN || n === sys.NEG_EINTR) this.#enqueue(c, this.#slab, RECV_BUFFER, len);
      else this.drop(c, errorKind(n));
      return;
    }
    n = sys.send(c.fd, buf, off, len);
    if (n === len) return;
    if (n >= 0) this.#enqueue(c, buf, off + n, len - n);
    else if (n === sys.NEG_EAGAIN || n === sys.NEG_EINTR) this.#enqueue(c, buf, off, len);
    else this.drop(c, errorKind(n));
  }

  drop(c: Conn, kind: string | null, reconnecting = false): void {
    if (c.state === DEAD) return;
    if (c.state === CONNECTING) this.#connecting--;
    const wasOpen = c.state === OPEN;
    c.state = DEAD;
    if (kind !== null) this.#rec.error(kind);
    if (this.#sel.get(c.fd) !== undefined) this.#sel.unregister(c.fd);
    sys.close(c.fd);
    if (wasOpen) c.session?.onClose(reconnecting);
  }

  /** Close `c` (not a failure) and, while the window is open, connect its slot again. */
  reconnect(c: Conn): void {
    const again = this.#window.running;
    this.drop(c, null, again);
    if (again) this.#open(c.slot - this.#o.first, performance.now());
  }

  // -------------------------------------------------------------------------
  // Time: connect admission, phases, timeouts, the open-loop schedule, the drain.

  /** Do what is due at `now`; returns the time something is due next. */
  #timers(now: number): number {
    const w = this.#window;
    if (w.phase === 'connecting') {
      if (now >= this.#connectDeadline) {
        // Connects still in flight at the deadline have failed; the ones
        // never started show as established < connections.
        for (const c of this.#conns) if (c?.state === CONNECTING) this.drop(c, 'connect timeout');
        this.#nextConnect = this.#o.count;
      }
      while (this.#connecting < this.#o.connectConcurrency && this.#nextConnect < this.#o.count) this.#open(this.#nextConnect++, now);
      if (this.#connecting > 0 || this.#nextConnect < this.#o.count) return this.#connectDeadline;
      this.#startLoad(now);
    }
    let due = w.tick(now);
    if (!this.#saidReady && (this.#client.ready?.() ?? true)) {
      this.#saidReady = true;
      this.#ev.ready();
    }
    if (this.#o.stall !== undefined && !this.#stalled && w.phase === 'measuring' && now >= w.start + this.#o.stall.afterMs) {
      this.#stalled = true;
      // The load side stalls, not the server: ops falling due now are sent late.
      const until = now + this.#o.stall.forMs;
      while (performance.now() < until) {
        // spin
      }
    }
    if (w.phase === 'draining') {
      if (Number.isNaN(this.#drainUntil)) this.#drainUntil = now + this.#o.drainMs;
      if ((this.#client.drained?.() ?? true) || now >= this.#drainUntil) {
        this.#finished = this.#client.finish?.() ?? {};
        this.close();
        return now;
      }
      due = Math.min(due, now + 10);
    }
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + SWEEP_MS;
      this.#sweep(now);
    }
    due = Math.min(due, this.#nextSweep);
    if (this.#schedule !== undefined && w.running) {
      due = Math.min(
        due,
        this.#schedule.run(
          now,
          (intended) => this.#issue(intended),
          (intended) => {
            // Every connection is gone: the schedule still asked for this op; count it, never drop it silently.
            if (w.inWindow(intended)) this.#rec.error('unsent');
          },
        ),
      );
    }
    return due;
  }

  #startLoad(now: number): void {
    this.#window.connected(now);
    this.#nextSweep = now + SWEEP_MS;
    if (this.#o.rate > 0) this.#schedule = openLoopAt(this.#o, now);
    else for (const c of this.#conns) if (c?.state === OPEN) c.session?.onStart(now);
  }

  #issue(intended: number): boolean {
    const n = this.#issuers;
    for (let tries = n; tries > 0; tries--) {
      const c = this.#conns[this.#rr++ % n];
      if (c?.state === OPEN && c.session?.issue(intended) === true) return true;
    }
    return false;
  }

  #sweep(now: number): void {
    const limit = this.#o.timeoutMs;
    for (const c of this.#conns) {
      if (c === undefined) continue;
      if (c.state === OPEN && now - (c.session?.oldestInFlight() ?? Number.POSITIVE_INFINITY) > limit) this.drop(c, c.session?.timeoutKind?.() ?? 'timeout');
      else if (c.state === CONNECTING && now - c.since > this.#o.connectTimeoutMs) this.drop(c, 'connect timeout');
    }
    this.#client.sweep?.(now, limit, this.#rec);
  }

  #countEstablished(): number {
    let n = 0;
    for (const c of this.#conns) if (c?.state === OPEN) n++;
    return this.#client.established?.(n) ?? n;
  }

  // -------------------------------------------------------------------------
  // Connects

  #open(index: number, now: number): void {
    let r: { fd: number; pending: boolean };
    try {
      r = sys.connectTcp(this.#o.host, this.#o.port);
    } catch (err) {
      this.#rec.error(`connect ${(err as { code?: string }).code ?? 'error'}`);
      return;
    }
    const c = new Conn(this, this.#o.first + index, r.fd);
    c.since = now;
    this.#conns[index] = c;
    if (r.pending) {
      this.#connecting++;
      this.#sel.register(r.fd, sel.EVENT_WRITE, c);
    } else {
      c.events = sel.EVENT_READ;
      this.#sel.register(r.fd, sel.EVENT_READ, c);
      this.#opened(c, now);
    }
  }

  #connected(c: Conn): void {
    this.#connecting--;
    let err: number;
    try {
      err = sys.socketError(c.fd);
    } catch (e) {
      err = (e as { errno?: number }).errno ?? sys.EINVAL;
    }
    if (err !== 0) {
      c.state = OPEN;
      this.drop(c, `connect ${sys.errnoName(err)}`);
      return;
    }
    c.events = sel.EVENT_READ;
    this.#sel.modify(c.fd, sel.EVENT_READ);
    this.#opened(c, performance.now());
  }

  #opened(c: Conn, now: number): void {
    c.state = OPEN;
    c.session = this.#client.session(c, this.#rec);
    c.session.onOpen(now);
    // A reconnect while the load runs starts work at once.
    if (c.state === OPEN && this.#window.phase !== 'connecting' && this.#o.rate === 0 && this.#window.running) c.session.onStart(now);
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

  #enqueue(c: Conn, buf: Uint8Array, off: number, len: number): void {
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

  #flush(c: Conn): void {
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

  #want(c: Conn, events: number): void {
    if (c.events === events) return;
    c.events = events;
    this.#sel.modify(c.fd, events);
  }

  #readable(c: Conn): void {
    const n = sys.recv(c.fd, this.#slab, 0, RECV_BUFFER);
    if (n > 0) {
      c.session?.onData(this.#view(n), performance.now());
      return;
    }
    if (n === 0) {
      // EOF: the session says whether it was a failure (http: a close that was announced is not).
      c.session?.onEnd?.(performance.now());
      if (c.state === OPEN) this.drop(c, 'closed');
    } else if (n !== sys.NEG_EAGAIN && n !== sys.NEG_EINTR) this.drop(c, errorKind(n));
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

/** buf[off, off+len) into target at `at`, without a view when `buf` is a Buffer. */
function copyInto(buf: Uint8Array, off: number, len: number, target: Buffer, at: number): void {
  if (Buffer.isBuffer(buf)) buf.copy(target, at, off, off + len);
  else target.set(buf.subarray(off, off + len), at);
}

/** Error kind of a negative-errno send/recv result, as the node:net transport names them. */
function errorKind(negErrno: number): string {
  const e = -negErrno;
  if (e === sys.ECONNRESET || e === sys.EPIPE) return 'reset';
  return sys.errnoName(e);
}
