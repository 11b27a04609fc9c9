/**
 * The driver's side of HTTP/1.1, sans-IO: the response reader fed every
 * framing RFC 9112 allows (Content-Length, chunked with extensions and
 * trailers, read until close, HEAD, 204/304, 100 Continue), split at every
 * byte boundary, and each stream it must refuse, by kind; the status sets
 * of --expect-status; the request builder behind --method/--path/--header/--body.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterPeerClose, httpClient } from '../workloads/http/client.js';
import { PAGE_BYTES } from '../workloads/http/page.js';
import { createProtocol } from '../workloads/http/protocol.js';
import { buildRequest, hostHeader, methodProblem, parseHeader, pathProblem } from '../workloads/http/request.js';
import { HTTP_ERRORS, MAX_HEAD, ResponseReader, type ResponseCheck } from '../workloads/http/response-reader.js';
import { parseStatusSet } from '../workloads/http/status-set.js';
import type { Conn, Hub } from '../core/protocol.js';

interface Seen {
  status: number;
  bodyBytes: number;
  close: boolean;
  error: string | null;
}

interface Outcome {
  responses: Seen[];
  fatal: string | null;
  /** What end() said, when asked. */
  ended?: string | null;
}

function check(status = '2xx', body?: string | Buffer, head = false): ResponseCheck {
  const set = parseStatusSet(status);
  if ('error' in set) throw new Error(set.error);
  return { allowed: set.allowed, head, ...(body === undefined ? {} : { body: typeof body === 'string' ? Buffer.from(body, 'latin1') : body }) };
}

/** Feed `pieces` in order to a fresh reader; optionally end the stream. */
function run(c: ResponseCheck, pieces: readonly Buffer[], end = false): Outcome {
  const r = new ResponseReader(c);
  const responses: Seen[] = [];
  const on = (i: Seen): void => {
    // The reader reuses its info object: copy it out.
    responses.push({ status: i.status, bodyBytes: i.bodyBytes, close: i.close, error: i.error });
  };
  let fatal: string | null = null;
  for (const p of pieces) {
    fatal = r.push(p, on);
    if (fatal !== null) break;
  }
  const out: Outcome = { responses, fatal };
  if (end && fatal === null) out.ended = r.end(on);
  return out;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/**
 * The outcome fed whole must equal the outcome of every two-piece split
 * and of one byte at a time: framing never depends on where packets end.
 */
function everySplit(c: ResponseCheck, stream: string | Buffer, end = false): Outcome {
  const all = typeof stream === 'string' ? bytes(stream) : stream;
  const whole = run(c, [all], end);
  for (let k = 1; k < all.length; k++) {
    const got = run(c, [all.subarray(0, k), all.subarray(k)], end);
    assert.deepEqual(got, whole, `split at byte ${k} of ${all.length} must read like the whole stream`);
  }
  const oneByOne = run(c, Array.from({ length: all.length }, (_, i) => all.subarray(i, i + 1)), end);
  assert.deepEqual(oneByOne, whole, 'one byte at a time must read like the whole stream');
  return whole;
}

/** Our own server's bytes for `requests`, from the sans-IO protocol. */
function ourResponses(requests: string): Buffer {
  const out: Buffer[] = [];
  const conn: Conn = { id: 1, write: (b) => out.push(Buffer.from(b)), close: () => undefined };
  const hub: Hub = { broadcast: () => undefined, size: 1 };
  createProtocol({}).open(conn, hub).onData(bytes(requests));
  return Buffer.concat(out);
}

const GET = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
const HEAD = 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n';
const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n${extra}\r\n${body}`;

describe('ResponseReader: framing', () => {
  test('our page, pipelined three deep, verifies byte for byte at every split', () => {
    const page = httpClient(undefined, '127.0.0.1', 80).check;
    const o = everySplit(page, ourResponses(GET + GET + GET));
    assert.equal(o.fatal, null, 'no fatal error');
    assert.deepEqual(
      o.responses.map((r) => r.error),
      [null, null, null],
      'three verified responses',
    );
    assert.ok(o.responses.every((r) => r.bodyBytes === PAGE_BYTES.length && !r.close), 'each carries the page and keeps the connection');
  });

  test('a changed page byte fails that reply only; the stream stays in step', () => {
    const page = httpClient(undefined, '127.0.0.1', 80).check;
    const all = ourResponses(GET + GET);
    const bad = Buffer.from(all);
    // A body byte of the first response (its body ends where the second head starts).
    const second = bad.indexOf('HTTP/1.1', 1);
    bad[second - 3] = 0x21;
    const o = everySplit(page, bad);
    assert.deepEqual(
      o.responses.map((r) => r.error),
      [HTTP_ERRORS.body, null],
      'the first reply differs from the page, the second verifies',
    );
  });

  test('our page for HEAD: no body, the page length announced', () => {
    const page = httpClient({ method: 'HEAD' }, '127.0.0.1', 80).check;
    const o = everySplit(page, ourResponses(HEAD + HEAD));
    assert.deepEqual(
      o.responses.map((r) => [r.error, r.bodyBytes]),
      [
        [null, 0],
        [null, 0],
      ],
      'two bodiless verified responses',
    );
    const wrong = run(page, [bytes('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n')]);
    assert.equal(wrong.responses[0]?.error, HTTP_ERRORS.body, 'a HEAD that announces another length is not our page');
  });

  test('chunked, with upper-case sizes, extensions, trailers, then a Content-Length response', () => {
    const stream =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value;flag\r\nhello\r\n' +
      'A ; x="y"\r\n world!!!!\r\n' +
      '0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n' +
      ok('next');
    const o = everySplit(check('2xx', 'hello world!!!!'), stream);
    assert.equal(o.fatal, null, 'no fatal error');
    assert.deepEqual(
      o.responses.map((r) => [r.status, r.bodyBytes, r.error]),
      [
        [200, 15, null],
        [200, 4, HTTP_ERRORS.body],
      ],
      'the chunked body de-chunks to the expected bytes; the next one is framed and checked on its own',
    );
  });

  test('chunked without trailers, and Transfer-Encoding over Content-Length', () => {
    const stream = 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' + ok('x');
    const o = everySplit(check(), stream);
    assert.deepEqual(
      o.responses.map((r) => r.bodyBytes),
      [3, 1],
      'chunked (the last coding) frames the body, not Content-Length',
    );
  });

  test('Connection: close ends the stream; what follows is ignored; end() is clean', () => {
    const o = everySplit(check(), ok('bye', 'Connection: keep-alive, close\r\n') + 'garbage that is never read', true);
    assert.equal(o.fatal, null, 'bytes after a close response are not an error');
    assert.deepEqual(o.responses, [{ status: 200, bodyBytes: 3, close: true, error: null }], 'one response that closes');
    assert.equal(o.ended, null, 'the close that follows is clean');
  });

  test('HTTP/1.0 closes unless it says keep-alive', () => {
    const closes = run(check(), [bytes('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok')]);
    assert.equal(closes.responses[0]?.close, true, 'HTTP/1.0 without keep-alive closes');
    const stays = everySplit(check(), 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok' + 'HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 1\r\n\r\nk');
    assert.deepEqual(
      stays.responses.map((r) => r.close),
      [false, false],
      'HTTP/1.0 with keep-alive stays open (any case)',
    );
  });

  test('HEAD, 204 and 304 have no body whatever Content-Length says', () => {
    const head = everySplit(check('2xx', undefined, true), 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n' + 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    assert.deepEqual(
      head.responses.map((r) => [r.status, r.bodyBytes]),
      [
        [200, 0],
        [200, 0],
      ],
      'two HEAD responses, no bodies',
    );
    const o = everySplit(check('2xx,304'), 'HTTP/1.1 204 No Content\r\n\r\n' + 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n' + ok('hello'));
    assert.deepEqual(
      o.responses.map((r) => [r.status, r.bodyBytes, r.error]),
      [
        [204, 0, null],
        [304, 0, null],
        [200, 5, null],
      ],
      '204 and 304 end at their heads',
    );
  });

  test('100 Continue is skipped; the final response is the reply', () => {
    const o = everySplit(check(), 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\nX: y\r\n\r\n' + ok('ok'));
    assert.deepEqual(o.responses, [{ status: 200, bodyBytes: 2, close: false, error: null }], 'one reply, the 200');
  });

  test('no length and not chunked: the body runs until the server closes', () => {
    const r = new ResponseReader(check('2xx', 'all of it'));
    const seen: Seen[] = [];
    const on = (i: Seen): void => {
      seen.push({ ...i });
    };
    assert.equal(r.push(bytes('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of'), on), null);
    assert.equal(r.push(bytes(' it'), on), null);
    assert.equal(seen.length, 0, 'not complete before the close');
    assert.ok(r.awaitingClose, 'the reader says it waits for the close');
    assert.equal(r.end(on), null, 'the close ends the body cleanly');
    assert.deepEqual(seen, [{ status: 200, bodyBytes: 9, close: true, error: null }], 'the reply, complete at the close, verified');
    const coded = everySplit(check(), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxyz', true);
    assert.deepEqual(coded.responses, [{ status: 200, bodyBytes: 3, close: true, error: null }], 'a last coding other than chunked is framed by the close too');
  });

  test('a status outside the set fails that reply and the stream goes on', () => {
    const o = everySplit(check('200,204'), 'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found' + 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n' + ok('y'));
    assert.deepEqual(
      o.responses.map((r) => [r.status, r.error]),
      [
        [404, 'http status 404'],
        [201, 'http status 201'],
        [200, null],
      ],
      'each reply judged by its own status',
    );
  });

  test('repeated, equal Content-Length headers, odd spacing and obs-fold are read', () => {
    const o = everySplit(check('2xx', 'abc'), 'HTTP/1.1 200\r\nContent-Length:3\r\nX-Folded: a\r\n  b\r\ncontent-length:   3  \r\n\r\nabc');
    assert.deepEqual(o.responses, [{ status: 200, bodyBytes: 3, close: false, error: null }], 'a status line without a reason is fine too');
  });
});

describe('ResponseReader: refusals, by kind', () => {
  const fatal = (stream: string | Buffer, kind: string, what: string): void => {
    const o = everySplit(check(), stream, true);
    assert.equal(o.fatal ?? o.ended, kind, `${what}: expected ${kind}`);
  };

  test('1xx other than 100, and 101 upgrades', () => {
    fatal('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n' + ok('x'), HTTP_ERRORS.interim, '103');
    fatal('HTTP/1.1 102 Processing\r\n\r\n', HTTP_ERRORS.interim, '102');
    fatal('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', HTTP_ERRORS.upgrade, '101');
  });

  test('malformed status lines', () => {
    for (const s of ['HTTP/1.1 2OO OK', 'HTTX/1.1 200 OK', 'HTTP/1.1 200OK', 'ICY 200 OK', 'HTTP/2 200', 'HTTP/1.1 099 x', 'HTTP/1.1 600 x', 'HTTP/1.1  200 OK']) {
      fatal(`${s}\r\nContent-Length: 0\r\n\r\n`, HTTP_ERRORS.statusLine, JSON.stringify(s));
    }
  });

  test('malformed headers', () => {
    fatal('HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n', HTTP_ERRORS.header, 'a line without a colon');
    fatal('HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n', HTTP_ERRORS.header, 'whitespace before the colon');
    fatal('HTTP/1.1 200 OK\r\n: empty\r\n\r\n', HTTP_ERRORS.header, 'an empty name');
    fatal('HTTP/1.1 200 OK\r\nA: b\rC: d\r\n\r\n', HTTP_ERRORS.header, 'a bare CR');
  });

  test('bad Content-Length', () => {
    for (const v of ['abc', '-1', '1.5', '', '1 2', '9999999999999999']) fatal(`HTTP/1.1 200 OK\r\nContent-Length: ${v}\r\n\r\n`, HTTP_ERRORS.contentLength, JSON.stringify(v));
    fatal('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', HTTP_ERRORS.contentLength, 'two that disagree');
  });

  test('bad chunks', () => {
    const c = (body: string): string => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`;
    fatal(c('zz\r\n'), HTTP_ERRORS.chunk, 'not hex');
    fatal(c('\r\n'), HTTP_ERRORS.chunk, 'no digits');
    fatal(c('12345678901234\r\n'), HTTP_ERRORS.chunk, 'too many digits');
    fatal(c('5\r\nhelloX\r\n'), HTTP_ERRORS.chunk, 'no CRLF after the data');
    fatal(c('5\rX'), HTTP_ERRORS.chunk, 'CR without LF after the size');
    fatal(c('0\r\n\rX'), HTTP_ERRORS.chunk, 'the last CR without LF');
    fatal(c(`1;${'e'.repeat(5000)}\r\n`), HTTP_ERRORS.chunk, 'extensions past the line limit');
  });

  test('a head past MAX_HEAD, in one piece or dribbled', () => {
    const long = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD)}\r\n\r\n`;
    assert.equal(run(check(), [bytes(long)]).fatal, HTTP_ERRORS.headTooLong, 'whole');
    const noEnd = bytes(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD + 10)}`);
    assert.equal(run(check(), [noEnd]).fatal, HTTP_ERRORS.headTooLong, 'no end in sight, in one packet');
    const pieces = Array.from({ length: Math.ceil(noEnd.length / 1000) }, (_, i) => noEnd.subarray(i * 1000, (i + 1) * 1000));
    assert.equal(run(check(), pieces).fatal, HTTP_ERRORS.headTooLong, 'no end in sight, 1000 bytes a packet');
  });

  test('the server closes inside a response: truncated; between responses: clean', () => {
    fatal('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', HTTP_ERRORS.truncated, 'inside a Content-Length body');
    fatal('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', HTTP_ERRORS.truncated, 'inside a chunk');
    fatal('HTTP/1.1 200 OK\r\nContent-', HTTP_ERRORS.truncated, 'inside a head');
    const clean = run(check(), [bytes(ok('x'))], true);
    assert.equal(clean.ended, null, 'a close between responses is not the reader’s error');
    const r = new ResponseReader(check());
    assert.equal(r.push(bytes('HTTP/1.1 101 Switching Protocols\r\n\r\n'), () => undefined), HTTP_ERRORS.upgrade);
    assert.equal(r.push(bytes(ok('x')), () => undefined), HTTP_ERRORS.upgrade, 'a failed reader keeps failing');
  });
});

describe('status sets (--expect-status)', () => {
  test('classes, lists and ranges, normalized', () => {
    const text = (s: string): string => {
      const r = parseStatusSet(s);
      if ('error' in r) throw new Error(`${s}: ${r.error}`);
      return r.text;
    };
    assert.equal(text('2xx'), '2xx');
    assert.equal(text('200'), '200');
    assert.equal(text(' 204 , 200 '), '200,204');
    assert.equal(text('200-299'), '2xx', 'a range that is a class reads as one');
    assert.equal(text('2xx,304'), '2xx,304');
    assert.equal(text('250-450'), '250-299,3xx,400-450');
    assert.equal(text('2XX,3xx'), '2xx,3xx');
    const r = parseStatusSet('200,204');
    assert.ok(!('error' in r) && r.allowed[204] === 1 && r.allowed[200] === 1 && r.allowed[201] === 0, 'exactly the listed statuses are allowed');
  });

  test('refusals', () => {
    for (const s of ['', '1xx', '100', '600', '2x', '299-200', 'abc', '200,,204', '20', '6xx']) {
      assert.ok('error' in parseStatusSet(s), `"${s}" must be refused`);
    }
  });
});

describe('request builder (--method, --path, --header, --body)', () => {
  test('the default is GET / with a Host header, as before', () => {
    assert.equal(buildRequest('127.0.0.1', 8080).toString('latin1'), 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
    assert.equal(hostHeader('::1', 80), '[::1]:80', 'an IPv6 literal goes in brackets');
  });

  test('method, path, headers in order, a Host of the user’s, a body with its length', () => {
    const req = buildRequest('127.0.0.1', 80, { method: 'POST', path: '/api?x=1', headers: [['X-A', '1'], ['host', 'example.test'], ['X-B', '2']], body: bytes('{"a":1}') });
    assert.equal(req.toString('latin1'), 'POST /api?x=1 HTTP/1.1\r\nX-A: 1\r\nhost: example.test\r\nX-B: 2\r\nContent-Length: 7\r\n\r\n{"a":1}');
    const empty = buildRequest('h', 1, { method: 'PUT', path: '/', headers: [], body: new Uint8Array(0) });
    assert.equal(empty.toString('latin1'), 'PUT / HTTP/1.1\r\nHost: h:1\r\nContent-Length: 0\r\n\r\n', 'an empty body still says its length');
  });

  test('what each flag refuses', () => {
    assert.equal(methodProblem('GET'), null);
    assert.equal(methodProblem('PROPFIND'), null, 'any token is a method');
    for (const m of ['', 'GE T', 'GET\r\n', 'CONNECT', 'connect', 'A'.repeat(33)]) assert.notEqual(methodProblem(m), null, `method ${JSON.stringify(m)}`);
    for (const p of ['/', '/a/b?c=d#e', '*', 'http://x/y']) assert.equal(pathProblem(p), null, `path ${p}`);
    for (const p of ['', 'a', '/a b', '/a\r\n', '/é', `/${'a'.repeat(9000)}`]) assert.notEqual(pathProblem(p), null, `path ${JSON.stringify(p)}`);
    assert.deepEqual(parseHeader('X-A: b c '), ['X-A', 'b c']);
    assert.deepEqual(parseHeader('X-A:'), ['X-A', ''], 'an empty value is a value');
    for (const h of ['nocolon', ': v', 'X A: v', 'X-A: a\r\nB: c', 'Content-Length: 5', 'transfer-encoding: chunked']) {
      assert.ok('error' in parseHeader(h), `header ${JSON.stringify(h)} must be refused`);
    }
  });

  test('httpClient: no expect means our page; expect means the status set and an optional body', () => {
    const page = httpClient(undefined, '127.0.0.1', 80);
    assert.ok(page.page && page.check.body?.equals(PAGE_BYTES) === true && page.check.allowed[200] === 1 && page.check.allowed[204] === 0, 'page: 200 and the page');
    const any = httpClient({ expect: {} }, '127.0.0.1', 80);
    assert.ok(!any.page && any.check.body === undefined && any.check.allowed[204] === 1, 'target: 2xx, any body');
    const closes = httpClient({ headers: ['Connection: close'], method: 'HEAD', body: Buffer.from('x').toString('base64') }, 'h', 1);
    assert.ok(closes.closes && closes.check.head, 'a Connection: close request, HEAD');
    assert.match(closes.request.toString('latin1'), /^HEAD \/ HTTP\/1\.1\r\nHost: h:1\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx$/);
  });

  test('afterPeerClose: when a closed slot connects again', () => {
    assert.equal(afterPeerClose(null, true, 3, 1), null, 'announced: again (the requests behind it are the driver’s to count)');
    assert.equal(afterPeerClose(null, false, 0, 5), null, 'keep-alive, nothing in flight: the server’s idle timeout, again');
    assert.equal(afterPeerClose(null, false, 1, 5), 'closed', 'a request in flight: the server dropped it');
    assert.equal(afterPeerClose(null, false, 0, 0), 'closed', 'never answered: a server refusing us, not a timeout');
    assert.equal(afterPeerClose(HTTP_ERRORS.truncated, false, 1, 0), HTTP_ERRORS.truncated, 'the reader’s kind wins');
  });
});
