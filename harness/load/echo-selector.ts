/**
 * Echo on the shared selector client loop (../selector-client.ts): one op is
 * one message out and its whole echo back, verified byte for byte. Messages
 * are written into the slab where they will be verified
 * (fillMessageAt/firstMismatchAt), so the hot path allocates nothing.
 */
import { ClientConn, OPEN, RECV_BUFFER, SelectorClientLoop, type PhaseListener, type SelectorLoopOptions } from './selector-loop.js';
import { echoMessageSize, fillMessageAt, firstMismatchAt } from '../../workloads/echo/message.js';

/** Where the slab's scratch message lives (right after the receive area). */
const SCRATCH_OFF = RECV_BUFFER;

class EchoConn extends ClientConn {
  nextSeq = 0;
  /** Bytes of the head message received so far. */
  got = 0;

  constructor(
    slot: number,
    fd: number,
    /** Offset in the slab of the message this connection expects next. */
    readonly expOff: number,
  ) {
    super(slot, fd);
  }
}

export class EchoSelectorLoop extends SelectorClientLoop<EchoConn> {
  readonly #size: number;

  constructor(o: SelectorLoopOptions, onPhase: PhaseListener) {
    const size = echoMessageSize(o);
    // Slab after the receive area: one scratch message, then the expected
    // (and, in closed loop, sent) message of every connection.
    super(o, onPhase, (o.connections + 1) * size);
    this.#size = size;
  }

  protected newConn(slot: number, fd: number): EchoConn {
    // A connection's id in its messages is its slot, as in the net driver.
    return new EchoConn(slot, fd, RECV_BUFFER + (slot + 1) * this.#size);
  }

  protected start(c: EchoConn, now: number): void {
    this.#send(c, now);
  }

  protected issue(c: EchoConn, intended: number): boolean {
    this.#send(c, intended);
    return true;
  }

  #send(c: EchoConn, start: number): void {
    const size = this.#size;
    const seq = c.nextSeq++;
    this.pushStart(c, start);
    // The head message is written where it will be verified; later ones
    // (open loop) go through the scratch slot.
    const off = c.pn === 1 ? c.expOff : SCRATCH_OFF;
    fillMessageAt(this.slab, off, size, c.slot, seq);
    this.sendBytes(c, this.slab, off, size);
  }

  protected received(c: EchoConn, n: number, now: number): void {
    const size = this.#size;
    const slab = this.slab;
    let off = 0;
    while (off < n) {
      if (c.pn === 0) {
        // Bytes nobody asked for.
        this.drop(c, 'verify');
        return;
      }
      const want = size - c.got;
      const take = want < n - off ? want : n - off;
      if (firstMismatchAt(slab, c.expOff + c.got, want, slab, off, take) !== -1) {
        this.drop(c, 'verify');
        return;
      }
      c.got += take;
      off += take;
      if (c.got < size) break;
      c.got = 0;
      this.complete(c, now, 2 * size);
      if (c.pn > 0) fillMessageAt(slab, c.expOff, size, c.slot, c.nextSeq - c.pn);
      else if (!this.openLoop && this.running) {
        this.#send(c, now);
        if (c.state !== OPEN) return;
      }
    }
  }
}
