/**
 * The native HTTP driver against servers that are not ours, on both of its
 * transports (the Selector layer and node:net): every framing a server may
 * choose verifies cleanly, a server that closes gets its slots reconnected,
 * and each unsupported reply is counted under its own kind.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { describe, test } from 'node:test';
import type { DriverOptions, DriverResult } from '../harness/load/driver.js';
import { runDriver } from '../harness/load/drivers.js';
import { TRANSPORTS } from './helpers/transports.js';
import type { HttpClientSpec } from '../workloads/http/client.js';
import { driverOptions } from './helpers/driver.js';
import { rawServer as raw, testServers } from './helpers/servers.js';

const { listen } = testServers();
const TARGET: HttpClientSpec = { expect: {} };
const opts = (port: number, over: Partial<DriverOptions> = {}): DriverOptions => driverOptions(port, { http: TARGET, ...over });

for (const { name, skip } of TRANSPORTS) {
  const drive = (o: DriverOptions): Promise<DriverResult> => runDriver('http', { ...o, tcpDriver: name });
  describe(`native driver on ${name}, against other servers`, { timeout: 60_000, skip }, () => {
    test('chunked with trailers, Content-Length and Connection: close all verify; closed slots reconnect', async () => {
      const chunked = await listen(
        http.createServer((_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Sum' });
          res.write('hello ');
          res.addTrailers({ 'X-Sum': '42' });
          res.end('world');
        }),
      );
      const closing = await listen(
        http.createServer((_req, res) => {
          res.setHeader('Connection', 'close');
          res.end('bye');
        }),
      );
      for (const [what, port] of [
        ['chunked', chunked],
        ['Connection: close', closing],
      ] as const) {
        const r = await drive(opts(port, { http: { expect: { body: Buffer.from(what === 'chunked' ? 'hello world' : 'bye').toString('base64') } } }));
        assert.deepEqual(r.errors, {}, `${what}: no errors, got ${JSON.stringify(r.errors)}`);
        assert.ok(r.ops > 10, `${what}: verified replies, got ${r.ops}`);
        assert.equal(r.established, 4, `${what}: a reconnecting slot is still established`);
      }
    });

    test('HTTP/1.0 with no length: the body ends at the close, and the slot connects again', async () => {
      const port = await listen(raw('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', true));
      const r = await drive(opts(port, { http: { expect: { body: Buffer.from('until the end').toString('base64') } } }));
      assert.deepEqual(r.errors, {}, `no errors, got ${JSON.stringify(r.errors)}`);
      assert.ok(r.ops > 10, `verified replies, got ${r.ops}`);
    });

    test('a server that closes after each response while 4 are pipelined: the rest are unanswered, the slot reconnects', async () => {
      const port = await listen(
        http.createServer((_req, res) => {
          res.setHeader('Connection', 'close');
          res.end('x');
        }),
      );
      const r = await drive(opts(port, { protocol: { pipelining: 4 } }));
      assert.ok(r.ops > 10, `verified replies, got ${r.ops}`);
      assert.deepEqual(Object.keys(r.errors), ['unanswered'], `only unanswered requests, got ${JSON.stringify(r.errors)}`);
    });

    test('a keep-alive server that closes idle connections: reconnected, not an error', async () => {
      const s = http.createServer((_req, res) => res.end('ok'));
      s.keepAliveTimeout = 100;
      const port = await listen(s);
      // 20 requests/s over 4 connections: each sits idle longer than the server keeps it.
      const r = await drive(opts(port, { rate: 20, durationSec: 1.5 }));
      assert.deepEqual(r.errors, {}, `no errors, got ${JSON.stringify(r.errors)}`);
      assert.ok(r.ops >= 20, `the schedule kept going on new connections, got ${r.ops}`);
    });

    test('each unsupported reply is counted by kind', async () => {
      const cases: [string, string][] = [
        ['HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops', 'http status 500'],
        ['HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n', 'http 1xx'],
        ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 'http upgrade'],
        ['HTTP/1.1 2xx OK\r\n\r\n', 'http malformed status line'],
        ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n', 'http bad chunk'],
      ];
      for (const [reply, kind] of cases) {
        const r = await drive(opts(await listen(raw(reply)), { durationSec: 0.3 }));
        assert.equal(r.ops, 0, `${kind}: nothing verified`);
        assert.deepEqual(Object.keys(r.errors), [kind], `${kind}: only that kind, got ${JSON.stringify(r.errors)}`);
      }
    });

    test('a body framed by a close that never comes times out as http no length', async () => {
      const port = await listen(raw('HTTP/1.1 200 OK\r\n\r\nno end'));
      const r = await drive(opts(port, { timeoutMs: 300, durationSec: 0.8, connections: 2 }));
      assert.deepEqual(r.errors, { 'http no length': 2 }, `each connection waits, then fails by that name, got ${JSON.stringify(r.errors)}`);
    });
  });
}
