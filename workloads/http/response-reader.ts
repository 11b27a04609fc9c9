/**
 * The load driver's side of HTTP/1.1, without sockets: requests out, an
 * incremental response reader that verifies status, Content-Length and
 * (for GET) every body byte. Kept apart from the socket code so the driver
 * can move onto another IO layer unchanged.
 */
import { GrowBuffer } from '../grow-buffer.js';

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
/** A response head longer than this is not one of ours. */
const MAX_HEAD = 16 * 1024;

export function buildRequest(host: string, port: number, method = 'GET', path = '/'): Buffer {
  return Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`, 'latin1');
}

export interface ResponseInfo {
  status: number;
  /** Content-Length the response announced. */
  contentLength: number;
  /** The server said `Connection: close`: nothing follows this response. */
  close: boolean;
}

export interface Expectation {
  status: number;
  /** Bytes the body must equal (GET); its length is checked for HEAD too. */
  body: Uint8Array;
  /** HEAD: the response has headers only. */
  head: boolean;
}

/** Case-insensitive compare of b[start, start+lower.length) with a lowercase name. */
function startsWithName(b: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start < lower.length) return false;
  for (let i = 0; i < lower.length; i++) if (((b[start + i] ?? 0) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

export class ResponseReader {
  readonly #head = new GrowBuffer(512);
  #inBody = false;
  #bodyOff = 0;
  #info: ResponseInfo = { status: 0, contentLength: 0, close: false };

  constructor(private readonly expect: Expectation) {}

  /**
   * Feed bytes; calls `onResponse` after each complete, verified response.
   * Returns a one-line reason at the first response that fails
   * verification (the caller drops the connection), else null.
   */
  push(chunk: Buffer, onResponse: (r: ResponseInfo) => void): string | null {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.#inBody) {
        const want = this.expect.body.length - this.#bodyOff;
        const take = Math.min(want, n - pos);
        const got = chunk.subarray(pos, pos + take);
        const exp = this.expect.body.subarray(this.#bodyOff, this.#bodyOff + take);
        if (!got.equals(exp)) return `body differs from the page at byte ${this.#bodyOff}`;
        this.#bodyOff += take;
        pos += take;
        if (this.#bodyOff === this.expect.body.length) {
          this.#inBody = false;
          onResponse(this.#info);
        }
        continue;
      }
      let headBytes: Uint8Array;
      let headEnd: number;
      if (this.#head.length === 0) {
        const e = chunk.indexOf(CRLFCRLF, pos);
        if (e < 0) {
          this.#head.append(chunk.subarray(pos));
          return this.#head.length > MAX_HEAD ? 'response head too long' : null;
        }
        headBytes = chunk.subarray(pos, e + 4);
        headEnd = e + 4;
      } else {
        // The head spans packets: join, then look again from a little before the seam.
        const seam = this.#head.length;
        this.#head.append(chunk.subarray(pos, Math.min(n, pos + MAX_HEAD)));
        const v = Buffer.from(this.#head.view().buffer, this.#head.view().byteOffset, this.#head.length);
        const e = v.indexOf(CRLFCRLF, Math.max(0, seam - 3));
        if (e < 0) {
          if (this.#head.length > MAX_HEAD) return 'response head too long';
          return null;
        }
        headBytes = v.subarray(0, e + 4);
        headEnd = pos + (e + 4 - seam);
      }
      const err = this.#parseHead(headBytes);
      this.#head.clear();
      if (err !== null) return err;
      pos = headEnd;
      if (this.expect.head || this.expect.body.length === 0) {
        onResponse(this.#info);
      } else {
        this.#inBody = true;
        this.#bodyOff = 0;
      }
    }
    return null;
  }

  #parseHead(b: Uint8Array): string | null {
    // "HTTP/1.1 200 " — the status is bytes 9-11.
    if (b.length < 12 || b[0] !== 0x48 || b[4] !== 0x2f || b[8] !== 0x20) return 'malformed status line';
    const status = ((b[9] ?? 0) - 0x30) * 100 + ((b[10] ?? 0) - 0x30) * 10 + ((b[11] ?? 0) - 0x30);
    if (status !== this.expect.status) return `status ${status}, expected ${this.expect.status}`;
    let contentLength = -1;
    let close = false;
    let i = b.indexOf(0x0a) + 1;
    while (i < b.length - 2) {
      let j = b.indexOf(0x0d, i);
      if (j < 0) j = b.length;
      if (startsWithName(b, i, j, 'content-length:')) {
        let v = 0;
        let k = i + 15;
        while (b[k] === 0x20) k++;
        const s = k;
        for (; k < j; k++) v = v * 10 + ((b[k] ?? 0) - 0x30);
        if (k === s) return 'empty Content-Length';
        contentLength = v;
      } else if (startsWithName(b, i, j, 'connection:')) {
        close = startsWithName(b, i + 11, j, ' close') || startsWithName(b, i + 11, j, 'close');
      }
      i = j + 2;
    }
    if (contentLength !== this.expect.body.length) return `Content-Length ${contentLength}, expected ${this.expect.body.length}`;
    this.#info = { status, contentLength, close };
    return null;
  }
}
