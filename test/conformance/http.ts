/**
 * HTTP/1.1 conformance: the seed's page with the right headers, keep-alive,
 * pipelining, HEAD, Connection: close, HTTP/1.0, every limit of our parser,
 * slowloris and idle deadlines, and random binary. The limit cases pin our
 * own parser; node-http runs on llhttp's limits and skips them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PAGE_BYTES } from '../../workloads/http/page.js';
import { connect, pattern } from '../helpers/net.js';
import { GET, readResponses, readUntilClosed, type RawResponse } from '../helpers/http.js';
import type { CaseContext } from './suite.js';

/** Short deadlines so the slowloris and idle cases take about a second (ticks are 1 s apart). */
export const HTTP_SERVE_ARGS: readonly string[] = ['--protocol-json', JSON.stringify({ headerTimeoutMs: 300, idleTimeoutMs: 1500 })];

function assertPage(r: RawResponse | undefined, what: string, withBody = true): void {
  assert.ok(r !== undefined, `${what}: expected a response, got none`);
  assert.equal(r.status, 200, `${what}: expected 200, got ${r.status}`);
  assert.equal(r.headers['server'], 'iomodels', `${what}: expected Server: iomodels, got ${r.headers['server']}`);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', `${what}: wrong Content-Type ${r.headers['content-type']}`);
  assert.equal(r.headers['content-length'], String(PAGE_BYTES.length), `${what}: Content-Length must be the page's UTF-8 byte length ${PAGE_BYTES.length}`);
  assert.ok(r.headers['date'] !== undefined, `${what}: expected a Date header`);
  if (withBody) assert.ok(r.body.equals(PAGE_BYTES), `${what}: body differs from the seed's page`);
  else assert.equal(r.body.length, 0, `${what}: expected no body`);
}

/** Send `req` on a fresh connection; expect `status` and then the connection closed. */
async function expectStatusThenClose(port: number, req: string | Buffer | (string | Buffer)[], status: number): Promise<void> {
  const s = await connect(port);
  try {
    const all = readUntilClosed(s, 8000);
    for (const part of Array.isArray(req) ? req : [req]) s.write(part);
    const { data, closed } = await all;
    const text = data.toString('latin1');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
    assert.ok(m !== null, `expected a ${status} response, got ${JSON.stringify(text.slice(0, 80))}`);
    assert.equal(Number(m[1]), status, `expected status ${status}, got ${m[1]}`);
    assert.ok(closed, `expected the server to close the connection after ${status}`);
  } finally {
    s.destroy();
  }
}

export function httpCases(ctx: CaseContext): void {
  const ours = ctx.strategy !== 'node-http';
  const limitsSkip = ours ? false : "node:http enforces llhttp's own limits; this case pins our parser";

  test('GET / returns the seed page with exact headers; keep-alive serves a second request', async () => {
    const s = await connect(ctx.server().port);
    try {
      const got = readResponses(s, 2);
      s.write(GET());
      s.write(GET('/?x=1'));
      const [a, b] = await got;
      assertPage(a, 'first GET');
      assertPage(b, 'second GET on the same connection');
      assert.equal(a?.headers['connection'], 'keep-alive', 'HTTP/1.1 default is keep-alive');
    } finally {
      s.destroy();
    }
  });

  test('HEAD / has the headers of GET and no body; the next request still parses', async () => {
    const s = await connect(ctx.server().port);
    try {
      const got = readResponses(s, 2, [true, false]);
      s.write(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n${GET()}`);
      const [h, g] = await got;
      assertPage(h, 'HEAD', false);
      assertPage(g, 'GET after HEAD');
    } finally {
      s.destroy();
    }
  });

  test('pipelined requests are answered in order', async () => {
    const s = await connect(ctx.server().port);
    try {
      const kinds = ['GET', 'HEAD', 'GET', 'GET', 'HEAD', 'GET', 'GET', 'HEAD', 'GET', 'GET'];
      const got = readResponses(
        s,
        kinds.length,
        kinds.map((k) => k === 'HEAD'),
      );
      s.write(kinds.map((k, i) => `${k} /?n=${i} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
      const rs = await got;
      assert.equal(rs.length, kinds.length, `expected ${kinds.length} responses, got ${rs.length}`);
      rs.forEach((r, i) => assertPage(r, `pipelined #${i} (${kinds[i] ?? ''})`, kinds[i] === 'GET'));
    } finally {
      s.destroy();
    }
  });

  test('other paths get 404 and the connection closes', async () => {
    await expectStatusThenClose(ctx.server().port, GET('/missing'), 404);
  });

  test('Connection: close is honoured', async () => {
    const s = await connect(ctx.server().port);
    try {
      const all = readUntilClosed(s);
      s.write(GET('/', 'Connection: close\r\n'));
      const { data, closed } = await all;
      const text = data.toString('latin1');
      assert.match(text, /^HTTP\/1\.1 200 /, 'expected 200');
      assert.match(text, /\r\nConnection: close\r\n/i, 'expected Connection: close in the response');
      assert.ok(closed, 'expected the server to close after Connection: close');
    } finally {
      s.destroy();
    }
  });

  test('HTTP/1.0 closes by default and stays open with Connection: keep-alive', async () => {
    const port = ctx.server().port;
    const a = await connect(port);
    try {
      const all = readUntilClosed(a);
      a.write('GET / HTTP/1.0\r\n\r\n');
      const { data, closed } = await all;
      assert.match(data.toString('latin1'), /^HTTP\/1\.1 200 /, 'expected 200 to HTTP/1.0');
      assert.ok(closed, 'expected HTTP/1.0 without keep-alive to be closed');
    } finally {
      a.destroy();
    }
    const b = await connect(port);
    try {
      const got = readResponses(b, 2);
      b.write('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
      const rs = await got;
      assert.equal(rs.length, 2, 'expected two responses on one HTTP/1.0 keep-alive connection');
      assert.equal(rs[0]?.headers['connection'], 'keep-alive', 'expected Connection: keep-alive echoed to HTTP/1.0');
    } finally {
      b.destroy();
    }
  });

  test('a 1 MiB body is read and discarded across packets; the next request works', async () => {
    const s = await connect(ctx.server().port);
    try {
      const body = pattern(1024 * 1024, 3);
      const got = readResponses(s, 2, [], 20_000);
      s.write(`GET / HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
      for (let off = 0; off < body.length; off += 100_000) {
        s.write(body.subarray(off, off + 100_000));
        await new Promise((r) => setImmediate(r));
      }
      s.write(GET());
      const rs = await got;
      assertPage(rs[0], 'GET with a 1 MiB body');
      assertPage(rs[1], 'GET after the body');
    } finally {
      s.destroy();
    }
  });

  test('a request dribbled one byte a packet is served', async () => {
    const s = await connect(ctx.server().port);
    try {
      const got = readResponses(s, 1);
      for (const b of Buffer.from(GET('/', 'X-Slow: yes\r\n'))) {
        s.write(Buffer.of(b));
        await new Promise((r) => setImmediate(r));
      }
      assertPage((await got)[0], 'dribbled GET');
    } finally {
      s.destroy();
    }
  });

  test('request line over 8 KiB → 414', { skip: limitsSkip }, async () => {
    await expectStatusThenClose(ctx.server().port, GET(`/${'a'.repeat(8200)}`), 414);
  });

  test('header section over 16 KiB → 431', { skip: limitsSkip }, async () => {
    await expectStatusThenClose(ctx.server().port, GET('/', `X-Big: ${'b'.repeat(17 * 1024)}\r\n`), 431);
  });

  test('more than 100 header fields → 431', { skip: limitsSkip }, async () => {
    const fields = Array.from({ length: 101 }, (_, i) => `X-F${i}: v\r\n`).join('');
    await expectStatusThenClose(ctx.server().port, GET('/', fields), 431);
  });

  test('Content-Length over 1 MiB → 413', async () => {
    await expectStatusThenClose(ctx.server().port, GET('/', `Content-Length: ${1024 * 1024 + 1}\r\n`), 413);
  });

  const bad: [string, string][] = [
    ['Transfer-Encoding with Content-Length', GET('/', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n') + 'abc'],
    ['duplicate Content-Length', GET('/', 'Content-Length: 0\r\nContent-Length: 0\r\n')],
    ['invalid Content-Length', GET('/', 'Content-Length: 1x\r\n')],
    ['bare LF', 'GET / HTTP/1.1\nHost: t\r\n\r\n'],
    ['bare CR', 'GET / HTTP/1.1\r\nHost: t\rX: y\r\n\r\n'],
    ['HTTP/2.0 version', 'GET / HTTP/2.0\r\nHost: t\r\n\r\n'],
    ['absolute-form target', 'GET http://t/ HTTP/1.1\r\nHost: t\r\n\r\n'],
    ['asterisk-form target', 'OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n'],
  ];
  for (const [what, req] of bad) {
    test(`${what} → 400`, { skip: limitsSkip }, async () => {
      await expectStatusThenClose(ctx.server().port, req, 400);
    });
  }

  test('headers still incomplete after the header deadline (slowloris) → 408, then close', async () => {
    await expectStatusThenClose(ctx.server().port, 'GET / HTTP/1.1\r\nHost: t\r\nX-Slow', 408);
  });

  test('an idle keep-alive connection is closed after the idle deadline', async () => {
    const s = await connect(ctx.server().port);
    try {
      const got = readResponses(s, 1);
      s.write(GET());
      assertPage((await got)[0], 'GET before idling');
      const t0 = performance.now();
      const { closed } = await readUntilClosed(s, 8000);
      assert.ok(closed, 'expected the idle connection to be closed within 8 s');
      assert.ok(performance.now() - t0 >= 1000, 'closed before the 1.5 s idle deadline could have passed');
    } finally {
      s.destroy();
    }
  });

  test('random binary gets a 4xx (or nothing) and is closed; the server keeps serving', async () => {
    const port = ctx.server().port;
    for (let i = 0; i < 5; i++) {
      const s = await connect(port);
      const all = readUntilClosed(s, 8000);
      s.write(pattern(64 * 1024, 100 + i));
      const { data, closed } = await all;
      s.destroy();
      assert.ok(closed, `random binary #${i}: expected the server to close the connection`);
      const text = data.toString('latin1');
      assert.ok(text === '' || /^HTTP\/1\.1 4\d\d /.test(text), `random binary #${i}: expected a 4xx, got ${JSON.stringify(text.slice(0, 40))}`);
    }
    const s = await connect(port);
    try {
      const got = readResponses(s, 1);
      s.write(GET());
      assertPage((await got)[0], 'GET after random binary');
    } finally {
      s.destroy();
    }
  });
}
