/**
 * 10,000 echo connections with 0 errors, per strategy and load driver
 * (slow: serial). Bounded: ~5 s of load per case against a local server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findStrategy } from '../../strategies/registry.js';
import type { DriverOptions } from '../../harness/load/driver.js';
import { startServe } from '../helpers/serve.js';
import { runDriver } from '../../harness/load/drivers.js';

const CASES: { strategy: string; tcpDriver?: DriverOptions['tcpDriver'] }[] = [
  { strategy: 'libuv', tcpDriver: 'net' },
  { strategy: 'epoll', tcpDriver: 'selector' },
  { strategy: 'poll' },
  { strategy: 'io-uring' },
  // One signal per readiness change, then a scan of every socket: the
  // model's cost grows with the fds, and it must still hold them all.
  { strategy: 'sigio' },
];

for (const { strategy, tcpDriver } of CASES) {
  const avail = findStrategy(strategy)?.availability() ?? { ok: false, reason: 'not registered' };
  const name = `${strategy} holds 10,000 connections with 0 errors (${tcpDriver ?? 'default'} driver)`;
  test(name, { skip: avail.ok ? false : `${strategy} unavailable here: ${avail.reason}` }, async () => {
    const s = await startServe(strategy, 'echo');
    let ran = false;
    try {
      const r = await runDriver('echo', {
        host: '127.0.0.1',
        port: s.port,
        connections: 10_000,
        // The connect phase ends once the server has taken every connection
        // the kernel holds for it (harness/load/unserved.ts): a storm leaves
        // some in its accept queue, and libuv takes one per loop turn once
        // the load runs. A connection whose handshake the kernel finished
        // while the accept queue was full (a SYN cookie's) reaches the server
        // only with its first bytes: the warm-up leaves time for those.
        warmupSec: 3,
        durationSec: 2,
        timeoutMs: 10_000,
        connectConcurrency: 500,
        connectTimeoutMs: 60_000,
        protocol: { messageSize: 64 },
        ...(tcpDriver === undefined ? {} : { tcpDriver }),
      });
      if (tcpDriver !== undefined) assert.ok((r.driver ?? '').startsWith(tcpDriver), `the ${tcpDriver} driver ran, got ${r.driver}`);
      assert.equal(r.established, 10_000, 'all 10,000 connections established');
      // 'not accepted' here: the window closed on connections the server had not taken.
      assert.deepEqual(r.errors, {}, `no errors, got ${JSON.stringify(r.errors)}`);
      assert.ok(r.ops >= 10_000, `every connection completes round trips, got ${r.ops} ops`);
      ran = true;
    } finally {
      const stop = await s.stop();
      // A failure above is the one to report; the server's side only counts when the load ran clean.
      if (ran) {
        assert.equal(stop.code, 0, `serve exits 0 on SIGTERM, got ${stop.code ?? stop.signal}: ${s.stderr()}`);
        assert.ok((stop.stats['accepted'] ?? 0) >= 10_000, `server accepted every connection: ${JSON.stringify(stop.stats)}`);
        // The driver resets its sockets at the end ("errors: socket" then); anything else is a bug.
        const other = Object.keys(stop.stats).filter((k) => k.startsWith('errors:') && k !== 'errors: socket');
        assert.deepEqual(other, [], `no loop/accept/protocol errors on the server: ${JSON.stringify(stop.stats)}`);
      }
    }
  });
}
