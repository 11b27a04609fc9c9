/** Raw HTTP/1.1 over node:net for tests: send exact bytes, split what comes back. */
import type * as net from 'node:net';

export interface RawResponse {
  status: number;
  /** Lowercased names; the last value wins. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Everything the socket receives until the peer closes it (FIN or RST) or
 * `timeoutMs` passes. `closed` says which; an RST after the server's last
 * bytes (it closed with our bytes unread) still counts as closed.
 */
export function readUntilClosed(s: net.Socket, timeoutMs = 10_000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      s.off('data', onData);
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const onData = (d: Buffer): void => {
      chunks.push(d);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('data', onData);
    s.once('close', () => done(true));
    s.once('end', () => done(true));
    s.on('error', () => done(true));
  });
}

/** Bytes until `n` complete responses have arrived (or the peer closed / timeout). */
export function readResponses(s: net.Socket, n: number, heads: readonly boolean[] = [], timeoutMs = 10_000): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`timed out with ${splitResponses(buf, heads).length} of ${n} responses`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const got = splitResponses(buf, heads);
      if (got.length >= n) finish(null, got);
    };
    const onEnd = (): void => finish(null, splitResponses(buf, heads));
    const finish = (err: Error | null, got?: RawResponse[]): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('end', onEnd);
      s.off('error', onEnd);
      if (err !== null) reject(err);
      else resolve(got ?? []);
    };
    s.on('data', onData);
    s.once('end', onEnd);
    s.once('error', onEnd);
  });
}

/** Split a byte stream into complete responses; `heads[i]` marks a response to HEAD (no body). */
export function splitResponses(buf: Buffer, heads: readonly boolean[] = []): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const e = buf.indexOf('\r\n\r\n', pos);
    if (e < 0) break;
    const lines = buf.subarray(pos, e).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    const len = heads[out.length] === true ? 0 : Number(headers['content-length'] ?? 0);
    if (e + 4 + len > buf.length) break;
    out.push({ status: Number(m[1]), headers, body: buf.subarray(e + 4, e + 4 + len) });
    pos = e + 4 + len;
  }
  return out;
}

export const GET = (path = '/', extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;
