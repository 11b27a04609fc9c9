/**
 * What every loop-driven load transport shares, whatever moves its bytes
 * (the Selector layer, io_uring): the connections of this thread by slot,
 * bounded non-blocking connects, the window (window.ts), the open-loop
 * schedule (schedule.ts), the timeout sweep, the drain after the window,
 * the stall seam, and the result. A subclass opens sockets, sends, and
 * waits for IO no later than the time this loop says something is due.
 */
import type { ClientConn, ClientSession, ClientWorkload } from '../../core/client.js';
import { connectTcp, getsockname } from '../../strategies/sys/index.js';
import type { DriverPhase } from './driver.js';
import { LoadRecorder } from './recorder.js';
import { openLoopAt, type OpenLoopSchedule } from './schedule.js';
import { LoadWindow } from './window.js';
import { countUnserved, notYetTaken, TAKEN_POLL_MS } from './unserved.js';

/** How often in-flight ops (and connects) are checked against their deadlines. */
const SWEEP_MS = 100;

export const CONNECTING = 0;
export const OPEN = 1;
export const DEAD = 2;

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

/** A connection of a loop transport; subclasses add their IO state. */
export class LoopConn implements ClientConn {
  state = CONNECTING;
  /** performance.now() when the connect started. */
  since = 0;
  session: ClientSession | undefined;

  constructor(
    readonly loop: LoadLoop<LoopConn>,
    readonly slot: number,
    readonly fd: number,
  ) {}

  send(buf: Uint8Array, off = 0, len = buf.length - off): void {
    if (this.state === OPEN) this.loop.sendOn(this, buf, off, len);
  }

  fail(kind: string): void {
    this.loop.drop(this, kind);
  }

  reconnect(): void {
    this.loop.reconnect(this);
  }
}

export abstract class LoadLoop<C extends LoopConn> {
  protected readonly o: TransportOptions;
  protected readonly client: ClientWorkload;
  readonly #ev: TransportEvents;
  protected readonly window: LoadWindow;
  protected readonly rec: LoadRecorder;
  /** By local index (slot - first). */
  protected readonly conns: (C | undefined)[] = [];
  readonly #issuers: number;
  #schedule: OpenLoopSchedule | undefined;
  #nextConnect = 0;
  /** Connects in flight. */
  protected connecting = 0;
  readonly #connectDeadline: number;
  /** The server has taken every connection of this thread (or the connect deadline passed): the load may start. */
  #allTaken = false;
  #nextTakenCheck = 0;
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
    this.o = o;
    this.client = client;
    this.#ev = ev;
    this.window = new LoadWindow(
      o,
      (p, at) => ev.phase(p, at),
      () => {
        this.#established = this.#countEstablished();
      },
      () => {
        countUnserved(o, this.conns, this.window.start, this.rec, (c) => (c.state === OPEN ? c.session : undefined), (c) => getsockname(c.fd));
      },
    );
    this.rec = new LoadRecorder(this.window);
    this.#issuers = Math.min(o.count, client.issuers ?? o.count);
    this.#connectDeadline = performance.now() + o.connectTimeoutMs;
  }

  // -------------------------------------------------------------------------
  // What a transport supplies

  /** "selector:epoll", "uring". */
  protected abstract readonly driverName: string;
  /** Start a non-blocking connect of local slot `index` (register it with `track`). */
  protected abstract openSocket(index: number, now: number): void;
  /** Send buf[off, off+len) on `c`, keeping what the socket does not take now. */
  abstract sendOn(c: C, buf: Uint8Array, off: number, len: number): void;
  /** Stop watching `c` and release its socket (its state is already DEAD). */
  protected abstract release(c: C): void;
  /** Wait for IO at most `timeoutMs` and handle what is ready. */
  protected abstract poll(timeoutMs: number): void;
  /** Release what the transport holds (the selector, the ring). */
  protected abstract closeIo(): void;

  // -------------------------------------------------------------------------
  // Running

  get done(): boolean {
    return this.#done;
  }

  /** Run until `until` (performance.now) or the end, waiting for IO no later than that. Returns true once the run is over. */
  run(until: number): boolean {
    while (!this.#done) {
      const now = performance.now();
      const due = this.#timers(now);
      if (this.#done) break;
      if (now >= until) return false;
      this.poll(Math.max(0, Math.min(due, until) - now));
    }
    return true;
  }

  result(): ThreadResult {
    return this.rec.result(this.driverName, this.#established, this.#finished ?? this.client.finish?.() ?? {});
  }

  /** Close every socket and the IO layer (idempotent). */
  close(): void {
    if (this.#done) return;
    for (const c of this.conns) if (c !== undefined) this.drop(c, null);
    this.closeIo();
    this.#done = true;
  }

  drop(c: C, kind: string | null, reconnecting = false): void {
    if (c.state === DEAD) return;
    if (c.state === CONNECTING) this.connecting--;
    const wasOpen = c.state === OPEN;
    c.state = DEAD;
    if (kind !== null) this.rec.error(kind);
    this.release(c);
    if (wasOpen) c.session?.onClose(reconnecting);
  }

  /** Close `c` (not a failure) and, while the window is open, connect its slot again. */
  reconnect(c: C): void {
    const again = this.window.running;
    this.drop(c, null, again);
    if (again) this.openSocket(c.slot - this.o.first, performance.now());
  }

  // -------------------------------------------------------------------------
  // For transports

  /** A non-blocking connect to the target, or undefined when it failed at once (counted as the load's error). */
  protected connectSocket(): { fd: number; pending: boolean } | undefined {
    try {
      return connectTcp(this.o.host, this.o.port);
    } catch (err) {
      this.rec.error(`connect ${(err as { code?: string }).code ?? 'error'}`);
      return undefined;
    }
  }

  /** A new connection of local slot `index` is in flight. */
  protected track(c: C, index: number, now: number, pending: boolean): void {
    c.since = now;
    this.conns[index] = c;
    if (pending) this.connecting++;
  }

  /** A pending connect of `c` finished with `err` (0: connected). */
  protected connectDone(c: C, err: number, errName: (e: number) => string): boolean {
    this.connecting--;
    if (err !== 0) {
      c.state = OPEN;
      this.drop(c, `connect ${errName(err)}`);
      return false;
    }
    return true;
  }

  /** `c` is connected: give it a session; in closed loop with the load running, start it. */
  protected opened(c: C, now: number): void {
    c.state = OPEN;
    c.session = this.client.session(c, this.rec);
    c.session.onOpen(now);
    // A reconnect while the load runs starts work at once.
    if (c.state === OPEN && this.window.phase !== 'connecting' && this.o.rate === 0 && this.window.running) c.session.onStart(now);
  }

  /** The peer closed `c` (EOF): the session says whether that is a failure. */
  protected peerClosed(c: C): void {
    c.session?.onEnd?.(performance.now());
    if (c.state === OPEN) this.drop(c, 'closed');
  }

  // -------------------------------------------------------------------------
  // Time: connect admission, phases, timeouts, the open-loop schedule, the drain.

  /** Do what is due at `now`; returns the time something is due next. */
  #timers(now: number): number {
    const w = this.window;
    if (w.phase === 'connecting') {
      if (now >= this.#connectDeadline) {
        // Connects still in flight at the deadline have failed; the ones
        // never started show as established < connections.
        for (const c of this.conns) if (c?.state === CONNECTING) this.drop(c, 'connect timeout');
        this.#nextConnect = this.o.count;
      }
      while (this.connecting < this.o.connectConcurrency && this.#nextConnect < this.o.count) this.openSocket(this.#nextConnect++, now);
      if (this.connecting > 0 || this.#nextConnect < this.o.count) return this.#connectDeadline;
      // The load starts on connections the server holds (unserved.ts, notYetTaken).
      if (!this.#allTaken) {
        if (now < this.#nextTakenCheck) return this.#nextTakenCheck;
        this.#allTaken = now >= this.#connectDeadline || notYetTaken(this.o, this.conns, (c) => c.state === OPEN, (c) => getsockname(c.fd)) === 0;
        if (!this.#allTaken) {
          this.#nextTakenCheck = now + TAKEN_POLL_MS;
          return this.#nextTakenCheck;
        }
        // Reading /proc took time (tens of ms on a busy machine): the window
        // and the schedule start on a fresh clock, next turn, not on `now`.
        return performance.now();
      }
      this.#startLoad(now);
    }
    let due = w.tick(now);
    if (!this.#saidReady && (this.client.ready?.() ?? true)) {
      this.#saidReady = true;
      this.#ev.ready();
    }
    if (this.o.stall !== undefined && !this.#stalled && w.phase === 'measuring' && now >= w.start + this.o.stall.afterMs) {
      this.#stalled = true;
      // The load side stalls, not the server: ops falling due now are sent late.
      const until = now + this.o.stall.forMs;
      while (performance.now() < until) {
        // spin
      }
    }
    if (w.phase === 'draining') {
      if (Number.isNaN(this.#drainUntil)) this.#drainUntil = now + this.o.drainMs;
      if ((this.client.drained?.() ?? true) || now >= this.#drainUntil) {
        this.#finished = this.client.finish?.() ?? {};
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
            if (w.inWindow(intended)) this.rec.error('unsent');
          },
        ),
      );
    }
    return due;
  }

  #startLoad(now: number): void {
    this.window.connected(now);
    this.#nextSweep = now + SWEEP_MS;
    if (this.o.rate > 0) this.#schedule = openLoopAt(this.o, now);
    else for (const c of this.conns) if (c?.state === OPEN) c.session?.onStart(now);
  }

  #issue(intended: number): boolean {
    const n = this.#issuers;
    for (let tries = n; tries > 0; tries--) {
      const c = this.conns[this.#rr++ % n];
      if (c?.state === OPEN && c.session?.issue(intended) === true) return true;
    }
    return false;
  }

  #sweep(now: number): void {
    const limit = this.o.timeoutMs;
    for (const c of this.conns) {
      if (c === undefined) continue;
      if (c.state === OPEN && now - (c.session?.oldestInFlight() ?? Number.POSITIVE_INFINITY) > limit) this.drop(c, c.session?.timeoutKind?.() ?? 'timeout');
      else if (c.state === CONNECTING && now - c.since > this.o.connectTimeoutMs) this.drop(c, 'connect timeout');
    }
    this.client.sweep?.(now, limit, this.rec);
  }

  #countEstablished(): number {
    let n = 0;
    for (const c of this.conns) if (c?.state === OPEN) n++;
    return this.client.established?.(n) ?? n;
  }
}

/** buf[off, off+len) into target at `at`, without a view when `buf` is a Buffer. */
export function copyInto(buf: Uint8Array, off: number, len: number, target: Buffer, at: number): void {
  if (Buffer.isBuffer(buf)) buf.copy(target, at, off, off + len);
  else target.set(buf.subarray(off, off + len), at);
}
