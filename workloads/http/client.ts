/**
 * What an HTTP load client sends and how it judges the replies, in one
 * JSON-safe value that crosses the IPC and worker_thread boundaries
 * (DriverOptions.http), and its resolution into the request bytes and the
 * ResponseCheck every transport uses alike.
 *
 * The verification rule: with no `expect`, a reply must be the seed's page
 * byte for byte (status 200, the page as body; HEAD: its length announced).
 * That is how the servers iomodels spawns are checked. With `expect` (the
 * runner sets it for every `--target` cell), a reply needs a status in
 * `expect.status` and a well-framed body, and equals `expect.body` only
 * when one is given.
 *
 * The client session (createClient): keep-alive requests, `pipelining` in
 * flight per connection in closed loop (refilled, in one send, as responses
 * complete), one request per due op in open loop. A response that says the
 * server closes, or a body framed by the close, ends its connection and the
 * slot connects again.
 */
import type { ClientConn, ClientOptions, ClientRecorder, ClientSession, ClientWorkload } from '../../core/client.js';
import { httpPipelining } from './pipelining.js';
import { HTTP_ERRORS, ResponseReader, type OnResponse, type ResponseCheck, type ResponseInfo } from './response-reader.js';
import { PAGE_BYTES } from './page.js';
import { buildRequest, DEFAULT_REQUEST, parseHeader, requestCloses, type RequestShape } from './request.js';
import { DEFAULT_STATUSES, parseStatusSet } from './status-set.js';

export interface HttpClientSpec {
  readonly method?: string;
  readonly path?: string;
  /** "Name: value", in order. */
  readonly headers?: readonly string[];
  /** The request body, base64. */
  readonly body?: string;
  /** Absent: our page byte for byte. */
  readonly expect?: {
    /** A StatusSet's text ("2xx", "200,204"); absent: 2xx. */
    readonly status?: string;
    /** The exact body, base64 (absent: any body). */
    readonly body?: string;
  };
}

export interface HttpClient {
  readonly shape: RequestShape;
  /** The request's bytes for this host and port. */
  readonly request: Buffer;
  readonly check: ResponseCheck;
  /** Every response closes its connection (the request asked for `Connection: close`). */
  readonly closes: boolean;
  /** The replies are checked against our page (no `expect`). */
  readonly page: boolean;
}

const PAGE_STATUS = parseStatusSet('200');

/** Resolve `spec` (validated by the CLI: a bad one throws) for a client of host:port. */
export function httpClient(spec: HttpClientSpec | undefined, host: string, port: number): HttpClient {
  const headers = (spec?.headers ?? []).map((h) => {
    const p = parseHeader(h);
    if ('error' in p) throw new Error(`header "${h}": ${p.error}`);
    return p;
  });
  const shape: RequestShape = {
    method: spec?.method ?? DEFAULT_REQUEST.method,
    path: spec?.path ?? DEFAULT_REQUEST.path,
    headers,
    ...(spec?.body === undefined ? {} : { body: Buffer.from(spec.body, 'base64') }),
  };
  const head = shape.method.toUpperCase() === 'HEAD';
  let check: ResponseCheck;
  if (spec?.expect === undefined) {
    if ('error' in PAGE_STATUS) throw new Error(PAGE_STATUS.error);
    check = { allowed: PAGE_STATUS.allowed, body: PAGE_BYTES, head };
  } else {
    const set = parseStatusSet(spec.expect.status ?? DEFAULT_STATUSES);
    if ('error' in set) throw new Error(`expected status "${spec.expect.status ?? ''}": ${set.error}`);
    check = { allowed: set.allowed, head, ...(spec.expect.body === undefined ? {} : { body: Buffer.from(spec.expect.body, 'base64') }) };
  }
  return { shape, request: buildRequest(host, port, shape), check, closes: requestCloses(shape), page: spec?.expect === undefined };
}

/**
 * The server closed a connection (EOF) and `reader.end()` said `endError`:
 * null means connect the slot again (the close was announced, framed a
 * body, or ended a keep-alive connection with nothing in flight: the
 * server's idle timeout); else the error kind to count, the slot stays down.
 * The same rule for every transport.
 */
export function afterPeerClose(endError: string | null, announced: boolean, inFlight: number, answered: number): string | null {
  if (endError !== null) return endError;
  // A connection that never answered and closes is a server refusing us, not a keep-alive timeout.
  return announced || (inFlight === 0 && answered > 0) ? null : 'closed';
}

/** The pipelining depth and request of a load: `depth` copies of the request back to back, so k ≤ depth pipelined requests are one send of a prefix. */
class HttpLoad implements ClientWorkload {
  readonly depth: number;
  readonly requestLength: number;
  readonly batch: Buffer;
  readonly check: ResponseCheck;
  readonly openLoop: boolean;
  /** Slots whose connection has answered at least once, and those between a closed connection and their next. */
  readonly answered = new Set<number>();
  readonly #live = new Set<number>();
  readonly #reconnecting = new Set<number>();

  constructor(o: ClientOptions) {
    const client = httpClient(o.clientSpec as HttpClientSpec | undefined, o.host, o.port);
    // A request that asks the server to close gets one answer per connection.
    this.depth = client.closes ? 1 : httpPipelining(o);
    this.requestLength = client.request.length;
    this.batch = Buffer.concat(Array.from({ length: this.depth }, () => client.request));
    this.check = client.check;
    this.openLoop = o.openLoop;
  }

  session(conn: ClientConn, rec: ClientRecorder): ClientSession {
    this.#live.add(conn.slot);
    this.#reconnecting.delete(conn.slot);
    return new HttpSession(conn, rec, this);
  }

  closed(slot: number, reconnecting: boolean): void {
    this.#live.delete(slot);
    if (reconnecting && this.answered.has(slot)) this.#reconnecting.add(slot);
  }

  established(): number {
    // A slot between a closed connection and its next one is established
    // (with --http-close, or a server that closes, every connection is short-lived).
    return this.#live.size + this.#reconnecting.size;
  }

  finish(): { figures: Record<string, number> } {
    return { figures: { pipelining: this.depth } };
  }
}

class HttpSession implements ClientSession {
  /** Start times of the requests in flight, oldest first. */
  readonly #starts: number[] = [];
  #head = 0;
  readonly #reader: ResponseReader;
  /** A response said the server closes: nothing more comes on this connection. */
  #closing = false;
  /** Responses this connection has read (a keep-alive close after one is the server's idle timeout, not a fault). */
  #answered = 0;
  /** Responses completed by the current read, and its time. */
  #completed = 0;
  #now = 0;
  readonly #onResponse: OnResponse = (info) => {
    this.#response(info);
  };

  constructor(
    private readonly conn: ClientConn,
    private readonly rec: ClientRecorder,
    private readonly load: HttpLoad,
  ) {
    this.#reader = new ResponseReader(load.check);
  }

  get #inFlight(): number {
    return this.#starts.length - this.#head;
  }

  onOpen(): void {
    // No handshake: the first request is load.
  }

  onStart(now: number): void {
    this.#sendN(this.load.depth, now);
  }

  issue(intended: number): boolean {
    if (this.#closing) return false;
    this.#sendN(1, intended);
    return true;
  }

  #sendN(k: number, start: number): void {
    const { depth, batch, requestLength } = this.load;
    while (k > 0) {
      const m = k < depth ? k : depth;
      for (let i = 0; i < m; i++) this.#starts.push(start);
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
      this.conn.fail(err);
      return;
    }
    if (this.#closing) {
      this.#again();
      return;
    }
    // Closed loop: refill what completed, in one send.
    if (!this.load.openLoop && this.#completed > 0 && this.rec.running) this.#sendN(this.#completed, now);
  }

  onEnd(now: number): void {
    this.#now = now;
    const end = this.#reader.end(this.#onResponse);
    const kind = afterPeerClose(end, this.#closing, this.#inFlight, this.#answered);
    if (kind === null) this.#again();
    else this.conn.fail(kind);
  }

  /** The server ends this connection: requests still in flight on it will not be answered; the slot connects again. */
  #again(): void {
    if (this.#inFlight > 0) this.rec.error('unanswered', this.#inFlight);
    this.conn.reconnect();
  }

  #response(info: ResponseInfo): void {
    if (this.#inFlight === 0) {
      this.conn.fail(HTTP_ERRORS.unsolicited);
      return;
    }
    const start = this.#starts[this.#head++] ?? this.#now;
    if (this.#head > 64 && this.#head * 2 > this.#starts.length) {
      this.#starts.splice(0, this.#head);
      this.#head = 0;
    }
    // A wrong but well-framed reply is counted and the connection goes on, as wrk and autocannon do.
    if (info.error === null) this.rec.complete(start, this.#now, this.load.requestLength + info.bodyBytes);
    else this.rec.error(info.error);
    this.#completed++;
    this.#answered++;
    this.load.answered.add(this.conn.slot);
    if (info.close) this.#closing = true;
  }

  onClose(reconnecting: boolean): void {
    this.load.closed(this.conn.slot, reconnecting);
  }

  oldestInFlight(): number {
    return this.#inFlight === 0 ? Number.POSITIVE_INFINITY : (this.#starts[this.#head] ?? Number.POSITIVE_INFINITY);
  }

  timeoutKind(): string {
    // Waiting for a close that frames the body: name that, not a slow server.
    return this.#reader.awaitingClose ? HTTP_ERRORS.noLength : 'timeout';
  }
}

export function createClient(o: ClientOptions): ClientWorkload {
  return new HttpLoad(o);
}
