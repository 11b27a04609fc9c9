/**
 * The measured window of one load thread, kept by whichever transport runs
 * it: connect, warm up (load, not recorded), measure (recorded), stop. The
 * window opens `warmupSec` after the connections are up, or, with a gate,
 * when the load child says (window-gate.ts: every thread opens and closes
 * it on the same instant). Times are this thread's performance.now() ms.
 */
import { phaseClock, type DriverPhase } from './driver.js';
import { WindowGate } from './window-gate.js';

/** How often a window waiting for its gate looks at it (the gate is set ahead of time). */
export const GATE_POLL_MS = 2;

export type WindowPhase = 'connecting' | DriverPhase | 'done';

export class LoadWindow {
  phase: WindowPhase = 'connecting';
  /** performance.now() at which recording starts / stops (+Infinity until known). */
  start = Number.POSITIVE_INFINITY;
  end = Number.POSITIVE_INFINITY;
  /** When the connect phase ended (the open-loop schedule's origin). */
  connectedAt = Number.NaN;
  readonly #gate: WindowGate | undefined;

  constructor(
    private readonly o: { readonly warmupSec: number; readonly durationSec: number; readonly gate?: SharedArrayBuffer },
    private readonly onPhase: (p: DriverPhase, atMs: number) => void,
    /** Runs as the window opens (count the connections alive then). */
    private readonly onOpen: () => void = () => undefined,
    /** Runs as the window closes (count the connections it closed on unserved). */
    private readonly onClose: () => void = () => undefined,
  ) {
    this.#gate = o.gate === undefined ? undefined : new WindowGate(o.gate);
  }

  /** Whether a completion at `t` falls inside the window. */
  inWindow(t: number): boolean {
    return t >= this.start && t < this.end;
  }

  /** New ops may still be started: the window has not closed. */
  get running(): boolean {
    return this.phase === 'connecting' || this.phase === 'connected' || this.phase === 'measuring';
  }

  /** The connect phase is over at `now`: the warm-up load starts. */
  connected(now: number): void {
    this.phase = 'connected';
    this.connectedAt = now;
    this.#say('connected', now);
    if (this.#gate === undefined) this.#openAt(now + this.o.warmupSec * 1000);
    this.tick(now);
  }

  /**
   * Move through the phases due at `now` (the phases are stamped with the
   * window's own bounds, which decide what is recorded, not with when this
   * ran). Returns the time of the next thing due here.
   */
  tick(now: number): number {
    if (this.phase === 'connected') {
      if (this.start === Number.POSITIVE_INFINITY && this.#gate !== undefined) {
        const t = this.#gate.opensAtLocal();
        // Seen late (a long tick): the window starts now and still lasts its full length.
        if (!Number.isNaN(t)) this.#openAt(Math.max(t, now));
      }
      if (now >= this.start) {
        this.phase = 'measuring';
        this.onOpen();
        this.#say('measuring', this.start);
      }
    }
    if (this.phase === 'measuring' && now >= this.end) {
      this.onClose();
      this.phase = 'draining';
      this.#say('draining', this.end);
    }
    if (this.phase === 'connected') return this.start === Number.POSITIVE_INFINITY ? now + GATE_POLL_MS : this.start;
    if (this.phase === 'measuring') return this.end;
    return Number.POSITIVE_INFINITY;
  }

  /** The thread is done (after draining). */
  finish(): void {
    this.phase = 'done';
  }

  #openAt(start: number): void {
    this.start = start;
    this.end = start + this.o.durationSec * 1000;
  }

  #say(p: DriverPhase, at: number): void {
    this.onPhase(p, phaseClock(at));
  }
}
