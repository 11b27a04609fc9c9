/**
 * 10,000 connections through the echo driver with 0 errors (slow: serial).
 * Bounded: ~10 s of load against a local server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runEchoDriver } from '../../workloads/echo/driver.js';
import { startServe } from '../helpers/serve.js';

test('the node:net echo driver holds 10,000 connections to libuv with 0 errors', async () => {
  const s = await startServe('libuv', 'echo');
  try {
    const r = await runEchoDriver({
      host: '127.0.0.1',
      port: s.port,
      connections: 10_000,
      warmupSec: 1,
      durationSec: 2,
      timeoutMs: 10_000,
      connectConcurrency: 500,
      connectTimeoutMs: 60_000,
      protocol: { messageSize: 64 },
      tcpDriver: 'net',
    });
    assert.equal(r.established, 10_000, 'all 10,000 connections established');
    assert.deepEqual(r.errors, {}, `no errors, got ${JSON.stringify(r.errors)}`);
    assert.ok(r.ops >= 10_000, `every connection completes round trips, got ${r.ops} ops`);
  } finally {
    await s.stop();
  }
});

test('the selector echo driver holds 10,000 connections to epoll with 0 errors', async () => {
  const s = await startServe('epoll', 'echo');
  try {
    const r = await runEchoDriver({
      host: '127.0.0.1',
      port: s.port,
      connections: 10_000,
      warmupSec: 1,
      durationSec: 2,
      timeoutMs: 10_000,
      connectConcurrency: 500,
      connectTimeoutMs: 60_000,
      protocol: { messageSize: 64 },
      tcpDriver: 'selector',
    });
    assert.match(r.driver ?? '', /^selector:/, `the selector driver ran, got ${r.driver}`);
    assert.equal(r.established, 10_000, 'all 10,000 connections established');
    assert.deepEqual(r.errors, {}, `no errors, got ${JSON.stringify(r.errors)}`);
    assert.ok(r.ops >= 10_000, `every connection completes round trips, got ${r.ops} ops`);
  } finally {
    await s.stop();
  }
});
