/**
 * Group chat's client half. Every client connects and joins (sends `h <id>`
 * and waits to see it come back, which proves the server has it in the
 * group); once all have joined, `senders` of them send messages that carry
 * (sender, seq). Every client reads everything, and the ledger proves each
 * message reached every client exactly once, in its sender's order.
 *
 * Fan-out is bounded by default: only `chatSenders` clients (10) send, each
 * in closed loop with one message in flight until the LAST client has it;
 * open loop spreads the rate over the senders instead. One op is one message
 * delivered to every client; its latency runs from send (open loop: from
 * when it was due) until the last client has it.
 *
 * The ledger is one per group, so a chat load runs on one load thread.
 */
import type { ClientConn, ClientOptions, ClientRecorder, ClientSession, ClientWorkload } from '../../core/client.js';
import { GrowBuffer } from '../grow-buffer.js';
import { ChatLedger, CHAT_DEFAULT_SENDERS, CHAT_MIN_MESSAGE, encodeJoin, encodeMessage, parseLine, parseMessage, type Completed, type MessageFields } from './ledger.js';

const NL = 0x0a;

export function chatMessageSize(o: Pick<ClientOptions, 'protocol'>): number {
  const v = o.protocol['messageSize'];
  return Math.max(CHAT_MIN_MESSAGE, typeof v === 'number' ? v : 64);
}

export function chatSenders(o: Pick<ClientOptions, 'protocol' | 'connections'>): number {
  const v = o.protocol['chatSenders'];
  const n = typeof v === 'number' && v >= 0 ? v : CHAT_DEFAULT_SENDERS;
  return n === 0 ? o.connections : Math.min(n, o.connections);
}

class ChatSession implements ClientSession {
  alive = true;
  joined = false;
  /** Closed loop: the load has started on this sender. */
  started = false;
  /** When it sent its join (a client that never sees it back is dropped by the sweep). */
  openedAt = Number.NaN;
  readonly partial: GrowBuffer;

  constructor(
    readonly conn: ClientConn,
    private readonly rec: ClientRecorder,
    private readonly chat: ChatClient,
  ) {
    this.partial = new GrowBuffer(2 * chat.size);
  }

  onOpen(now: number): void {
    this.openedAt = now;
    this.conn.send(encodeJoin(this.conn.slot));
  }

  onStart(now: number): void {
    this.started = true;
    this.chat.maybeSend(this, now);
  }

  issue(intended: number): boolean {
    if (!this.joined || this.conn.slot >= this.chat.senders) return false;
    this.chat.send(this, intended);
    return true;
  }

  onData(bytes: Uint8Array, now: number): void {
    let off = 0;
    if (this.partial.length > 0) {
      const nl = bytes.indexOf(NL);
      if (nl < 0) {
        this.partial.append(bytes);
        if (this.partial.length > 2 * this.chat.size + 64) this.conn.fail('verify');
        return;
      }
      this.partial.append(bytes.subarray(0, nl + 1));
      const v = this.partial.view();
      this.chat.onLine(this, v, 0, v.length - 1, now, this.rec);
      this.partial.clear();
      off = nl + 1;
    }
    const last = this.chat.size - 1;
    while (off < bytes.length && this.alive) {
      // Most lines are whole messages of the known size: check where the
      // newline must be and parse in place, with no search and no allocation.
      const end = off + last;
      if (end < bytes.length && bytes[end] === NL && this.chat.onMessage(this, bytes, off, end, now, this.rec)) {
        off = end + 1;
        continue;
      }
      const nl = bytes.indexOf(NL, off);
      if (nl < 0) {
        this.partial.append(bytes.subarray(off));
        return;
      }
      this.chat.onLine(this, bytes, off, nl, now, this.rec);
      off = nl + 1;
    }
  }

  onClose(_reconnecting: boolean): void {
    this.alive = false;
    this.chat.leave(this);
  }

  oldestInFlight(): number {
    // The ledger times messages out (ChatClient.sweep), not the connection.
    return Number.POSITIVE_INFINITY;
  }
}

class ChatClient implements ClientWorkload {
  readonly size: number;
  readonly senders: number;
  readonly issuers: number;
  readonly #ledger: ChatLedger;
  readonly #sessions: (ChatSession | undefined)[] = [];
  readonly #openLoop: boolean;
  #rec: ClientRecorder | undefined;
  #joined = 0;
  #deliveries = 0;
  /** The time of the event being handled: what a message it completes is timed at. */
  #now = 0;
  readonly #fields: MessageFields = { sender: 0, seq: 0 };
  readonly #completed = (c: Completed): void => {
    this.#complete(c);
  };

  constructor(o: ClientOptions) {
    if (o.first !== 0 || o.count !== o.connections) throw new Error('chat runs on one load thread: its ledger is one per group');
    this.size = chatMessageSize(o);
    this.senders = chatSenders(o);
    this.issuers = this.senders;
    this.#ledger = new ChatLedger(o.connections, this.senders);
    this.#openLoop = o.openLoop;
  }

  session(conn: ClientConn, rec: ClientRecorder): ClientSession {
    this.#rec = rec;
    const s = new ChatSession(conn, rec, this);
    this.#sessions[conn.slot] = s;
    return s;
  }

  /** Every live client has joined: messages may flow. */
  ready(): boolean {
    let live = 0;
    for (const s of this.#sessions) if (s?.alive === true) live++;
    return live > 0 && this.#joined >= live;
  }

  send(s: ChatSession, start: number): void {
    const seq = this.#ledger.send(s.conn.slot, start);
    s.conn.send(encodeMessage(s.conn.slot, seq, this.size));
  }

  /** Closed loop: a started, joined sender with nothing in flight sends, once the group is complete. */
  maybeSend(s: ChatSession, now: number): void {
    if (this.#openLoop || !s.started || !s.alive || !s.joined || s.conn.slot >= this.senders) return;
    if (!this.ready() || this.#ledger.inFlight(s.conn.slot) > 0 || this.#rec?.running !== true) return;
    this.send(s, now);
  }

  /** A whole message line `b[start, end)`: delivered and true, or false when it is not one (onLine decides then). */
  onMessage(s: ChatSession, b: Uint8Array, start: number, end: number, now: number, rec: ClientRecorder): boolean {
    const m = this.#fields;
    if (!parseMessage(b, start, end, this.size, m)) return false;
    this.#deliver(s, m.sender, m.seq, now, rec);
    return true;
  }

  #deliver(s: ChatSession, sender: number, seq: number, now: number, rec: ClientRecorder): void {
    this.#now = now;
    const outcome = this.#ledger.deliver(s.conn.slot, sender, seq, this.#completed);
    if (outcome === 'unknown') rec.error('verify');
    else if (outcome !== 'duplicated' && rec.inWindow(now)) this.#deliveries++;
  }

  onLine(s: ChatSession, b: Uint8Array, start: number, end: number, now: number, rec: ClientRecorder): void {
    const line = parseLine(b, start, end, this.size);
    if (line.kind === 'message') {
      this.#deliver(s, line.sender, line.seq, now, rec);
    } else if (line.kind === 'join') {
      if (line.client === s.conn.slot && !s.joined) {
        s.joined = true;
        this.#ledger.join(s.conn.slot);
        this.#joined++;
        // The last join completes the group: every waiting sender starts.
        if (this.ready()) for (const x of this.#sessions) if (x !== undefined) this.maybeSend(x, now);
      }
    } else {
      rec.error('verify');
    }
  }

  leave(s: ChatSession): void {
    if (s.joined) this.#joined--;
    // onClose carries no time: the clock, read once.
    this.#now = performance.now();
    this.#ledger.leave(s.conn.slot, this.#completed);
    // The one client the group waited for is gone: the rest may start.
    if (this.ready()) for (const x of this.#sessions) if (x !== undefined) this.maybeSend(x, this.#now);
  }

  /** A message reached its last receiver, at the time of the event that completed it (#now). */
  #complete(c: Completed): void {
    const now = this.#now;
    // The message out, and one copy in at every client that was in the group.
    this.#rec?.complete(c.start, now, this.size * (1 + this.#ledger.live));
    const sender = this.#sessions[c.sender];
    if (sender !== undefined) this.maybeSend(sender, now);
  }

  sweep(now: number, timeoutMs: number, rec: ClientRecorder): void {
    // A client whose join never came back holds the whole group: drop it.
    for (const x of this.#sessions) if (x?.alive === true && !x.joined && now - x.openedAt > timeoutMs) x.conn.fail('join timeout');
    const expired = this.#ledger.expire(now - timeoutMs);
    if (expired === 0) return;
    rec.error('timeout', expired);
    // A closed-loop sender whose message timed out sends the next one.
    for (let slot = 0; slot < this.senders; slot++) {
      const s = this.#sessions[slot];
      if (s !== undefined) this.maybeSend(s, now);
    }
  }

  drained(): boolean {
    return this.#ledger.totalInFlight === 0;
  }

  finish(): { errors: Record<string, number>; counts: Record<string, number>; figures: Record<string, number> } {
    const liveSenders: number[] = [];
    for (let slot = 0; slot < this.senders; slot++) if (this.#sessions[slot]?.alive === true) liveSenders.push(slot);
    const l = this.#ledger;
    l.countLost(liveSenders);
    const errors: Record<string, number> = {};
    for (const kind of ['lost', 'duplicated', 'reordered'] as const) if (l[kind] > 0) errors[kind] = l[kind];
    return {
      errors,
      figures: { senders: this.senders },
      counts: {
        messagesSent: l.sent.reduce((a, b) => a + b, 0),
        deliveries: this.#deliveries,
        lost: l.lost,
        duplicated: l.duplicated,
        reordered: l.reordered,
      },
    };
  }
}

export function createClient(o: ClientOptions): ClientWorkload {
  return new ChatClient(o);
}
