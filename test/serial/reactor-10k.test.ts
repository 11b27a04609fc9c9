/**
 * epoll and poll hold 10,000 echo connections with 0 errors (slow: serial).
 * Bounded: ~5 s of load per strategy against a local server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runEchoDriver } from '../../workloads/echo/driver.js';
import { startServe } from '../helpers/serve.js';

for (const strategy of ['epoll', 'poll']) {
  test(`${strategy} serves 10,000 connections with 0 errors`, { skip: strategy === 'epoll' && process.platform !== 'linux' ? 'epoll is Linux-only' : false }, async () => {
    const s = await startServe(strategy, 'echo');
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
      });
      assert.equal(r.established, 10_000, 'all 10,000 connections established');
      assert.deepEqual(r.errors, {}, `no errors, got ${JSON.stringify(r.errors)}`);
      assert.ok(r.ops >= 10_000, `every connection completes round trips, got ${r.ops} ops`);
    } finally {
      const stop = await s.stop();
      assert.equal(stop.code, 0, `serve exits 0: ${s.stderr()}`);
      assert.ok((stop.stats.accepted ?? 0) >= 10_000, `server accepted every connection: ${JSON.stringify(stop.stats)}`);
    }
  });
}
