/**
 * The open-loop schedule, once for every transport: ops leave at fixed
 * intended times whatever the replies do, and latency counts from the
 * intended time, so a stall anywhere (server or load) shows in the
 * percentiles instead of being omitted (coordinated omission; wrk2).
 *
 * With several load threads the schedule is one global sequence, op i due
 * at t0 + i/rate, dealt out round robin: thread k of T issues ops k, k+T,
 * k+2T, … So the threads' rates add up to exactly `rate` whatever T is,
 * and no thread's share rounds down to zero (wrk2's bug: a rate below the
 * thread count left threads with a rate of 0, unpaced).
 */

/** The longest a waiting transport sleeps between two scheduled ops. */
export const OPEN_LOOP_TICK_MS = 1;

export class OpenLoopSchedule {
  /** This thread's ops issued so far (its j-th op is global op k + T·j). */
  #issued = 0;

  constructor(
    /** Ops/s of the whole load, every thread together. */
    readonly rate: number,
    /** performance.now() of global op 0. */
    readonly t0: number,
    /** This thread's index k and the thread count T. */
    readonly thread = 0,
    readonly threads = 1,
  ) {
    if (!(rate > 0)) throw new RangeError(`open-loop rate must be > 0, got ${rate}`);
  }

  /**
   * Skip the ops due before `now` without issuing them: a thread that joins
   * the schedule after its origin (it was still connecting) starts on the
   * grid every thread shares, instead of in a burst of ops already late.
   */
  skipBefore(now: number): void {
    const first = Math.ceil(((now - this.t0) / 1000) * this.rate);
    // The first global op ≥ `first` that is this thread's (≡ thread mod threads).
    const j = Math.max(0, Math.ceil((first - this.thread) / this.threads));
    if (j > this.#issued) this.#issued = j;
  }

  /** When this thread's next op is due. */
  nextDue(): number {
    return this.t0 + ((this.thread + this.threads * this.#issued) / this.rate) * 1000;
  }

  /**
   * Issue every op of this thread due by `now`, each with its intended time;
   * `issue` returns false when no connection could take it, and `unsent`
   * then hears of it (counted, never dropped silently). Returns when the
   * next op is due, but at least a tick ahead.
   */
  run(now: number, issue: (intended: number) => boolean, unsent: (intended: number) => void): number {
    for (let due = this.nextDue(); due <= now; due = this.nextDue()) {
      this.#issued++;
      if (!issue(due)) unsent(due);
    }
    return Math.max(this.nextDue(), now + OPEN_LOOP_TICK_MS);
  }
}

/** The schedule of a load thread that starts loading at `now`: on the grid of its origin, from the first op not yet past. */
export function openLoopAt(o: { readonly rate: number; readonly thread: number; readonly threads: number; readonly scheduleOrigin?: number }, now: number): OpenLoopSchedule {
  const t0 = o.scheduleOrigin === undefined ? now : o.scheduleOrigin - performance.timeOrigin;
  const s = new OpenLoopSchedule(o.rate, t0, o.thread, o.threads);
  s.skipBefore(now);
  return s;
}
