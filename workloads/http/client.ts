/**
 * HTTP/1.1's client half: keep-alive requests, `pipelining` in flight per
 * connection in closed loop (refilled, in one send, as responses complete),
 * one request per due op in open loop, every response verified by the
 * response reader. A response that says `Connection: close` ends its
 * connection once it is in, and the slot connects again (`--http-close`
 * makes every response do so, the seed's 用完就断).
 */
import type { ClientConn, ClientOptions, ClientRecorder, ClientSession, ClientWorkload } from '../../core/client.js';
import { PAGE_BYTES } from './page.js';
import { httpPipelining } from './pipelining.js';
import { buildRequest, ResponseReader, type ResponseInfo } from './response-reader.js';

class HttpSession implements ClientSession {
  /** Start times of the requests in flight, oldest first. */
  readonly #starts: number[] = [];
  #head = 0;
  readonly #reader: ResponseReader;
  /** The server announced close: reconnect once this response is in. */
  #closing = false;
  /** Responses completed by the current read, and its time. */
  #completed = 0;
  #now = 0;
  readonly #onResponse = (info: ResponseInfo): void => {
    this.#response(info);
  };

  constructor(
    private readonly conn: ClientConn,
    private readonly rec: ClientRecorder,
    private readonly c: HttpClient,
  ) {
    this.#reader = new ResponseReader(c.expect);
  }

  get #inFlight(): number {
    return this.#starts.length - this.#head;
  }

  onOpen(): void {
    // No handshake: the first request is load.
  }

  onStart(now: number): void {
    this.#sendN(this.c.depth, now);
  }

  issue(intended: number): boolean {
    if (this.#closing) return false;
    this.#sendN(1, intended);
    return true;
  }

  #sendN(k: number, start: number): void {
    const { depth, batch, requestLength } = this.c;
    while (k > 0) {
      const m = k < depth ? k : depth;
      for (let i = 0; i < m; i++) this.#starts.push(start);
      // `batch` holds `depth` requests back to back: m of them are one send of a prefix.
      this.conn.send(batch, 0, m * requestLength);
      k -= m;
    }
  }

  onData(bytes: Uint8Array, now: number): void {
    this.#now = now;
    this.#completed = 0;
    // Transports hand over Buffer views; anything else is wrapped, not copied.
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const err = this.#reader.push(chunk, this.#onResponse);
    if (err !== null) {
      this.conn.fail('verify');
      return;
    }
    if (this.#closing) {
      if (this.#inFlight === 0) this.conn.reconnect();
      return;
    }
    // Closed loop: refill what completed, in one send.
    if (!this.c.openLoop && this.#completed > 0 && this.rec.running) this.#sendN(this.#completed, now);
  }

  #response(info: ResponseInfo): void {
    if (this.#inFlight === 0) {
      // A response nobody asked for.
      this.conn.fail('verify');
      return;
    }
    const start = this.#starts[this.#head++] ?? this.#now;
    if (this.#head > 64 && this.#head * 2 > this.#starts.length) {
      this.#starts.splice(0, this.#head);
      this.#head = 0;
    }
    this.rec.complete(start, this.#now, this.c.requestLength + info.contentLength);
    this.#completed++;
    if (info.close) this.#closing = true;
  }

  onClose(): void {
    // A reconnect opens a new session: nothing carries over.
  }

  oldestInFlight(): number {
    return this.#inFlight === 0 ? Number.POSITIVE_INFINITY : (this.#starts[this.#head] ?? Number.POSITIVE_INFINITY);
  }
}

class HttpClient implements ClientWorkload {
  readonly depth: number;
  readonly requestLength: number;
  /** `depth` copies of the request back to back. */
  readonly batch: Buffer;
  readonly expect = { status: 200, body: PAGE_BYTES, head: false };
  readonly openLoop: boolean;
  readonly #httpClose: boolean;
  /** Slots that got a connection at least once. */
  readonly #slots = new Set<number>();

  constructor(o: ClientOptions) {
    this.depth = httpPipelining(o);
    const request = buildRequest(o.host, o.port);
    this.requestLength = request.length;
    this.batch = Buffer.concat(Array.from({ length: this.depth }, () => request));
    this.openLoop = o.openLoop;
    this.#httpClose = o.protocol['httpClose'] === true;
  }

  session(conn: ClientConn, rec: ClientRecorder): ClientSession {
    this.#slots.add(conn.slot);
    return new HttpSession(conn, rec, this);
  }

  established(open: number): number {
    // With httpClose every connection is short-lived: count the slots that got one.
    return this.#httpClose ? this.#slots.size : open;
  }

  finish(): { figures: Record<string, number> } {
    return { figures: { pipelining: this.depth } };
  }
}

export function createClient(o: ClientOptions): ClientWorkload {
  return new HttpClient(o);
}
