/**
 * The load driver's side of HTTP/1.1 responses, without sockets: an
 * incremental reader that frames every response the way RFC 9112 §6.3
 * says (HEAD, 1xx, 204 and 304 have no body; chunked, with extensions and
 * trailers; Content-Length; else the body runs until the server closes),
 * knows when the server will close the connection, and verifies each reply
 * against a ResponseCheck: the status, and when asked, every body byte.
 *
 * Two kinds of failure. A reply that is well framed but wrong (a status
 * outside the set, a body that differs) is reported on that response
 * (`ResponseInfo.error`) and the stream goes on, as wrk and autocannon
 * count non-2xx. A stream that cannot be framed any more (malformed status
 * line, bad chunk size, a head past MAX_HEAD, an upgrade) is fatal: `push`
 * returns its kind and the connection must be dropped.
 *
 * The common case, a Content-Length response in one packet, allocates
 * nothing: the head is scanned in place, the body compared with
 * Buffer#compare, and one ResponseInfo is reused for every response.
 */
import { GrowBuffer } from '../grow-buffer.js';
import { isHttp1At } from './parser.js';

/** A response head (status line and headers) longer than this is refused. */
export const MAX_HEAD = 64 * 1024;
/** A chunk-size line with its extensions longer than this is refused. */
const MAX_CHUNK_LINE = 4096;
/** Hex digits of a chunk size: 13 keep it below 2^53. */
const MAX_CHUNK_DIGITS = 13;

/** Every error kind the HTTP client reports starts with this (the workload's verdict finds them by it). */
export const HTTP_ERROR_PREFIX = 'http ';

/** The per-reply and per-stream error kinds, as they appear in results' `errors`. */
export const HTTP_ERRORS = {
  /** The body (or, for HEAD, its announced length) differs from the expected bytes. */
  body: 'http body',
  /** A 1xx other than 100 Continue (102 Processing, 103 Early Hints …): not followed here. */
  interim: 'http 1xx',
  /** 101 Switching Protocols: the connection stops being HTTP/1.1. */
  upgrade: 'http upgrade',
  statusLine: 'http malformed status line',
  header: 'http malformed header',
  headTooLong: 'http head too long',
  contentLength: 'http bad content-length',
  chunk: 'http bad chunk',
  /** The server closed inside a head or a length- or chunk-framed body. */
  truncated: 'http truncated',
  /** A body framed by the close (no length, not chunked) whose server kept the connection open past the timeout. */
  noLength: 'http no length',
  /** A response arrived with no request in flight. */
  unsolicited: 'http unsolicited',
} as const;

const statusKinds: string[] = [];
/** "http status 503": one kind per status, so results say which. */
export function statusKind(status: number): string {
  return (statusKinds[status] ??= `${HTTP_ERROR_PREFIX}status ${status}`);
}

export interface ResponseCheck {
  /** 1 at each status a final response may have (StatusSet.allowed). */
  readonly allowed: Uint8Array;
  /** The body every response must carry, byte for byte (absent: any body). */
  readonly body?: Buffer;
  /** The requests are HEAD: no response has a body, whatever its headers say. */
  readonly head: boolean;
}

/** One complete response. The reader reuses this object: read it inside the callback. */
export interface ResponseInfo {
  status: number;
  /** Body bytes (de-chunked). */
  bodyBytes: number;
  /** The server closes the connection after this response: nothing follows it. */
  close: boolean;
  /** null: verified; else its kind (`http status 404`, `http body`). */
  error: string | null;
}

export type OnResponse = (r: ResponseInfo) => void;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

// Reader states.
const HEAD = 0;
const BODY_LENGTH = 1;
const BODY_EOF = 2;
const CHUNK_SIZE = 3;
const CHUNK_EXT = 4;
const CHUNK_SIZE_LF = 5;
const CHUNK_DATA = 6;
const CHUNK_DATA_CR = 7;
const CHUNK_DATA_LF = 8;
const TRAILER_START = 9;
const TRAILER_LINE = 10;
const TRAILER_END_LF = 11;
/** A response said the server closes: anything after it is ignored. */
const CLOSED = 12;
const FAILED = 13;

/** b[start, start+lower.length) equals `lower`, ignoring ASCII case. */
function nameIs(b: Uint8Array, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if (((b[start + i] ?? 0) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

export class ResponseReader {
  readonly #allowed: Uint8Array;
  readonly #expect: Buffer | undefined;
  readonly #isHead: boolean;
  readonly #head = new GrowBuffer(512);
  readonly #info: ResponseInfo = { status: 0, bodyBytes: 0, close: false, error: null };
  #state = HEAD;
  #fatal: string | null = null;
  // The response being read.
  #status = 0;
  #statusBad = false;
  #close = false;
  #remaining = 0;
  #bodyOff = 0;
  #bodyBad = false;
  #chunkDigits = 0;
  #lineBytes = 0;

  constructor(check: ResponseCheck) {
    this.#allowed = check.allowed;
    this.#expect = check.body;
    this.#isHead = check.head;
  }

  /** Between responses, with nothing of the next one read. */
  get idle(): boolean {
    return this.#state === HEAD && this.#head.length === 0;
  }

  /** Reading a body that ends when the server closes. */
  get awaitingClose(): boolean {
    return this.#state === BODY_EOF;
  }

  /**
   * Feed bytes; calls `onResponse` for each complete response, verified or
   * not (see ResponseInfo.error). Returns the kind of a fatal error (the
   * caller drops the connection; every later call returns it again), else null.
   */
  push(chunk: Buffer, onResponse: OnResponse): string | null {
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      switch (this.#state) {
        case HEAD:
          pos = this.#readHead(chunk, pos, onResponse);
          break;
        case BODY_LENGTH:
          pos = this.#bodyBytes(chunk, pos, n);
          if (this.#remaining === 0) this.#finish(onResponse);
          break;
        case BODY_EOF:
          this.#body(chunk, pos, n - pos);
          pos = n;
          break;
        case CHUNK_SIZE: {
          const c = chunk[pos] ?? 0;
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#chunkDigits > MAX_CHUNK_DIGITS) return this.#fail(HTTP_ERRORS.chunk);
            this.#remaining = this.#remaining * 16 + v;
          } else if (this.#chunkDigits === 0) {
            return this.#fail(HTTP_ERRORS.chunk);
          } else if (c === CR) {
            this.#state = CHUNK_SIZE_LF;
          } else if (c === 0x3b || c === SP || c === HT) {
            // ";name=value" extensions (and the whitespace before them) are skipped.
            this.#state = CHUNK_EXT;
          } else {
            return this.#fail(HTTP_ERRORS.chunk);
          }
          pos++;
          if (++this.#lineBytes > MAX_CHUNK_LINE) return this.#fail(HTTP_ERRORS.chunk);
          break;
        }
        case CHUNK_EXT: {
          const e = chunk.indexOf(CR, pos);
          const end = e < 0 ? n : e;
          this.#lineBytes += end - pos;
          if (this.#lineBytes > MAX_CHUNK_LINE) return this.#fail(HTTP_ERRORS.chunk);
          pos = e < 0 ? n : e + 1;
          if (e >= 0) this.#state = CHUNK_SIZE_LF;
          break;
        }
        case CHUNK_SIZE_LF:
          if (chunk[pos] !== LF) return this.#fail(HTTP_ERRORS.chunk);
          pos++;
          this.#lineBytes = 0;
          this.#chunkDigits = 0;
          this.#state = this.#remaining === 0 ? TRAILER_START : CHUNK_DATA;
          break;
        case CHUNK_DATA:
          pos = this.#bodyBytes(chunk, pos, n);
          if (this.#remaining === 0) this.#state = CHUNK_DATA_CR;
          break;
        case CHUNK_DATA_CR:
          if (chunk[pos] !== CR) return this.#fail(HTTP_ERRORS.chunk);
          pos++;
          this.#state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (chunk[pos] !== LF) return this.#fail(HTTP_ERRORS.chunk);
          pos++;
          this.#state = CHUNK_SIZE;
          break;
        case TRAILER_START:
          if (chunk[pos] === CR) {
            pos++;
            this.#state = TRAILER_END_LF;
          } else {
            this.#state = TRAILER_LINE;
          }
          break;
        case TRAILER_LINE: {
          // Trailer fields are read past, not used: the status was final at the head.
          const e = chunk.indexOf(LF, pos);
          const end = e < 0 ? n : e + 1;
          this.#lineBytes += end - pos;
          if (this.#lineBytes > MAX_HEAD) return this.#fail(HTTP_ERRORS.headTooLong);
          pos = end;
          if (e >= 0) this.#state = TRAILER_START;
          break;
        }
        case TRAILER_END_LF:
          if (chunk[pos] !== LF) return this.#fail(HTTP_ERRORS.chunk);
          pos++;
          this.#finish(onResponse);
          break;
        case CLOSED:
          return null;
        default:
          return this.#fatal;
      }
      if (this.#state === FAILED) return this.#fatal;
    }
    return null;
  }

  /** Body bytes, up to the #remaining of a length or chunk, from chunk[pos, n): the position after them. */
  #bodyBytes(chunk: Buffer, pos: number, n: number): number {
    const take = Math.min(this.#remaining, n - pos);
    this.#body(chunk, pos, take);
    this.#remaining -= take;
    return pos + take;
  }

  /**
   * The server closed the connection. A body framed by the close is
   * complete now (`onResponse` is called); inside any other response the
   * close is an error, whose kind is returned. Null: a clean end.
   */
  end(onResponse: OnResponse): string | null {
    switch (this.#state) {
      case HEAD:
        return this.#head.length === 0 ? null : this.#fail(HTTP_ERRORS.truncated);
      case BODY_EOF:
        this.#finish(onResponse);
        return null;
      case CLOSED:
        return null;
      case FAILED:
        return this.#fatal;
      default:
        return this.#fail(HTTP_ERRORS.truncated);
    }
  }

  #fail(kind: string): string {
    this.#state = FAILED;
    this.#fatal = kind;
    this.#head.clear();
    return kind;
  }

  #body(chunk: Buffer, pos: number, len: number): void {
    const exp = this.#expect;
    if (exp !== undefined && !this.#bodyBad) {
      const off = this.#bodyOff;
      if (off + len > exp.length || chunk.compare(exp, off, off + len, pos, pos + len) !== 0) this.#bodyBad = true;
    }
    this.#bodyOff += len;
  }

  #finish(onResponse: OnResponse): void {
    const info = this.#info;
    info.status = this.#status;
    info.bodyBytes = this.#bodyOff;
    info.close = this.#close;
    const exp = this.#expect;
    const short = exp !== undefined && !this.#isHead && this.#bodyOff !== exp.length;
    info.error = this.#statusBad ? statusKind(this.#status) : this.#bodyBad || short ? HTTP_ERRORS.body : null;
    this.#state = this.#close ? CLOSED : HEAD;
    onResponse(info);
  }

  /** Read a head from chunk[pos...]; returns where the next state starts reading. */
  #readHead(chunk: Buffer, pos: number, onResponse: OnResponse): number {
    const n = chunk.length;
    let b: Buffer;
    let start: number;
    let end: number;
    let next: number;
    if (this.#head.length === 0) {
      const e = chunk.indexOf(CRLFCRLF, pos);
      if (e < 0) {
        if (n - pos > MAX_HEAD) this.#fail(HTTP_ERRORS.headTooLong);
        else this.#head.append(chunk.subarray(pos));
        return n;
      }
      b = chunk;
      start = pos;
      end = e + 4;
      next = end;
    } else {
      // The head spans packets: join, then look again from just before the seam.
      const seam = this.#head.length;
      this.#head.append(chunk.subarray(pos, Math.min(n, pos + MAX_HEAD)));
      const v = this.#head.view();
      b = Buffer.from(v.buffer, v.byteOffset, v.length);
      const e = b.indexOf(CRLFCRLF, Math.max(0, seam - 3));
      if (e < 0) {
        if (b.length > MAX_HEAD) this.#fail(HTTP_ERRORS.headTooLong);
        return n;
      }
      start = 0;
      end = e + 4;
      next = pos + (end - seam);
    }
    if (end - start > MAX_HEAD) {
      this.#fail(HTTP_ERRORS.headTooLong);
      return n;
    }
    this.#parseHead(b, start, end, onResponse);
    this.#head.clear();
    return next;
  }

  /** b[start, end) is a whole head, CRLFCRLF included. */
  #parseHead(b: Buffer, start: number, end: number, onResponse: OnResponse): void {
    // "HTTP/1.x NNN" then a space (and a reason) or the line's end.
    if (end - start < 16 || !isHttp1At(b, start) || b[start + 8] !== SP || (b[start + 12] !== SP && b[start + 12] !== CR)) {
      this.#fail(HTTP_ERRORS.statusLine);
      return;
    }
    const minor = (b[start + 7] ?? 0) - 0x30;
    const d1 = (b[start + 9] ?? 0) - 0x30;
    const d2 = (b[start + 10] ?? 0) - 0x30;
    const d3 = (b[start + 11] ?? 0) - 0x30;
    if (minor < 0 || minor > 9 || d1 < 1 || d1 > 5 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) {
      this.#fail(HTTP_ERRORS.statusLine);
      return;
    }
    const status = d1 * 100 + d2 * 10 + d3;
    if (status < 200) {
      // 100 Continue is skipped: the final response follows it.
      if (status !== 100) this.#fail(status === 101 ? HTTP_ERRORS.upgrade : HTTP_ERRORS.interim);
      return;
    }
    let statusEnd = start + 12;
    while (b[statusEnd] !== CR) statusEnd++;
    if (b[statusEnd + 1] !== LF) {
      this.#fail(HTTP_ERRORS.statusLine);
      return;
    }

    let length = -1;
    let chunked = false;
    let coded = false;
    let connClose = false;
    let connKeepAlive = false;
    const last = end - 2;
    let line = statusEnd + 2;
    while (line < last) {
      // The line's end by memchr (values run long: Date, Content-Type); the name, short, by a byte loop.
      const j = b.indexOf(CR, line);
      if (b[j + 1] !== LF) {
        this.#fail(HTTP_ERRORS.header);
        return;
      }
      const first = b[line] ?? 0;
      if (first !== SP && first !== HT) {
        // (A line that starts with whitespace continues the one before: obs-fold, read past.)
        let colon = line;
        while (colon < j && b[colon] !== COLON) colon++;
        if (colon === line || colon === j || b[colon - 1] === SP || b[colon - 1] === HT) {
          this.#fail(HTTP_ERRORS.header);
          return;
        }
        let vs = colon + 1;
        let ve = j;
        while (vs < ve && (b[vs] === SP || b[vs] === HT)) vs++;
        while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HT)) ve--;
        const len = colon - line;
        const f = first | 0x20;
        if (len === 14 && f === 0x63 && nameIs(b, line, 'content-length')) {
          if (ve === vs || ve - vs > 15) {
            this.#fail(HTTP_ERRORS.contentLength);
            return;
          }
          let v = 0;
          for (let k = vs; k < ve; k++) {
            const d = (b[k] ?? 0) - 0x30;
            if (d < 0 || d > 9) {
              this.#fail(HTTP_ERRORS.contentLength);
              return;
            }
            v = v * 10 + d;
          }
          // Repeated, it must agree with itself.
          if (length >= 0 && v !== length) {
            this.#fail(HTTP_ERRORS.contentLength);
            return;
          }
          length = v;
        } else if (len === 17 && f === 0x74 && nameIs(b, line, 'transfer-encoding')) {
          // The last coding decides: chunked frames the body; any other is framed by the close.
          coded = true;
          chunked = ve - vs >= 7 && nameIs(b, ve - 7, 'chunked') && (ve - 7 === vs || b[ve - 8] === 0x2c || b[ve - 8] === SP || b[ve - 8] === HT);
        } else if (len === 10 && f === 0x63 && nameIs(b, line, 'connection')) {
          // A comma-separated token list: "close", "keep-alive", "Upgrade" …
          let t = vs;
          while (t < ve) {
            let te = t;
            while (te < ve && b[te] !== 0x2c) te++;
            let ts = t;
            let tz = te;
            while (ts < tz && (b[ts] === SP || b[ts] === HT)) ts++;
            while (tz > ts && (b[tz - 1] === SP || b[tz - 1] === HT)) tz--;
            if (tz - ts === 5 && nameIs(b, ts, 'close')) connClose = true;
            else if (tz - ts === 10 && nameIs(b, ts, 'keep-alive')) connKeepAlive = true;
            t = te + 1;
          }
        }
      }
      line = j + 2;
    }

    this.#status = status;
    this.#statusBad = this.#allowed[status] !== 1;
    // HTTP/1.0 closes unless it asked to stay; 1.1 stays unless it says close.
    this.#close = connClose || (minor === 0 && !connKeepAlive);
    this.#bodyOff = 0;
    this.#bodyBad = false;
    this.#remaining = 0;
    this.#chunkDigits = 0;
    this.#lineBytes = 0;
    if (this.#isHead || status === 204 || status === 304) {
      // HEAD announces the length a GET would get: with an expected body, it must be that one.
      if (this.#isHead && this.#expect !== undefined && length >= 0 && length !== this.#expect.length) this.#bodyBad = true;
      this.#finish(onResponse);
    } else if (chunked) {
      this.#state = CHUNK_SIZE;
    } else if (coded || length < 0) {
      // No length and not chunked: the body is everything until the server closes (RFC 9112 §6.3, 8).
      this.#close = true;
      this.#state = BODY_EOF;
    } else if (length === 0) {
      this.#finish(onResponse);
    } else {
      this.#remaining = length;
      this.#state = BODY_LENGTH;
    }
  }
}
