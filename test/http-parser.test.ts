/**
 * The HTTP/1.1 request parser and protocol, sans-IO: bytes fed in every
 * split (whole, 1-byte, random), each limit, and the tick-driven deadlines
 * with a fake clock and a fake Conn.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestParser, type ParseError, type RequestHead } from '../workloads/http/parser.js';
import { burnCpu, createProtocol } from '../workloads/http/protocol.js';
import { httpClient } from '../workloads/http/client.js';
import { ResponseReader } from '../workloads/http/response-reader.js';
import type { Conn, Hub, ProtocolOptions } from '../core/protocol.js';
import { pattern } from './helpers/net.js';

/** What the driver checks our own server's replies against. */
const PAGE_CHECK = httpClient(undefined, '127.0.0.1', 80).check;

type Split = 'whole' | 'bytes' | 'random';

/** Feed `input` split as asked; collect requests and the first error. */
function feed(input: string | Buffer, split: Split, seed = 1): { reqs: RequestHead[]; err: ParseError | null } {
  const buf = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const p = new RequestParser();
  const reqs: RequestHead[] = [];
  let err: ParseError | null = null;
  let x = seed;
  let off = 0;
  while (off < buf.length && err === null) {
    let n = buf.length - off;
    if (split === 'bytes') n = 1;
    if (split === 'random') {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      n = Math.min(n, 1 + (x % 23));
    }
    err = p.push(buf.subarray(off, off + n), (h) => reqs.push(h));
    off += n;
  }
  return { reqs, err };
}

const SPLITS: Split[] = ['whole', 'bytes', 'random'];
const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

describe('RequestParser', () => {
  for (const split of SPLITS) {
    test(`pipelined GET, HEAD and a body-carrying request parse the same (${split} split)`, () => {
      const body = 'x'.repeat(300);
      const chunked = '5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: t\r\n\r\n';
      const input =
        '\r\n' +
        GET +
        'HEAD /?q=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' +
        `GET /x HTTP/1.0\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}` +
        `GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}` +
        'GET / HTTP/1.0\r\n\r\n';
      for (let seed = 1; seed <= (split === 'random' ? 20 : 1); seed++) {
        const { reqs, err } = feed(input, split, seed);
        assert.equal(err, null, `expected no error, got ${JSON.stringify(err)}`);
        assert.deepEqual(
          reqs.map((r) => [r.method, r.target, r.minor, r.keepAlive, r.bodyBytes]),
          [
            ['GET', '/', 1, true, 0],
            ['HEAD', '/?q=1', 1, false, 0],
            ['GET', '/x', 0, true, 300],
            ['GET', '/', 1, true, 8],
            ['GET', '/', 0, false, 0],
          ],
          `requests differ for seed ${seed}`,
        );
      }
    });
  }

  const cases: [string, string, number][] = [
    ['request line over 8 KiB', `GET /${'a'.repeat(8192)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
    ['request line over 8 KiB, no CRLF yet', `GET /${'a'.repeat(9000)}`, 414],
    ['header section over 16 KiB', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'b'.repeat(16 * 1024)}\r\n\r\n`, 431],
    ['header section over 16 KiB, no CRLF yet', `GET / HTTP/1.1\r\nX: ${'b'.repeat(17 * 1024)}`, 431],
    ['101 header fields', `GET / HTTP/1.1\r\n${'X: y\r\n'.repeat(101)}\r\n`, 431],
    ['Content-Length over 1 MiB', `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n`, 413],
    ['chunked body over 1 MiB', `GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n`, 413],
    ['Transfer-Encoding with Content-Length', `GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n`, 400],
    ['duplicate Content-Length', `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n`, 400],
    ['invalid Content-Length', `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n`, 400],
    ['Content-Length list', `GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n`, 400],
    ['bare LF in the request line', `GET / HTTP/1.1\nHost: a\r\n\r\n`, 400],
    ['bare LF ending the head', `GET / HTTP/1.1\r\nHost: a\r\n\n`, 400],
    ['bare CR in a field', `GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n`, 400],
    ['HTTP/2.0', `GET / HTTP/2.0\r\nHost: a\r\n\r\n`, 400],
    ['HTTP/1.10', `GET / HTTP/1.10\r\nHost: a\r\n\r\n`, 400],
    ['absolute-form target', `GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
    ['asterisk-form target', `OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n`, 400],
    ['space before the colon', `GET / HTTP/1.1\r\nHost : a\r\n\r\n`, 400],
    ['obs-fold', `GET / HTTP/1.1\r\nHost: a\r\n  folded\r\n\r\n`, 400],
    ['missing Host in HTTP/1.1', `GET / HTTP/1.1\r\n\r\n`, 400],
    ['duplicate Host', `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, 400],
    ['control character in a value', `GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n`, 400],
    ['unknown Transfer-Encoding', `GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n`, 501],
  ];
  for (const [what, input, status] of cases) {
    test(`${what} → ${status} in every split`, () => {
      for (const split of SPLITS) {
        const { reqs, err } = feed(input, split);
        assert.equal(err?.status, status, `${split} split: expected ${status}, got ${JSON.stringify(err)}`);
        assert.equal(reqs.length, 0, `${split} split: no request may complete`);
      }
    });
  }

  test('exactly 8 KiB request line and exactly 100 fields are accepted', () => {
    const target = '/' + 'a'.repeat(8192 - 'GET  HTTP/1.1'.length - 1);
    const line = `GET ${target} HTTP/1.1`;
    assert.equal(line.length, 8192, 'test setup: the line is 8 KiB');
    const { reqs, err } = feed(`${line}\r\nHost: a\r\n${'X: y\r\n'.repeat(99)}\r\n`, 'random');
    assert.equal(err, null, `expected acceptance, got ${JSON.stringify(err)}`);
    assert.equal(reqs.length, 1, 'expected one request');
  });

  test('random binary never throws and ends in an error', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const { err } = feed(pattern(4096, seed), 'random', seed);
      assert.ok(err !== null && err.status >= 400 && err.status < 600, `seed ${seed}: expected a 4xx/5xx, got ${JSON.stringify(err)}`);
    }
  });

  test('idle and inHead track where the connection is', () => {
    const p = new RequestParser();
    assert.ok(p.idle && !p.inHead, 'fresh parser is idle');
    p.push(Buffer.from('GET / HT'), () => undefined);
    assert.ok(!p.idle && p.inHead, 'half a request line is in the head');
    p.push(Buffer.from('TP/1.1\r\nHost: a\r\n\r\n'), () => undefined);
    assert.ok(p.idle && !p.inHead, 'after a complete request it is idle again');
  });
});

/** A Conn that records what a session writes and whether it closed. */
function fakeConn(): Conn & { out: Buffer[]; closed: boolean; text(): string } {
  const c = {
    id: 1,
    out: [] as Buffer[],
    closed: false,
    write(b: Uint8Array) {
      if (!c.closed) c.out.push(Buffer.from(b));
    },
    close() {
      c.closed = true;
    },
    text() {
      return Buffer.concat(c.out).toString('latin1');
    },
  };
  return c;
}
const hub: Hub = { broadcast: () => undefined, size: 1 };

function session(opts: ProtocolOptions = {}): { conn: ReturnType<typeof fakeConn>; s: ReturnType<ReturnType<typeof createProtocol>['open']> } {
  const conn = fakeConn();
  return { conn, s: createProtocol(opts).open(conn, hub) };
}

describe('http protocol (sans-IO)', () => {
  test('responses carry the page, and the close modes close', () => {
    const { conn, s } = session();
    s.onData(Buffer.from(GET + GET));
    const reader = new ResponseReader(PAGE_CHECK);
    let n = 0;
    assert.equal(
      reader.push(Buffer.concat(conn.out), (r) => (n += r.error === null ? 1 : 0)),
      null,
      'our own responses must verify',
    );
    assert.equal(n, 2, 'expected two verified responses');
    assert.ok(!conn.closed, 'keep-alive must stay open');

    const c2 = session({ httpClose: true });
    c2.s.onData(Buffer.from(GET + GET));
    assert.equal((c2.conn.text().match(/HTTP\/1\.1 200/g) ?? []).length, 1, '--http-close answers one request, then closes');
    assert.match(c2.conn.text(), /Connection: close\r\n/, '--http-close says Connection: close');
    assert.ok(c2.conn.closed, '--http-close closes after the response');
  });

  test('a 4xx is written before the connection closes', () => {
    const { conn, s } = session();
    s.onData(Buffer.from('GET /nope HTTP/1.1\r\nHost: a\r\n\r\n' + GET));
    assert.match(conn.text(), /^HTTP\/1\.1 404 /, 'expected 404 first');
    assert.equal((conn.text().match(/HTTP\/1\.1/g) ?? []).length, 1, 'nothing after the 404');
    assert.ok(conn.closed, 'closed after the 404');
  });

  test('slowloris: 408 once the head has been incomplete for headerTimeoutMs', () => {
    const { conn, s } = session({ headerTimeoutMs: 10_000 });
    s.onData(Buffer.from('GET / HTTP/1.1\r\nHo'));
    s.tick?.(1_000);
    s.onData(Buffer.from('st: a\r\nX-'));
    s.tick?.(10_999);
    assert.ok(!conn.closed, 'not before 10 s');
    s.tick?.(11_000);
    assert.match(conn.text(), /^HTTP\/1\.1 408 /, 'expected 408');
    assert.ok(conn.closed, 'closed after 408');
  });

  test('keep-alive idle: closed once idle for idleTimeoutMs, reset by a request', () => {
    const { conn, s } = session({ idleTimeoutMs: 30_000 });
    s.tick?.(0);
    s.tick?.(20_000);
    s.onData(Buffer.from(GET));
    s.tick?.(25_000);
    s.tick?.(54_999);
    assert.ok(!conn.closed, 'a request restarts the idle clock');
    s.tick?.(55_000);
    assert.ok(conn.closed, 'closed after 30 s idle');
  });

  test('--work-us burns at least that much time per request', () => {
    const t0 = performance.now();
    burnCpu(2000);
    assert.ok(performance.now() - t0 >= 2, 'expected at least 2 ms spent');
  });
});

describe('ResponseReader (the driver side)', () => {
  test('verifies our responses split at every byte, and fails a wrong body', () => {
    const { conn, s } = session();
    s.onData(Buffer.from(GET + GET + GET));
    const all = Buffer.concat(conn.out);
    const r = new ResponseReader(PAGE_CHECK);
    let n = 0;
    const count = (i: { error: string | null }): void => {
      if (i.error === null) n++;
    };
    for (let i = 0; i < all.length; i++) assert.equal(r.push(all.subarray(i, i + 1), count), null, `byte ${i} must not fail`);
    assert.equal(n, 3, 'expected three verified responses');
    const bad = Buffer.from(all);
    bad[bad.length - 3] = 0x21;
    const errors: (string | null)[] = [];
    new ResponseReader(PAGE_CHECK).push(bad, (i) => errors.push(i.error));
    assert.deepEqual(errors, [null, null, 'http body'], 'a changed body byte fails that reply');
  });
});
