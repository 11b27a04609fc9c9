/**
 * io-uring holds 10,000 echo connections with 0 errors (slow: serial).
 * Bounded: ~3 s of load against a local server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findStrategy } from '../../strategies/registry.js';
import { runEchoDriver } from '../../workloads/echo/driver.js';
import { startServe } from '../helpers/serve.js';

const avail = findStrategy('io-uring')?.availability() ?? { ok: false, reason: 'not registered' };

test('the echo driver holds 10,000 connections to io-uring with 0 errors', { skip: avail.ok ? false : `io-uring unavailable here: ${avail.reason}` }, async () => {
  const s = await startServe('io-uring', 'echo');
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
    assert.equal(stop.code, 0, `serve exits 0 on SIGTERM, got ${stop.code ?? stop.signal}: ${s.stderr()}`);
    assert.equal(stop.stats['accepted'], 10_000, `server accepted 10,000, stats ${JSON.stringify(stop.stats)}`);
    // The driver resets its sockets at the end ("errors: socket" = ECONNRESET then); anything else is a bug.
    const other = Object.keys(stop.stats).filter((k) => k.startsWith('errors:') && k !== 'errors: socket');
    assert.deepEqual(other, [], `no loop/accept/protocol errors on the server, stats ${JSON.stringify(stop.stats)}`);
  }
});
