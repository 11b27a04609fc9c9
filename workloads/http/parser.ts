/**
 * An incremental HTTP/1.1 request parser, sans-IO: bytes in (any split, down
 * to one byte a packet), complete requests out, in order. Strict where
 * request smuggling lives (RFC 9112 §2.2, §6.3): bare CR or LF, duplicate or
 * malformed Content-Length, Transfer-Encoding with Content-Length, obs-fold,
 * whitespace before the colon all end the connection with 400. Bodies are
 * read and discarded (this server has no use for them) but still framed
 * exactly, so the next pipelined request starts where it should.
 *
 * Only the current line is ever buffered; parsed fields are kept as values,
 * so a slowloris dribbling a 24 KiB head costs O(n), not O(n²).
 */
import { GrowBuffer } from '../grow-buffer.js';

/** "HTTP/1.", the start of every HTTP/1.x version, request or response. */
const HTTP1 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e] as const;

/** b[at, at + 7) is "HTTP/1." (the caller has checked the bytes are there). */
export function isHttp1At(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < HTTP1.length; i++) if (b[at + i] !== HTTP1[i]) return false;
  return true;
}

export interface ParserLimits {
  /** Request line (without CRLF), bytes; longer → 414. */
  maxRequestLine: number;
  /** Header section (field lines with their CRLFs), bytes; more → 431. */
  maxHeaderBytes: number;
  /** Header fields; more → 431. */
  maxHeaders: number;
  /** Body bytes (Content-Length or chunked total); more → 413. */
  maxBody: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxRequestLine: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  maxBody: 1024 * 1024,
};

export interface RequestHead {
  method: string;
  /** origin-form target, as sent (path and query). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x). */
  minor: number;
  /** Whether the connection stays open after the response (version and Connection header). */
  keepAlive: boolean;
  /** Body bytes read and discarded. */
  bodyBytes: number;
}

export interface ParseError {
  status: number;
  reason: string;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
/** Chunk-size lines are short; anything longer is garbage. */
const MAX_CHUNK_LINE = 1024;

const enum State {
  RequestLine,
  Headers,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  Dead,
}

/** tchar (RFC 9110 §5.6.2) as a 128-entry table. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

function isToken(b: Uint8Array, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = b[i] ?? 0;
    if (c >= 128 || TCHAR[c] !== 1) return false;
  }
  return true;
}

/** Case-insensitive compare of b[start, end) with a lowercase ASCII name. */
function nameIs(b: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (((b[start + i] ?? 0) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

export class RequestParser {
  readonly #limits: ParserLimits;
  #state = State.RequestLine;
  /** The current line when it spans packets. */
  readonly #line = new GrowBuffer(128);
  #error: ParseError | null = null;
  #stopped = false;

  // The request being parsed.
  #method = '';
  #target = '';
  #minor = 1;
  #headerBytes = 0;
  #fields = 0;
  #contentLength = -1;
  #chunked = false;
  #te = false;
  #hosts = 0;
  #close = false;
  #keepAlive = false;
  #bodyLeft = 0;
  #bodyTotal = 0;
  /** Some byte of the current request has arrived. */
  #started = false;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** No byte of a next request has arrived (keep-alive idle). */
  get idle(): boolean {
    return !this.#started && this.#state !== State.Dead;
  }

  /** Inside the request line or headers (the slowloris window). */
  get inHead(): boolean {
    return this.#started && (this.#state === State.RequestLine || this.#state === State.Headers);
  }

  get error(): ParseError | null {
    return this.#error;
  }

  /** Parse nothing more (the connection is closing). */
  stop(): void {
    this.#stopped = true;
    this.#state = State.Dead;
  }

  /**
   * Feed bytes. Calls `onRequest` for each complete request, in order,
   * after its body has been read; stops at the first error (returned) or
   * when `stop()` is called from the callback.
   */
  push(bytes: Uint8Array, onRequest: (head: RequestHead) => void): ParseError | null {
    let pos = 0;
    const n = bytes.length;
    while (pos < n && !this.#stopped) {
      const st = this.#state;
      if (st === State.Dead) return this.#error;
      if (st === State.Body || st === State.ChunkData) {
        const take = Math.min(this.#bodyLeft, n - pos);
        this.#bodyLeft -= take;
        pos += take;
        if (this.#bodyLeft === 0) {
          if (st === State.Body) this.#complete(onRequest);
          else this.#state = State.ChunkEnd;
        }
        continue;
      }
      this.#started = true;
      // A line-oriented state: find the end of the current line.
      const nl = bytes.indexOf(LF, pos);
      if (nl < 0) {
        this.#line.append(bytes.subarray(pos));
        const err = this.#checkPartial();
        if (err !== null) return err;
        return null;
      }
      let err: ParseError | null;
      if (this.#line.length > 0) {
        this.#line.append(bytes.subarray(pos, nl + 1));
        const v = this.#line.view();
        err = this.#onLine(v, 0, v.length - 1, onRequest);
        this.#line.clear();
      } else {
        err = this.#onLine(bytes, pos, nl, onRequest);
      }
      if (err !== null) return err;
      pos = nl + 1;
    }
    return this.#error;
  }

  #fail(status: number, reason: string): ParseError {
    this.#error = { status, reason };
    this.#state = State.Dead;
    this.#line.clear();
    return this.#error;
  }

  /** A line still without its LF must not already break a limit. */
  #checkPartial(): ParseError | null {
    const len = this.#line.length;
    switch (this.#state) {
      case State.RequestLine:
        // +1: the CR of the CRLF may already be here.
        return len > this.#limits.maxRequestLine + 1 ? this.#fail(414, 'request line too long') : null;
      case State.Headers:
      case State.Trailers:
        return this.#headerBytes + len > this.#limits.maxHeaderBytes ? this.#fail(431, 'header section too large') : null;
      default:
        return len > MAX_CHUNK_LINE ? this.#fail(400, 'chunk line too long') : null;
    }
  }

  /** b[start, lf) is one line including its CR; lf is the index of its LF. */
  #onLine(b: Uint8Array, start: number, lf: number, onRequest: (head: RequestHead) => void): ParseError | null {
    if (lf === start || b[lf - 1] !== CR) return this.#fail(400, 'bare LF');
    const end = lf - 1;
    const cr = b.indexOf(CR, start);
    if (cr >= 0 && cr < end) return this.#fail(400, 'bare CR');
    switch (this.#state) {
      case State.RequestLine:
        // RFC 9112 §2.2: empty lines before a request line may be ignored.
        if (end === start) return null;
        return this.#requestLine(b, start, end);
      case State.Headers:
        if (end === start) return this.#endOfHead(onRequest);
        return this.#field(b, start, end);
      case State.ChunkSize:
        return this.#chunkSize(b, start, end);
      case State.ChunkEnd:
        if (end !== start) return this.#fail(400, 'chunk data longer than its size');
        this.#state = State.ChunkSize;
        return null;
      case State.Trailers:
        if (end === start) {
          this.#complete(onRequest);
          return null;
        }
        this.#headerBytes += lf + 1 - start;
        if (this.#headerBytes > this.#limits.maxHeaderBytes) return this.#fail(431, 'header section too large');
        return null;
      default:
        return this.#error;
    }
  }

  #requestLine(b: Uint8Array, start: number, end: number): ParseError | null {
    if (end - start > this.#limits.maxRequestLine) return this.#fail(414, 'request line too long');
    const sp1 = b.indexOf(SP, start);
    if (sp1 < 0 || sp1 >= end) return this.#fail(400, 'malformed request line');
    const sp2 = b.indexOf(SP, sp1 + 1);
    if (sp2 < 0 || sp2 >= end) return this.#fail(400, 'malformed request line');
    if (!isToken(b, start, sp1)) return this.#fail(400, 'invalid method');
    // HTTP/1.x exactly: "HTTP/1." and one digit.
    if (end - (sp2 + 1) !== 8 || !isHttp1At(b, sp2 + 1)) return this.#fail(400, 'unsupported HTTP version');
    const minor = (b[sp2 + 8] ?? 0) - 0x30;
    if (minor < 0 || minor > 9) return this.#fail(400, 'unsupported HTTP version');
    // origin-form only: an absolute-form (proxy) or authority-form target, or
    // the asterisk-form of OPTIONS, has no meaning for this origin server.
    if (b[sp1 + 1] !== 0x2f) return this.#fail(400, 'target is not origin-form');
    for (let i = sp1 + 1; i < sp2; i++) {
      const c = b[i] ?? 0;
      if (c <= 0x20 || c >= 0x7f) return this.#fail(400, 'invalid character in target');
    }
    this.#method = latin1(b, start, sp1);
    this.#target = latin1(b, sp1 + 1, sp2);
    this.#minor = minor;
    this.#state = State.Headers;
    return null;
  }

  #field(b: Uint8Array, start: number, end: number): ParseError | null {
    this.#headerBytes += end + 2 - start;
    if (this.#headerBytes > this.#limits.maxHeaderBytes) return this.#fail(431, 'header section too large');
    if (++this.#fields > this.#limits.maxHeaders) return this.#fail(431, 'too many header fields');
    const first = b[start];
    if (first === SP || first === HT) return this.#fail(400, 'obsolete line folding');
    const colon = b.indexOf(COLON, start);
    if (colon < 0 || colon >= end || !isToken(b, start, colon)) return this.#fail(400, 'malformed header field');
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && (b[vs] === SP || b[vs] === HT)) vs++;
    while (ve > vs && (b[ve - 1] === SP || b[ve - 1] === HT)) ve--;
    for (let i = vs; i < ve; i++) {
      const c = b[i] ?? 0;
      if ((c < 0x20 && c !== HT) || c === 0x7f) return this.#fail(400, 'control character in header value');
    }
    switch (colon - start) {
      case 4:
        if (nameIs(b, start, colon, 'host') && ++this.#hosts > 1) return this.#fail(400, 'duplicate Host');
        break;
      case 10:
        if (nameIs(b, start, colon, 'connection')) this.#connection(b, vs, ve);
        break;
      case 14:
        if (nameIs(b, start, colon, 'content-length')) {
          if (this.#contentLength >= 0) return this.#fail(400, 'duplicate Content-Length');
          if (ve === vs || ve - vs > 15) return this.#fail(400, 'invalid Content-Length');
          let v = 0;
          for (let i = vs; i < ve; i++) {
            const c = (b[i] ?? 0) - 0x30;
            if (c < 0 || c > 9) return this.#fail(400, 'invalid Content-Length');
            v = v * 10 + c;
          }
          this.#contentLength = v;
        }
        break;
      case 17:
        if (nameIs(b, start, colon, 'transfer-encoding')) {
          if (this.#te) return this.#fail(400, 'duplicate Transfer-Encoding');
          this.#te = true;
          // Only "chunked" alone: a coding we cannot undo we cannot frame.
          if (!nameIs(b, vs, ve, 'chunked')) return this.#fail(501, 'unsupported Transfer-Encoding');
          this.#chunked = true;
        }
        break;
      default:
        break;
    }
    return null;
  }

  #connection(b: Uint8Array, vs: number, ve: number): void {
    let i = vs;
    while (i < ve) {
      let j = b.indexOf(0x2c, i);
      if (j < 0 || j > ve) j = ve;
      let ts = i;
      let te = j;
      while (ts < te && (b[ts] === SP || b[ts] === HT)) ts++;
      while (te > ts && (b[te - 1] === SP || b[te - 1] === HT)) te--;
      if (nameIs(b, ts, te, 'close')) this.#close = true;
      else if (nameIs(b, ts, te, 'keep-alive')) this.#keepAlive = true;
      i = j + 1;
    }
  }

  #endOfHead(onRequest: (head: RequestHead) => void): ParseError | null {
    if (this.#te && this.#contentLength >= 0) return this.#fail(400, 'Transfer-Encoding with Content-Length');
    if (this.#minor >= 1 && this.#hosts === 0) return this.#fail(400, 'missing Host');
    if (this.#contentLength > this.#limits.maxBody) return this.#fail(413, 'body too large');
    if (this.#chunked) {
      this.#state = State.ChunkSize;
      return null;
    }
    if (this.#contentLength > 0) {
      this.#bodyLeft = this.#contentLength;
      this.#bodyTotal = this.#contentLength;
      this.#state = State.Body;
      return null;
    }
    this.#complete(onRequest);
    return null;
  }

  #chunkSize(b: Uint8Array, start: number, end: number): ParseError | null {
    let i = start;
    let size = 0;
    while (i < end) {
      const c = b[i] ?? 0;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
      if (d < 0) break;
      size = size * 16 + d;
      if (size > this.#limits.maxBody) return this.#fail(413, 'body too large');
      i++;
    }
    if (i === start || (i < end && b[i] !== 0x3b && b[i] !== SP && b[i] !== HT)) return this.#fail(400, 'invalid chunk size');
    this.#bodyTotal += size;
    if (this.#bodyTotal > this.#limits.maxBody) return this.#fail(413, 'body too large');
    if (size === 0) {
      this.#state = State.Trailers;
    } else {
      this.#bodyLeft = size;
      this.#state = State.ChunkData;
    }
    return null;
  }

  #complete(onRequest: (head: RequestHead) => void): void {
    const keepAlive = this.#minor >= 1 ? !this.#close : this.#keepAlive && !this.#close;
    const head: RequestHead = { method: this.#method, target: this.#target, minor: this.#minor, keepAlive, bodyBytes: this.#bodyTotal };
    this.#state = State.RequestLine;
    this.#headerBytes = 0;
    this.#fields = 0;
    this.#contentLength = -1;
    this.#chunked = false;
    this.#te = false;
    this.#hosts = 0;
    this.#close = false;
    this.#keepAlive = false;
    this.#bodyLeft = 0;
    this.#bodyTotal = 0;
    this.#started = false;
    onRequest(head);
  }
}
