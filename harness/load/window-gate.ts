/**
 * When the measured window opens, decided once for every load thread.
 *
 * The load child opens the window only after the warm-up and after the
 * harness has seen the server ready for the whole load (a thread-per-
 * connection server has a thread for every connection): a strategy is
 * measured in its steady state, not its start-up. The opening time is an
 * epoch timestamp in shared memory, set slightly in the future, so every
 * thread that polls the gate starts (and ends) its window at the same
 * instant on the clock all threads share.
 */

/** Closed: no opening time set yet. */
const CLOSED = 0n;

export class WindowGate {
  readonly #cell: BigInt64Array;

  /** A new, closed gate; or a view of one another thread created (its `sab`). */
  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.#cell = new BigInt64Array(sab, 0, 1);
  }

  /** Set the opening time (epoch ms, may be in the future). The first call wins. */
  open(atEpochMs: number): void {
    Atomics.compareExchange(this.#cell, 0, CLOSED, BigInt(Math.round(atEpochMs * 1000)));
  }

  /** The opening time in epoch ms, or NaN while the gate is closed. */
  opensAt(): number {
    const us = Atomics.load(this.#cell, 0);
    return us === CLOSED ? Number.NaN : Number(us) / 1000;
  }

  /** The opening time on this thread's performance.now() clock, or NaN. */
  opensAtLocal(): number {
    return this.opensAt() - performance.timeOrigin;
  }
}

/** Resolves once `gate` is open and its opening time has come (event-loop drivers). */
export function untilOpen(gate: WindowGate, pollMs: number): Promise<void> {
  return new Promise((resolve) => {
    const look = (): void => {
      const left = gate.opensAtLocal() - performance.now();
      if (left <= 0) resolve();
      else setTimeout(look, Number.isNaN(left) ? pollMs : Math.ceil(left));
    };
    look();
  });
}
