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
 */
import { PAGE_BYTES } from './page.js';
import { buildRequest, DEFAULT_REQUEST, parseHeader, requestCloses, type RequestShape } from './request.js';
import type { ResponseCheck } from './response-reader.js';
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
