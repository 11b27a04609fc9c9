/**
 * The phases every driver goes through: connect, warm up (load, not
 * recorded), measure (recorded), stop. One clock per driver run so that the
 * window is the same for every connection.
 */
import { phaseClock, type DriverOptions, type DriverPhase } from './driver.js';
import { WindowGate } from './window-gate.js';

/** How often a clock waiting for its gate looks at it (the gate is set ahead of time). */
export const GATE_POLL_MS = 2;

export class LoadClock {
  /** performance.now() at which recording starts / stops. */
  windowStart = Number.POSITIVE_INFINITY;
  windowEnd = Number.POSITIVE_INFINITY;
  /** False once the window has closed: drivers stop issuing new work. */
  running = true;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #onOpen: (() => void)[] = [];

  constructor(private readonly opts: Pick<DriverOptions, 'warmupSec' | 'durationSec' | 'onPhase' | 'gate'>) {}

  /** Whether a completion at time `t` falls inside the measured window. */
  inWindow(t: number): boolean {
    return t >= this.windowStart && t < this.windowEnd;
  }

  /** Run `fn` when the window opens (e.g. to count the connections alive then). */
  onWindowOpen(fn: () => void): void {
    this.#onOpen.push(fn);
  }

  /**
   * Start warm-up now; resolves when the window has closed. The window opens
   * after `warmupSec`, or, with a gate, when the gate says (the load child
   * opens it after the warm-up, once the server is ready for the whole load).
   */
  run(): Promise<void> {
    const now = performance.now();
    this.#phase('connected', now);
    return new Promise((resolve) => {
      const openAt = (start: number): void => {
        this.windowStart = start;
        this.windowEnd = start + this.opts.durationSec * 1000;
        this.#at(start, () => {
          this.#phase('measuring', start);
          for (const fn of this.#onOpen) fn();
        });
        this.#at(this.windowEnd, () => {
          this.running = false;
          this.stop();
          this.#phase('draining', this.windowEnd);
          resolve();
        });
      };
      const sab = this.opts.gate;
      if (sab === undefined) {
        openAt(now + this.opts.warmupSec * 1000);
        return;
      }
      const gate = new WindowGate(sab);
      const look = (): void => {
        const t = gate.opensAtLocal();
        // Seen late (a long tick): the window starts now and still lasts its full length.
        if (!Number.isNaN(t)) openAt(Math.max(t, performance.now()));
        else this.#after(GATE_POLL_MS, look);
      };
      look();
    });
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  /**
   * Open loop: op k is due at t0 + k/rate (t0 = now), whatever the replies
   * do, until the window closes; latency then counts from its intended time.
   * Ops go round-robin to the first `limit` entries of `pool` (default: all)
   * that are `usable`; an op none could take is counted by `onUnsent` if it
   * was due inside the window — never dropped silently.
   */
  openLoop<C>(o: {
    rate: number;
    pool: readonly (C | undefined)[];
    limit?: number;
    usable: (c: C) => boolean;
    send: (c: C, intended: number) => void;
    onUnsent: () => void;
  }): void {
    const t0 = performance.now();
    let issued = 0;
    let rr = 0;
    const issue = (intended: number): boolean => {
      const n = o.limit ?? o.pool.length;
      for (let tries = n; tries > 0; tries--) {
        const c = o.pool[rr++ % n];
        if (c !== undefined && o.usable(c)) {
          o.send(c, intended);
          return true;
        }
      }
      return false;
    };
    const tick = (): void => {
      if (!this.running) return;
      // Ops 0..due-1 are due by now. (floor(elapsed·rate) without the +1
      // sent every op one interval late and timed it from its intended
      // time: 10 ms of phantom latency at 100 ops/s.)
      const due = Math.floor(((performance.now() - t0) / 1000) * o.rate) + 1;
      while (issued < due) {
        const intended = t0 + (issued / o.rate) * 1000;
        issued++;
        if (!issue(intended) && this.inWindow(intended)) o.onUnsent();
      }
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        tick();
      }, 1);
      this.#timers.add(timer);
    };
    tick();
  }

  /**
   * Run `fn` once performance.now() ≥ t. libuv arms timers from its cached
   * loop time, which lags the real clock after a long tick, so a timer can
   * fire early by that lag: re-arm for what is left instead of acting early.
   */
  #at(t: number, fn: () => void): void {
    const left = t - performance.now();
    if (left <= 0) {
      fn();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#at(t, fn);
    }, Math.ceil(left));
    this.#timers.add(timer);
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.running = false;
  }

  /** Phases are stamped with the window bounds that decide what is recorded, not with when a timer fired. */
  #phase(p: DriverPhase, at: number): void {
    this.opts.onPhase?.(p, phaseClock(at));
  }
}

/**
 * Run `open(i)` for i in [0, n) with at most `concurrency` in flight, so ten
 * thousand connects do not overflow the listen backlog or SYN queue.
 * Resolves when all have settled or the deadline passed.
 */
export async function boundedAll(
  n: number,
  concurrency: number,
  deadlineMs: number,
  open: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const deadline = performance.now() + deadlineMs;
  const lane = async (): Promise<void> => {
    while (next < n && performance.now() < deadline) {
      const i = next++;
      await open(i);
    }
  };
  const lanes: Promise<void>[] = [];
  for (let k = 0; k < Math.min(n, Math.max(1, concurrency)); k++) lanes.push(lane());
  await Promise.all(lanes);
}
