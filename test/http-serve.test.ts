/**
 * The http workload through `iomodels serve` on libuv: the seed's
 * "用完就断" mode (--http-close), and the native driver against it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { readUntilClosed, splitResponses } from './helpers/http.js';
import { connect } from './helpers/net.js';
import { startServe, type ServedProcess } from './helpers/serve.js';
import { runDriver } from '../harness/load/drivers.js';

describe('http --http-close on libuv', () => {
  let served: ServedProcess | undefined;
  before(async () => {
    served = await startServe('libuv', 'http', ['--http-close']);
  });
  after(async () => {
    await served?.stop();
  });

  test('each connection gets one response, Connection: close, then EOF', async () => {
    const s = await connect(served?.port ?? 0);
    try {
      const all = readUntilClosed(s);
      s.write('GET / HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n');
      const { data, closed } = await all;
      const rs = splitResponses(data);
      assert.equal(rs.length, 1, `expected exactly one response, got ${rs.length}`);
      assert.equal(rs[0]?.headers['connection'], 'close', 'expected Connection: close');
      assert.ok(closed, 'expected the server to close after the response');
    } finally {
      s.destroy();
    }
  });

  test('the native driver reconnects per request and verifies every response', async () => {
    const r = await runDriver('http', { ...{
      host: '127.0.0.1',
      port: served?.port ?? 0,
      connections: 4,
      warmupSec: 0,
      durationSec: 0.5,
      timeoutMs: 5000,
      connectConcurrency: 4,
      connectTimeoutMs: 5000,
      protocol: { httpClose: true },
    }, tcpDriver: 'net' });
    assert.ok(r.ops > 20, `expected more than 20 verified requests, got ${r.ops}`);
    assert.deepEqual(r.errors, {}, 'expected no errors');
    assert.equal(r.driver, 'net', 'the result names its transport');
  });
});
