/**
 * HTTP/1.1 keep-alive load on the shared selector client loop
 * (selector-loop.ts), with the same semantics as the node:net native
 * driver (http-net.ts). What is sent and how replies are judged is the
 * sans-IO client's (workloads/http/client.ts, response-reader.ts); this
 * file only moves its bytes: `pipelining` requests in flight per
 * connection in closed loop, refilled as responses complete; one request
 * per slot in open loop. A response that says the server closes (or a body
 * framed by the close) ends its connection and the slot connects again.
 */
import { ClientConn, CONNECTING, OPEN, RECV_BUFFER, SelectorClientLoop, type PhaseListener, type SelectorLoopOptions } from './selector-loop.js';
import { bumpError } from './driver.js';
import { afterPeerClose, httpClient } from '../../workloads/http/client.js';
import { httpPipelining } from '../../workloads/http/pipelining.js';
import { HTTP_ERRORS, ResponseReader, type OnResponse, type ResponseCheck, type ResponseInfo } from '../../workloads/http/response-reader.js';

/** recv views of these lengths are cached, so a read allocates nothing. */
const VIEW_CACHE_MAX = 16 * 1024;

class HttpConn extends ClientConn {
  /** A response said the server closes: nothing more comes on this connection. */
  closing = false;
  /** Responses completed by the current read. */
  completed = 0;
  /** Responses this connection has read (a keep-alive close after one is the server's timeout, not a fault). */
  answered = 0;
  readonly onResponse: OnResponse;

  constructor(
    slot: number,
    fd: number,
    readonly reader: ResponseReader,
    handle: (c: HttpConn, info: ResponseInfo) => void,
  ) {
    super(slot, fd);
    this.onResponse = (info) => {
      handle(this, info);
    };
  }
}

export class HttpSelectorLoop extends SelectorClientLoop<HttpConn> {
  readonly #depth: number;
  readonly #reqLen: number;
  readonly #check: ResponseCheck;
  readonly #views: (Buffer | undefined)[] = [];
  /** Slots whose connection has answered at least once: one that is connecting again still counts as established. */
  readonly #answered: Uint8Array;
  readonly #handle = (c: HttpConn, info: ResponseInfo): void => {
    this.#onResponse(c, info);
  };
  /** Time of the read being parsed. */
  #now = 0;

  constructor(o: SelectorLoopOptions, onPhase: PhaseListener) {
    const client = httpClient(o.http, o.host, o.port);
    // A request that asks the server to close gets one answer per connection.
    const depth = client.closes ? 1 : httpPipelining(o);
    const request = client.request;
    // Slab after the receive area: `depth` copies of the request back to
    // back, so k ≤ depth pipelined requests are one send of a prefix.
    super(o, onPhase, depth * request.length);
    this.#depth = depth;
    this.#reqLen = request.length;
    this.#check = client.check;
    this.#answered = new Uint8Array(o.connections);
    for (let i = 0; i < depth; i++) request.copy(this.slab, RECV_BUFFER + i * request.length);
  }

  protected newConn(slot: number, fd: number): HttpConn {
    return new HttpConn(slot, fd, new ResponseReader(this.#check), this.#handle);
  }

  protected override extra(): Record<string, number> {
    return { pipelining: this.#depth };
  }

  protected override countEstablished(): number {
    // A slot between a closed connection and its next one is established
    // (with --http-close or a server that closes, every connection is short-lived).
    let n = 0;
    for (const c of this.conns) if (c !== undefined && (c.state === OPEN || (c.state === CONNECTING && this.#answered[c.slot] === 1))) n++;
    return n;
  }

  protected override timeoutKind(c: HttpConn): string {
    // Waiting for a close that frames the body: name that, not a slow server.
    return c.reader.awaitingClose ? HTTP_ERRORS.noLength : 'timeout';
  }

  protected override peerClosed(c: HttpConn): void {
    this.#now = performance.now();
    c.completed = 0;
    const end = c.reader.end(c.onResponse);
    if (c.state !== OPEN) return;
    const kind = afterPeerClose(end, c.closing, c.pn, c.answered);
    if (kind === null) this.#again(c);
    else this.drop(c, kind);
  }

  protected start(c: HttpConn, now: number): void {
    this.#sendN(c, this.#depth, now);
  }

  protected issue(c: HttpConn, intended: number): boolean {
    if (c.closing) return false;
    this.#sendN(c, 1, intended);
    return true;
  }

  #sendN(c: HttpConn, k: number, start: number): void {
    while (k > 0 && c.state === OPEN) {
      const m = k < this.#depth ? k : this.#depth;
      for (let i = 0; i < m; i++) this.pushStart(c, start);
      this.sendBytes(c, this.slab, RECV_BUFFER, m * this.#reqLen);
      k -= m;
    }
  }

  /** The server ends `c`: requests still in flight on it will not be answered; the slot connects again. */
  #again(c: HttpConn): void {
    if (c.pn > 0 && this.running) bumpError(this.errors, 'unanswered', c.pn);
    this.reconnect(c);
  }

  protected received(c: HttpConn, n: number, now: number): void {
    this.#now = now;
    c.completed = 0;
    const err = c.reader.push(this.#view(n), c.onResponse);
    if (c.state !== OPEN) return;
    if (err !== null) {
      this.drop(c, err);
      return;
    }
    if (c.closing) {
      this.#again(c);
      return;
    }
    // Closed loop: refill what completed, in one send.
    if (!this.openLoop && c.completed > 0 && this.running) this.#sendN(c, c.completed, now);
  }

  #onResponse(c: HttpConn, info: ResponseInfo): void {
    if (c.state !== OPEN) return;
    const inFlight = info.error === null ? this.complete(c, this.#now, this.#reqLen + info.bodyBytes) : this.forget(c);
    if (!inFlight) {
      this.drop(c, HTTP_ERRORS.unsolicited);
      return;
    }
    // A wrong but well-framed reply is counted and the connection goes on, as wrk and autocannon do.
    if (info.error !== null && this.running) bumpError(this.errors, info.error);
    c.completed++;
    c.answered++;
    this.#answered[c.slot] = 1;
    if (info.close) c.closing = true;
  }

  /** slab[0, n) as a Buffer view, cached per length. */
  #view(n: number): Buffer {
    if (n > VIEW_CACHE_MAX) return this.slab.subarray(0, n);
    let v = this.#views[n];
    if (v === undefined) {
      v = this.slab.subarray(0, n);
      this.#views[n] = v;
    }
    return v;
  }
}
