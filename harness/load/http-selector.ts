/**
 * HTTP/1.1 keep-alive load on the shared selector client loop
 * (../selector-client.ts), with the same semantics as the node:net native
 * driver (driver.ts) and its parser/verification (response-reader.ts):
 * `pipelining` requests in flight per connection in closed loop, refilled
 * as responses complete; one request per slot in open loop; every response
 * checked (status, Content-Length, body bytes). With `httpClose` the server
 * ends each connection after its response and the slot connects again.
 */
import { ClientConn, OPEN, RECV_BUFFER, SelectorClientLoop, type PhaseListener, type SelectorLoopOptions } from './selector-loop.js';
import { httpPipelining } from '../../workloads/http/pipelining.js';
import { PAGE_BYTES } from '../../workloads/http/page.js';
import { buildRequest, ResponseReader, type ResponseInfo } from '../../workloads/http/response-reader.js';

/** recv views of these lengths are cached, so a read allocates nothing. */
const VIEW_CACHE_MAX = 16 * 1024;

class HttpConn extends ClientConn {
  /** The server announced close: connect again once this response is in. */
  closing = false;
  /** Responses completed by the current read. */
  completed = 0;
  readonly onResponse: (info: ResponseInfo) => void;

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
  readonly #views: (Buffer | undefined)[] = [];
  readonly #expect = { status: 200, body: PAGE_BYTES, head: false };
  readonly #handle = (c: HttpConn, info: ResponseInfo): void => {
    this.#onResponse(c, info);
  };
  /** Time of the read being parsed. */
  #now = 0;

  constructor(o: SelectorLoopOptions, onPhase: PhaseListener) {
    const depth = httpPipelining(o);
    const request = buildRequest(o.host, o.port);
    // Slab after the receive area: `depth` copies of the request back to
    // back, so k ≤ depth pipelined requests are one send of a prefix.
    super(o, onPhase, depth * request.length);
    this.#depth = depth;
    this.#reqLen = request.length;
    for (let i = 0; i < depth; i++) request.copy(this.slab, RECV_BUFFER + i * request.length);
  }

  protected newConn(slot: number, fd: number): HttpConn {
    return new HttpConn(slot, fd, new ResponseReader(this.#expect), this.#handle);
  }

  protected override extra(): Record<string, number> {
    return { pipelining: this.#depth };
  }

  protected override countEstablished(): number {
    // With httpClose every connection is short-lived: count the slots that got one.
    if (this.o.protocol['httpClose'] !== true) return super.countEstablished();
    let n = 0;
    for (const c of this.conns) if (c !== undefined) n++;
    return n;
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

  protected received(c: HttpConn, n: number, now: number): void {
    this.#now = now;
    c.completed = 0;
    const err = c.reader.push(this.#view(n), c.onResponse);
    if (c.state !== OPEN) return;
    if (err !== null) {
      this.drop(c, 'verify');
      return;
    }
    if (c.closing) {
      if (c.pn === 0) this.reconnect(c);
      return;
    }
    // Closed loop: refill what completed, in one send.
    if (!this.openLoop && c.completed > 0 && this.running) this.#sendN(c, c.completed, now);
  }

  #onResponse(c: HttpConn, info: ResponseInfo): void {
    if (c.state !== OPEN) return;
    if (!this.complete(c, this.#now, this.#reqLen + info.contentLength)) {
      // A response nobody asked for.
      this.drop(c, 'verify');
      return;
    }
    c.completed++;
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
