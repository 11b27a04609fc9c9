/**
 * Echo's client half: one op is one message out and its whole echo back,
 * verified byte for byte. Each message carries the connection's slot and
 * its sequence number, so a reply from the wrong connection or out of order
 * fails as surely as a flipped bit. Closed loop: one message in flight per
 * connection, the next sent when the last is back. Open loop: messages
 * leave when due, several may be in flight, and each is timed from the
 * moment it was due.
 */
import type { ClientConn, ClientOptions, ClientRecorder, ClientSession, ClientWorkload } from '../../core/client.js';
import { echoMessageSize, fillMessageAt } from './message.js';

/** Start times of the messages in flight, oldest first: a ring that grows (open loop against a slow server). */
class Starts {
  #ring = new Float64Array(4);
  #head = 0;
  size = 0;

  push(t: number): void {
    let cap = this.#ring.length;
    if (this.size === cap) {
      const grown = new Float64Array(cap * 2);
      for (let i = 0; i < this.size; i++) grown[i] = this.#ring[(this.#head + i) & (cap - 1)] ?? 0;
      this.#ring = grown;
      this.#head = 0;
      cap *= 2;
    }
    this.#ring[(this.#head + this.size) & (cap - 1)] = t;
    this.size++;
  }

  shift(): number {
    const t = this.#ring[this.#head] ?? Number.NaN;
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.size--;
    return t;
  }

  oldest(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : (this.#ring[this.#head] ?? Number.POSITIVE_INFINITY);
  }
}

class EchoSession implements ClientSession {
  readonly #starts = new Starts();
  /** The next message's sequence number. */
  #seq = 0;
  /** Bytes of the head message received so far. */
  #got = 0;
  /** The head message as it must come back (closed loop: also what was sent). */
  readonly #expected: Buffer;
  /** Open loop: messages after the head are built here, sent, and rebuilt into #expected when they reach the head. */
  readonly #scratch: Buffer;

  constructor(
    private readonly conn: ClientConn,
    private readonly rec: ClientRecorder,
    private readonly size: number,
  ) {
    this.#expected = Buffer.allocUnsafe(size);
    this.#scratch = Buffer.allocUnsafe(size);
  }

  onOpen(): void {
    // No handshake: echo's first byte is load.
  }

  onStart(now: number): void {
    this.#send(now);
  }

  issue(intended: number): boolean {
    this.#send(intended);
    return true;
  }

  #send(start: number): void {
    const seq = this.#seq++;
    this.#starts.push(start);
    // The head message is built where it will be verified.
    const buf = this.#starts.size === 1 ? this.#expected : this.#scratch;
    fillMessageAt(buf, 0, this.size, this.conn.slot, seq);
    this.conn.send(buf, 0, this.size);
  }

  onData(bytes: Uint8Array, now: number): void {
    const size = this.size;
    let off = 0;
    const n = bytes.length;
    while (off < n) {
      if (this.#starts.size === 0) {
        // Bytes nobody asked for.
        this.conn.fail('verify');
        return;
      }
      const want = size - this.#got;
      const take = want < n - off ? want : n - off;
      if (this.#expected.compare(bytes, off, off + take, this.#got, this.#got + take) !== 0) {
        this.conn.fail('verify');
        return;
      }
      this.#got += take;
      off += take;
      if (this.#got < size) return;
      this.#got = 0;
      this.rec.complete(this.#starts.shift(), now, 2 * size);
      if (this.#starts.size > 0) {
        // Open loop: the next message in flight becomes the head.
        fillMessageAt(this.#expected, 0, size, this.conn.slot, this.#seq - this.#starts.size);
      } else if (!this.open && this.rec.running) {
        this.#send(now);
      }
    }
  }

  /** Open loop (set by the client): messages leave on the schedule, not on replies. */
  open = false;

  onClose(_reconnecting: boolean): void {
    // Nothing to release: what was in flight is gone with the connection.
  }

  oldestInFlight(): number {
    return this.#starts.oldest();
  }
}

export function createClient(o: ClientOptions): ClientWorkload {
  const size = echoMessageSize(o);
  return {
    session(conn, rec) {
      const s = new EchoSession(conn, rec, size);
      s.open = o.openLoop;
      return s;
    },
  };
}
