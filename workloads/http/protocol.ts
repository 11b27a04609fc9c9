/**
 * HTTP/1.1 server, the seed's WebServer: GET or HEAD of `/` returns its
 * page, anything else 404. Keep-alive by default (HTTP/1.0: only when asked),
 * `Connection: close` honoured, pipelined requests answered in order.
 * `httpClose` is the seed's "用完就断": close after every response. Every
 * 4xx closes the connection. Deadlines (slowloris 408, keep-alive idle) run
 * on Session.tick, never on timers of our own.
 */
import type { Conn, HttpAnswer, HttpResponder, Protocol, ProtocolHost, ProtocolOptions, Session } from '../../core/protocol.js';
import { buildResponse, httpDate, NOT_FOUND_BODY, PAGE_BYTES, PAGE_CONTENT_TYPE, SERVER_NAME } from './page.js';
import { DEFAULT_LIMITS, RequestParser, type ParserLimits, type RequestHead } from './parser.js';

export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export interface HttpServerOptions {
  /** Close after every response (the seed's "用完就断"). */
  httpClose: boolean;
  /** CPU burned per request, µs (a busy loop on the clock). */
  workUs: number;
  /** Syscalls that change nothing, made per request through the strategy's host (getpid). */
  extraSyscalls: number;
  /** Head still incomplete this long after it began → 408 and close. */
  headerTimeoutMs: number;
  /** No byte of a next request for this long → close. */
  idleTimeoutMs: number;
  limits: ParserLimits;
}

function num(o: ProtocolOptions, key: string, dflt: number): number {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : dflt;
}

export function httpServerOptions(o: ProtocolOptions): HttpServerOptions {
  return {
    httpClose: o['httpClose'] === true,
    workUs: num(o, 'workUs', 0),
    extraSyscalls: Math.floor(num(o, 'extraSyscalls', 0)),
    headerTimeoutMs: num(o, 'headerTimeoutMs', DEFAULT_HEADER_TIMEOUT_MS),
    idleTimeoutMs: num(o, 'idleTimeoutMs', DEFAULT_IDLE_TIMEOUT_MS),
    limits: {
      maxRequestLine: num(o, 'maxRequestLine', DEFAULT_LIMITS.maxRequestLine),
      maxHeaderBytes: num(o, 'maxHeaderBytes', DEFAULT_LIMITS.maxHeaderBytes),
      maxHeaders: num(o, 'maxHeaders', DEFAULT_LIMITS.maxHeaders),
      maxBody: num(o, 'maxBody', DEFAULT_LIMITS.maxBody),
    },
  };
}

/** Burn `us` µs of CPU: the --work-us knob (a real computation stand-in). */
export function burnCpu(us: number): void {
  if (us <= 0) return;
  const until = performance.now() + us / 1000;
  while (performance.now() < until) {
    // spin: the point is to hold the CPU
  }
}

type Kind = 'page' | 'pageHead' | 'notFound' | 'notFoundHead';

/**
 * Responses are prebuilt per second (the Date header changes once a
 * second), so a request costs a lookup, not string building.
 */
class ResponseCache {
  #second = -1;
  #cache = new Map<string, Buffer>();

  get(kind: Kind, connection: 'close' | 'keep-alive', nowMs: number): Buffer {
    const sec = Math.floor(nowMs / 1000);
    if (sec !== this.#second) {
      this.#second = sec;
      this.#cache.clear();
    }
    const key = kind + connection;
    let r = this.#cache.get(key);
    if (r === undefined) {
      const page = kind === 'page' || kind === 'pageHead';
      r = buildResponse({
        status: page ? 200 : 404,
        body: page ? PAGE_BYTES : NOT_FOUND_BODY,
        contentType: page ? PAGE_CONTENT_TYPE : 'text/plain; charset=utf-8',
        withBody: kind === 'page' || kind === 'notFound',
        connection,
        date: httpDate(sec * 1000),
      });
      this.#cache.set(key, r);
    }
    return r;
  }
}

function errorResponse(status: number, nowMs: number): Buffer {
  return buildResponse({
    status,
    body: Buffer.from(`${status}\n`),
    contentType: 'text/plain; charset=utf-8',
    withBody: true,
    connection: 'close',
    date: httpDate(nowMs),
  });
}

function isRootPath(target: string): boolean {
  return target === '/' || target.startsWith('/?');
}

/** The cost of one request beyond answering it: the server cost knobs (--work-us, --extra-syscalls). */
function requestCost(o: HttpServerOptions, host: ProtocolHost | undefined): () => void {
  const n = o.extraSyscalls;
  if (n > 0 && host === undefined) throw new Error('extraSyscalls needs a strategy that gives the protocol a host to make them on');
  return () => {
    burnCpu(o.workUs);
    if (n > 0) host?.syscalls(n);
  };
}

export function createProtocol(options: ProtocolOptions = {}, host?: ProtocolHost): Protocol {
  const o = httpServerOptions(options);
  const cost = requestCost(o, host);
  const cache = new ResponseCache();
  return {
    open(conn: Conn): Session {
      const parser = new RequestParser(o.limits);
      /** No more requests: what is queued in `out` is the last. */
      let closed = false;
      // Deadlines count from the first tick that saw the state, so they
      // fire between T and T + one tick interval (≤ 1 s) after it began.
      let headSince = -1;
      let idleSince = -1;
      /** Responses of one onData call, written at once (pipelining). */
      const out: Buffer[] = [];

      const close = (): void => {
        closed = true;
        parser.stop();
      };
      const flush = (): void => {
        if (out.length === 1) conn.write(out[0] ?? Buffer.alloc(0));
        else if (out.length > 1) conn.write(Buffer.concat(out));
        out.length = 0;
      };

      const onRequest = (h: RequestHead): void => {
        headSince = -1;
        cost();
        const keep = h.keepAlive && !o.httpClose;
        const head = h.method === 'HEAD';
        const known = head || h.method === 'GET';
        const now = Date.now();
        if (!known) {
          out.push(
            buildResponse({
              status: 405,
              body: Buffer.from('405\n'),
              contentType: 'text/plain; charset=utf-8',
              withBody: true,
              connection: 'close',
              date: httpDate(now),
              extraHeaders: 'Allow: GET, HEAD\r\n',
            }),
          );
          close();
          return;
        }
        const root = isRootPath(h.target);
        const kind: Kind = root ? (head ? 'pageHead' : 'page') : head ? 'notFoundHead' : 'notFound';
        // Every 4xx ends the connection, 404 included.
        const stay = keep && root;
        out.push(cache.get(kind, stay ? 'keep-alive' : 'close', now));
        if (!stay) close();
      };

      return {
        onData(bytes) {
          if (closed) return;
          idleSince = -1;
          const err = parser.push(bytes, onRequest);
          if (err !== null && !closed) {
            out.push(errorResponse(err.status, Date.now()));
            close();
          }
          flush();
          if (closed) conn.close();
        },
        onClose() {
          closed = true;
          parser.stop();
        },
        tick(nowMs) {
          if (closed) return;
          if (parser.inHead) {
            idleSince = -1;
            if (headSince < 0) headSince = nowMs;
            else if (nowMs - headSince >= o.headerTimeoutMs) {
              close();
              conn.write(errorResponse(408, nowMs));
              conn.close();
            }
            return;
          }
          headSince = -1;
          // Idle between requests, or a body that stopped arriving.
          if (idleSince < 0) idleSince = nowMs;
          else if (nowMs - idleSince >= o.idleTimeoutMs) {
            close();
            conn.close();
          }
        },
      };
    },
  };
}

const TEXT = 'text/plain; charset=utf-8';
const EMPTY = new Uint8Array(0);

function answer(status: number, body: Uint8Array, type: string, keepAlive: boolean, withBody: boolean, extra: Record<string, string> = {}): HttpAnswer {
  return {
    status,
    headers: { Server: SERVER_NAME, 'Content-Type': type, 'Content-Length': body.length, Connection: keepAlive ? 'keep-alive' : 'close', ...extra },
    body: withBody ? body : EMPTY,
    keepAlive,
  };
}

/**
 * The same answers as createProtocol's, for a strategy with its own HTTP
 * parser (node-http): what it serves must not differ from ours, only how
 * the request was read.
 */
export function createHttpResponder(options: ProtocolOptions = {}, host?: ProtocolHost): HttpResponder {
  const o = httpServerOptions(options);
  const cost = requestCost(o, host);
  return {
    limits: { maxHeaderBytes: o.limits.maxHeaderBytes, maxBody: o.limits.maxBody, headerTimeoutMs: o.headerTimeoutMs, idleTimeoutMs: o.idleTimeoutMs },
    respond(method, url, clientKeepAlive) {
      cost();
      const head = method === 'HEAD';
      if (!head && method !== 'GET') return answer(405, Buffer.from('405\n'), TEXT, false, true, { Allow: 'GET, HEAD' });
      const root = isRootPath(url);
      // Every 4xx ends the connection, 404 included.
      if (!root) return answer(404, NOT_FOUND_BODY, TEXT, false, !head);
      return answer(200, PAGE_BYTES, PAGE_CONTENT_TYPE, clientKeepAlive && !o.httpClose, !head);
    },
    refusal(status) {
      return errorResponse(status, Date.now());
    },
  };
}
