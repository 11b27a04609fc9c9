/**
 * The load driver's request, without sockets: what `--method`, `--path`,
 * `--header` and `--body` ask for, checked and turned into the bytes every
 * connection sends, as wrk and autocannon build theirs.
 */

export interface RequestShape {
  readonly method: string;
  readonly path: string;
  /** In the order given; a Host among them replaces the default one. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** Sent as is, with a Content-Length (absent: no body, no length). */
  readonly body?: Uint8Array;
}

export const DEFAULT_REQUEST: RequestShape = { method: 'GET', path: '/', headers: [] };

/** RFC 9110 tchar: what a method or a header name is made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MAX_METHOD = 32;
const MAX_PATH = 8 * 1024;

/** Why `method` cannot be sent, or null. */
export function methodProblem(method: string): string | null {
  if (!TOKEN.test(method) || method.length > MAX_METHOD) return `must be an HTTP method token like GET, HEAD or POST, got "${method}"`;
  // A 2xx to CONNECT turns the connection into a tunnel: there is no reply to verify.
  if (method.toUpperCase() === 'CONNECT') return 'CONNECT opens a tunnel, not a request/response exchange to measure';
  return null;
}

/** Why `path` cannot be a request target, or null. */
export function pathProblem(path: string): string | null {
  if (path.length > MAX_PATH) return `must be at most ${MAX_PATH} bytes, got ${path.length}`;
  // origin-form ("/a?b"), asterisk-form (OPTIONS *) or absolute-form (a proxy's).
  if (!(path.startsWith('/') || path === '*' || /^https?:\/\//i.test(path))) return `must start with "/" (or be "*", or an absolute http:// URL), got "${path}"`;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return `has a space, control or non-ASCII character at ${i} (percent-encode it), got "${path}"`;
  }
  return null;
}

/** Headers the driver owns: the body sets the length, and requests are never chunked. */
const OWNED = new Set(['content-length', 'transfer-encoding']);

/** "Name: value" → the pair, or the reason it is not a header to send. */
export function parseHeader(text: string): readonly [string, string] | { error: string } {
  const colon = text.indexOf(':');
  if (colon <= 0) return { error: `must be NAME:VALUE like "Accept: text/html", got "${text}"` };
  const name = text.slice(0, colon);
  if (!TOKEN.test(name)) return { error: `"${name}" is not a header name (letters, digits and !#$%&'*+-.^_\`|~, no spaces)` };
  if (OWNED.has(name.toLowerCase())) return { error: `${name} is set by the driver (--body sets Content-Length; requests are never chunked)` };
  const value = text.slice(colon + 1).trim();
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f || c > 0xff) return { error: `the value of ${name} has a control or non-latin1 character at ${i}` };
  }
  return [name, value];
}

/** The Host header a client sends for host:port (an IPv6 literal in brackets). */
export function hostHeader(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The request's bytes, head and body. */
export function buildRequest(host: string, port: number, shape: RequestShape = DEFAULT_REQUEST): Buffer {
  const lines = [`${shape.method} ${shape.path} HTTP/1.1`];
  if (!shape.headers.some(([n]) => n.toLowerCase() === 'host')) lines.push(`Host: ${hostHeader(host, port)}`);
  for (const [n, v] of shape.headers) lines.push(`${n}: ${v}`);
  if (shape.body !== undefined) lines.push(`Content-Length: ${shape.body.length}`);
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return shape.body === undefined || shape.body.length === 0 ? head : Buffer.concat([head, shape.body]);
}

/** The request announces `Connection: close`: the server answers once, then closes. */
export function requestCloses(shape: RequestShape): boolean {
  return shape.headers.some(([n, v]) => n.toLowerCase() === 'connection' && /(^|,)\s*close\s*(,|$)/i.test(v));
}
