/**
 * The chat driver's bookkeeping, without sockets: which message every
 * receiver has seen, so the driver can prove exactly-once, per-sender-order
 * delivery, and when the last receiver got each message (delivery latency).
 *
 * A message line is `<sender> <seq> xxx…\n`, `messageSize` bytes in all; a
 * join line is `h <client>\n`. Seqs of one sender start at 0 and grow by 1.
 */

/** Shortest message line: room for two 10-digit numbers, spaces and the newline. */
export const CHAT_MIN_MESSAGE = 24;
export const CHAT_DEFAULT_SENDERS = 10;

const SPACE = 0x20;
const X = 0x78;
const NL = 0x0a;
const H = 0x68;

/** Write message (sender, seq) of `size` bytes into a new buffer. */
export function encodeMessage(sender: number, seq: number, size: number): Buffer {
  const head = `${sender} ${seq} `;
  const buf = Buffer.allocUnsafe(Math.max(size, head.length + 1));
  buf.write(head, 0, 'latin1');
  buf.fill(X, head.length, buf.length - 1);
  buf[buf.length - 1] = NL;
  return buf;
}

export function encodeJoin(client: number): Buffer {
  return Buffer.from(`h ${client}\n`, 'latin1');
}

export type ParsedLine =
  | { kind: 'message'; sender: number; seq: number }
  | { kind: 'join'; client: number }
  | { kind: 'bad' };

const BAD: ParsedLine = { kind: 'bad' };

/** The fields of a message line, filled in place by parseMessage (no allocation per line). */
export interface MessageFields {
  sender: number;
  seq: number;
}

/**
 * Parse `b[start, end)` (the line without its newline) as a message line of
 * `size` bytes into `out`: digits, a space, digits, a space, then 'x' to the
 * end. Every byte is checked, so a corrupted or shortened line is refused.
 */
export function parseMessage(b: Uint8Array, start: number, end: number, size: number, out: MessageFields): boolean {
  let i = scanDigits(b, start, end);
  if (i === start || b[i] !== SPACE) return false;
  out.sender = scanned;
  const q = i + 1;
  i = scanDigits(b, q, end);
  if (i === q || b[i] !== SPACE) return false;
  out.seq = scanned;
  // The whole line must be as long as sent, its padding intact.
  if (end + 1 - start !== Math.max(size, i + 2 - start)) return false;
  for (let j = i + 1; j < end; j++) if (b[j] !== X) return false;
  return true;
}

/** Parse one line, `b[start, end)` without its newline; `size` is the message size. */
export function parseLine(b: Uint8Array, start: number, end: number, size: number): ParsedLine {
  if (b[start] === H) {
    if (b[start + 1] !== SPACE) return BAD;
    const e = scanDigits(b, start + 2, end);
    return e === start + 2 || e !== end ? BAD : { kind: 'join', client: scanned };
  }
  const m: MessageFields = { sender: 0, seq: 0 };
  return parseMessage(b, start, end, size, m) ? { kind: 'message', sender: m.sender, seq: m.seq } : BAD;
}

/** The value of the digits scanDigits read last (one slot for the module: no object per call). */
let scanned = 0;

/** Read up to 10 digits of b[start, end): returns the index after them (start: there were none); their value is in `scanned`. */
function scanDigits(b: Uint8Array, start: number, end: number): number {
  let v = 0;
  let i = start;
  for (; i < end && i - start < 10; i++) {
    const c = b[i] ?? 0;
    if (c < 0x30 || c > 0x39) break;
    v = v * 10 + (c - 0x30);
  }
  scanned = v;
  return i;
}

/** What one receiver has seen of one sender. */
class Stream {
  /** Every seq below this has been received. */
  next = 0;
  /** Seqs at or above `next` received early (out of order). */
  early: Set<number> | null = null;

  has(seq: number): boolean {
    return seq < this.next || (this.early?.has(seq) ?? false);
  }

  get distinct(): number {
    return this.next + (this.early?.size ?? 0);
  }
}

export type DeliveryOutcome = 'ok' | 'duplicated' | 'reordered' | 'unknown';

interface InFlight {
  /** performance.now() when sent (open loop: when due). */
  start: number;
  /** Receivers that still have to get it. */
  remaining: number;
}

export interface Completed {
  sender: number;
  seq: number;
  start: number;
}

export class ChatLedger {
  lost = 0;
  duplicated = 0;
  reordered = 0;
  /** Lines that did not parse or named a message never sent. */
  bad = 0;
  /** Per sender: messages sent so far (their seqs are 0 … sent-1). */
  readonly sent: number[];
  readonly #streams: Stream[][] = [];
  readonly #inFlight: Map<number, InFlight>[];
  readonly #live = new Set<number>();

  constructor(
    readonly receivers: number,
    readonly senders: number,
  ) {
    this.sent = new Array<number>(senders).fill(0);
    this.#inFlight = Array.from({ length: senders }, () => new Map<number, InFlight>());
    for (let r = 0; r < receivers; r++) this.#streams.push(Array.from({ length: senders }, () => new Stream()));
  }

  /** A receiver joins the group (before any message is sent). */
  join(receiver: number): void {
    this.#live.add(receiver);
  }

  get live(): number {
    return this.#live.size;
  }

  isLive(receiver: number): boolean {
    return this.#live.has(receiver);
  }

  /** Sender sends its next message; returns its seq. */
  send(sender: number, start: number): number {
    const seq = this.sent[sender] ?? 0;
    this.sent[sender] = seq + 1;
    this.#inFlight[sender]?.set(seq, { start, remaining: this.#live.size });
    return seq;
  }

  inFlight(sender: number): number {
    return this.#inFlight[sender]?.size ?? 0;
  }

  get totalInFlight(): number {
    let n = 0;
    for (const m of this.#inFlight) n += m.size;
    return n;
  }

  /**
   * Receiver got (sender, seq). Returns what it was; `done` gets the message
   * when this was the last receiver it was waiting for.
   */
  deliver(receiver: number, sender: number, seq: number, done: (c: Completed) => void): DeliveryOutcome {
    const stream = this.#streams[receiver]?.[sender];
    if (stream === undefined || seq >= (this.sent[sender] ?? 0)) {
      this.bad++;
      return 'unknown';
    }
    if (stream.has(seq)) {
      this.duplicated++;
      return 'duplicated';
    }
    let outcome: DeliveryOutcome = 'ok';
    if (seq === stream.next) {
      stream.next++;
      const early = stream.early;
      if (early !== null) {
        while (early.delete(stream.next)) stream.next++;
        if (early.size === 0) stream.early = null;
      }
    } else {
      // An earlier message of this sender is still missing here.
      this.reordered++;
      outcome = 'reordered';
      (stream.early ??= new Set()).add(seq);
    }
    if (this.#live.has(receiver)) this.#arrived(sender, seq, done);
    return outcome;
  }

  #arrived(sender: number, seq: number, done: (c: Completed) => void): void {
    const m = this.#inFlight[sender];
    const f = m?.get(seq);
    if (m === undefined || f === undefined) return;
    if (--f.remaining <= 0) {
      m.delete(seq);
      done({ sender, seq, start: f.start });
    }
  }

  /** A receiver left (closed, reset): nothing more is waited for on it. */
  leave(receiver: number, done: (c: Completed) => void): void {
    if (!this.#live.delete(receiver)) return;
    const streams = this.#streams[receiver];
    for (let s = 0; s < this.senders; s++) {
      const m = this.#inFlight[s];
      const stream = streams?.[s];
      if (m === undefined || stream === undefined) continue;
      for (const seq of [...m.keys()]) if (!stream.has(seq)) this.#arrived(s, seq, done);
    }
  }

  /** Stop waiting for messages older than `before` (timed out); returns how many. */
  expire(before: number): number {
    let n = 0;
    for (const m of this.#inFlight) {
      for (const [seq, f] of m) {
        if (f.start < before) {
          m.delete(seq);
          n++;
        }
      }
    }
    return n;
  }

  /**
   * Messages that a receiver live to the end never got, from senders live
   * to the end (a sender that died may have taken unsent bytes with it).
   */
  countLost(liveSenders: Iterable<number>): number {
    let lost = 0;
    const senders = [...liveSenders];
    for (const r of this.#live) {
      const streams = this.#streams[r];
      for (const s of senders) {
        const stream = streams?.[s];
        if (stream !== undefined) lost += Math.max(0, (this.sent[s] ?? 0) - stream.distinct);
      }
    }
    this.lost = lost;
    return lost;
  }
}
