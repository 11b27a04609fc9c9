/**
 * The blocking strategy's cross-thread connection table, in one
 * SharedArrayBuffer that the main thread, the acceptor and every pool
 * thread map as an Int32Array.
 *
 * A slot is indexed by the fd itself: an fd number names exactly one live
 * socket in the process, so no lookup structure is shared. The fd number is
 * reused as soon as it is closed, which is what the slot's protocol guards:
 *
 * - LOCK is the connection's write lock (a futex-style mutex: 0 free,
 *   1 held, 2 held with waiters). Whoever sends to the socket (its owner,
 *   or any thread broadcasting to it) holds it for the whole message, so
 *   messages never interleave; the owner closes the fd only while holding
 *   it, so a sender never writes to a reused fd number.
 * - STATE says what the fd is: FREE, QUEUED (accepted, waiting for a
 *   thread), OPEN (a thread serves it), DOOMED (shut down, its owner will
 *   close it), DOOMED_QUEUED (shut down before any thread took it),
 *   CLOSING (its owner is closing it). QUEUED and OPEN are the Hub's
 *   members: a connection joins the group when it is accepted, as the
 *   seed's ChatServer registers it at accept, not when a thread is free
 *   to read it; a broadcast is sent by the sender's thread, so a receiver
 *   needs no thread of its own to be written to.
 * - PINS lets a thread call shutdown(2) on a socket without its lock (the
 *   lock may be held by a sender blocked in send, which is exactly what
 *   shutdown must interrupt): pin, re-check STATE, shut down, unpin. The
 *   owner marks CLOSING first and waits for PINS to drop to 0 before
 *   close(2), so a pinned fd is never a reused number.
 *
 * No thread ever holds two locks, and a lock holder only ever blocks in
 * send, which SO_SNDTIMEO bounds: there is no lock cycle and no unbounded
 * wait, hence no deadlock.
 */
import { CAP_COUNTERS } from '../../core/counters.js';

/** Counters every thread bumps; index = position. Printed by name. */
export const COUNTER_NAMES = [
  'accepted',
  'closed',
  CAP_COUNTERS.poolFull,
  CAP_COUNTERS.fdTableFull,
  'closed: send timeout',
  'errors: protocol',
  'errors: worker',
  'errors: socket',
  'errors: accept',
  'pool: served',
  'pool: never served',
  CAP_COUNTERS.starved,
] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];

// Header words.
const H_STOPPING = 0;
const H_HUB_SIZE = 1;
const H_BUSY = 2;
const H_BUSY_PEAK = 3;
const H_INFLIGHT = 4;
const H_QUEUED_PEAK = 5;
const H_HIGH_FD = 6;
const H_LOGGED = 7; // bit per log kind: each kind is logged once per process
const H_LOADING = 8;
const H_COUNTERS = 9;
const HEADER_WORDS = H_COUNTERS + COUNTER_NAMES.length;

// Slot words.
const S_LOCK = 0;
const S_STATE = 1;
const S_PINS = 2;
const S_ID = 3;
const SLOT_WORDS = 4;

export const FREE = 0;
export const QUEUED = 1;
export const OPEN = 2;
export const DOOMED = 3;
export const CLOSING = 4;
export const DOOMED_QUEUED = 5;

/** A Hub member: broadcasts are sent to it. */
export function isMember(state: number): boolean {
  return state === QUEUED || state === OPEN;
}

/** fds at or above this are refused ("refused: fd table full"); 1 MiB of table. */
export const DEFAULT_TABLE_CAPACITY = 65_536;

/**
 * A connection that waited longer than this for a thread is "starved": far
 * beyond a thread's start-up, it was waiting for another connection to end.
 */
export const STARVED_US = 1_000_000;

/** Bits of H_LOGGED. */
export const LOG_PROTOCOL = 1;
export const LOG_WORKER = 2;

/** A microsecond clock shared by every thread (CLOCK_MONOTONIC, process-wide). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export class ConnTable {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly #a: Int32Array;

  constructor(sabOrCapacity: SharedArrayBuffer | number) {
    if (typeof sabOrCapacity === 'number') {
      this.capacity = sabOrCapacity;
      this.sab = new SharedArrayBuffer((HEADER_WORDS + sabOrCapacity * SLOT_WORDS) * 4);
    } else {
      this.sab = sabOrCapacity;
      this.capacity = Math.floor((sabOrCapacity.byteLength / 4 - HEADER_WORDS) / SLOT_WORDS);
    }
    this.#a = new Int32Array(this.sab);
  }

  // -- process-wide state --------------------------------------------------

  get stopping(): boolean {
    return Atomics.load(this.#a, H_STOPPING) !== 0;
  }

  stop(): void {
    Atomics.store(this.#a, H_STOPPING, 1);
  }

  /** Live Hub members (QUEUED and OPEN connections) across all threads. */
  get hubSize(): number {
    return Atomics.load(this.#a, H_HUB_SIZE);
  }

  bump(name: CounterName, n = 1): void {
    Atomics.add(this.#a, H_COUNTERS + COUNTER_NAMES.indexOf(name), n);
  }

  counter(name: CounterName): number {
    return Atomics.load(this.#a, H_COUNTERS + COUNTER_NAMES.indexOf(name));
  }

  /** True exactly once per kind per process: log the first, count the rest. */
  firstLog(kind: number): boolean {
    return (Atomics.or(this.#a, H_LOGGED, kind) & kind) === 0;
  }

  /**
   * Enter the FFI-loading gate (see connection.ts): false once stopping.
   * Sequentially consistent: either close() sees us loading, or we see it
   * stopping.
   */
  enterLoad(): boolean {
    Atomics.add(this.#a, H_LOADING, 1);
    if (!this.stopping) return true;
    this.leaveLoad();
    return false;
  }

  leaveLoad(): void {
    Atomics.sub(this.#a, H_LOADING, 1);
  }

  /** Threads inside the FFI-loading gate now. */
  get loading(): number {
    return Atomics.load(this.#a, H_LOADING);
  }

  /** Connections handed to the pool and not yet finished (running + queued). */
  get inFlight(): number {
    return Atomics.load(this.#a, H_INFLIGHT);
  }

  addInFlight(n: number): void {
    const now = Atomics.add(this.#a, H_INFLIGHT, n) + n;
    if (n > 0) this.#peak(H_QUEUED_PEAK, now - Atomics.load(this.#a, H_BUSY));
  }

  /** A thread started (+1) or finished (-1) serving a connection. */
  addBusy(n: number): void {
    const now = Atomics.add(this.#a, H_BUSY, n) + n;
    if (n > 0) this.#peak(H_BUSY_PEAK, now);
  }

  /** Connections a thread is serving now (between open and release). */
  get busy(): number {
    return Atomics.load(this.#a, H_BUSY);
  }

  get busyPeak(): number {
    return Atomics.load(this.#a, H_BUSY_PEAK);
  }

  get queuedPeak(): number {
    return Atomics.load(this.#a, H_QUEUED_PEAK);
  }

  #peak(word: number, v: number): void {
    for (;;) {
      const cur = Atomics.load(this.#a, word);
      if (v <= cur || Atomics.compareExchange(this.#a, word, cur, v) === cur) return;
    }
  }

  /** One past the highest fd ever registered: the extent a scan must cover. */
  get highFd(): number {
    return Atomics.load(this.#a, H_HIGH_FD);
  }

  // -- slots ---------------------------------------------------------------

  #base(fd: number): number {
    return HEADER_WORDS + fd * SLOT_WORDS;
  }

  state(fd: number): number {
    return Atomics.load(this.#a, this.#base(fd) + S_STATE);
  }

  id(fd: number): number {
    return Atomics.load(this.#a, this.#base(fd) + S_ID);
  }

  lock(fd: number): void {
    const w = this.#base(fd) + S_LOCK;
    if (Atomics.compareExchange(this.#a, w, 0, 1) === 0) return;
    while (Atomics.exchange(this.#a, w, 2) !== 0) {
      // Timed only as a guard: holders always notify on unlock.
      Atomics.wait(this.#a, w, 2, 100);
    }
  }

  unlock(fd: number): void {
    const w = this.#base(fd) + S_LOCK;
    if (Atomics.sub(this.#a, w, 1) !== 1) {
      Atomics.store(this.#a, w, 0);
      Atomics.notify(this.#a, w, 1);
    }
  }

  /**
   * A freshly accepted fd joins the Hub and waits for a thread. Acceptor
   * only, once the socket is ready to be written to by any thread (its
   * send timeout set). The extent a broadcast scans grows before the slot
   * is published, so a broadcast that starts after this returns reaches it.
   */
  register(fd: number, id: number): void {
    this.#peak(H_HIGH_FD, fd + 1);
    this.lock(fd);
    Atomics.store(this.#a, this.#base(fd) + S_ID, id);
    Atomics.add(this.#a, H_HUB_SIZE, 1);
    Atomics.store(this.#a, this.#base(fd) + S_STATE, QUEUED);
    this.unlock(fd);
  }

  /**
   * A thread takes the connection: QUEUED → OPEN (it stays in the Hub), or
   * DOOMED_QUEUED → DOOMED (a send timed out while it waited: the thread
   * finds it shut down and closes it). False when it is not this thread's
   * to serve (stopping: claimed by the main thread). Owner only.
   */
  open(fd: number): boolean {
    const b = this.#base(fd) + S_STATE;
    if (Atomics.compareExchange(this.#a, b, QUEUED, OPEN) === QUEUED) return true;
    return Atomics.compareExchange(this.#a, b, DOOMED_QUEUED, DOOMED) === DOOMED_QUEUED;
  }

  /**
   * QUEUED or DOOMED_QUEUED → CLOSING (leaving the Hub), for whoever closes
   * a connection no thread took: the stopping main thread, or a thread that
   * finds the server stopping. The CAS makes exactly one of them the closer
   * (it then calls release, whose lock waits out a sender still writing to
   * it); the other leaves the fd alone, as it may be closed and its number
   * reused. The id check cannot meet a reused number re-registered: claims
   * happen only once stopping, and the acceptor registers nothing after that.
   */
  claimQueued(fd: number, id: number): boolean {
    if (this.id(fd) !== id) return false;
    const b = this.#base(fd) + S_STATE;
    if (Atomics.compareExchange(this.#a, b, QUEUED, CLOSING) === QUEUED) {
      Atomics.sub(this.#a, H_HUB_SIZE, 1);
      return true;
    }
    return Atomics.compareExchange(this.#a, b, DOOMED_QUEUED, CLOSING) === DOOMED_QUEUED;
  }

  /**
   * A member leaves the Hub, no further broadcast reaches it: OPEN →
   * DOOMED, QUEUED → DOOMED_QUEUED (its thread, when one takes it, finds
   * it doomed). Caller holds the lock. Returns false if it was no member.
   */
  doom(fd: number): boolean {
    const b = this.#base(fd) + S_STATE;
    if (Atomics.compareExchange(this.#a, b, OPEN, DOOMED) !== OPEN && Atomics.compareExchange(this.#a, b, QUEUED, DOOMED_QUEUED) !== QUEUED) return false;
    Atomics.sub(this.#a, H_HUB_SIZE, 1);
    return true;
  }

  /**
   * Shut a live socket down from any thread without its lock (see top).
   * Returns whether it was live.
   */
  shutdownLive(fd: number, shutdown: (fd: number) => void): boolean {
    const pins = this.#base(fd) + S_PINS;
    Atomics.add(this.#a, pins, 1);
    try {
      const st = this.state(fd);
      if (st !== QUEUED && st !== OPEN && st !== DOOMED && st !== DOOMED_QUEUED) return false;
      shutdown(fd);
      return true;
    } finally {
      if (Atomics.sub(this.#a, pins, 1) === 1) Atomics.notify(this.#a, pins);
    }
  }

  /**
   * Close the fd and free its slot: lock (waits out any sender), leave the
   * Hub, mark CLOSING, wait for pinned shutdowns, close, FREE, unlock. Only
   * the thread that owns the connection (or won claimQueued) calls it, once.
   */
  release(fd: number, close: (fd: number) => void): void {
    this.lock(fd);
    this.doom(fd);
    Atomics.store(this.#a, this.#base(fd) + S_STATE, CLOSING);
    const pins = this.#base(fd) + S_PINS;
    for (;;) {
      const p = Atomics.load(this.#a, pins);
      if (p === 0) break;
      // A pin lasts one shutdown(2) call; the timeout guards a lost notify.
      Atomics.wait(this.#a, pins, p, 5);
    }
    close(fd);
    Atomics.store(this.#a, this.#base(fd) + S_STATE, FREE);
    this.unlock(fd);
  }
}
