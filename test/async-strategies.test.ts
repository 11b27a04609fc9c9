/**
 * sigio and io-uring in-process: a slow consumer passes the write-queue cap
 * and only its connection is closed and counted; SIGIO (not the sweep) is
 * what drives sigio; close() is bounded and leaves the others unharmed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findStrategy } from '../strategies/registry.js';
import { DEFAULT_STRATEGY_OPTIONS, type StrategyServer } from '../core/strategy.js';
import { protocolSpec } from '../workloads/protocols.js';
import { connect, pattern, readBytes } from './helpers/net.js';

const CAP = 64 * 1024;

for (const name of ['sigio', 'io-uring']) {
  const info = findStrategy(name);
  const a = info?.availability() ?? { ok: false, reason: 'not registered' };
  describe(`${name} in-process`, { skip: a.ok ? false : `${name} unavailable here: ${a.ok ? '' : a.reason}` }, () => {
    const start = async (): Promise<{ server: StrategyServer; port: number }> => {
      if (info === undefined) throw new Error('not registered');
      const factory = await info.load();
      const server = await factory(protocolSpec('echo', {}), { ...DEFAULT_STRATEGY_OPTIONS, writeQueueCap: CAP });
      const { port } = await server.listen('127.0.0.1', 0);
      return { server, port };
    };

    test('a client that never reads is closed at the write-queue cap; others keep echoing', async () => {
      const { server, port } = await start();
      try {
        const good = await connect(port);
        const slow = await connect(port);
        slow.pause(); // never read: the echo piles up in the server's queue
        // Not events.once: it rejects on 'error', and an EPIPE/ECONNRESET is what we expect.
        slow.on('error', () => undefined);
        const closed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
        const chunk = pattern(64 * 1024, 3);
        const t0 = performance.now();
        const writing = (async (): Promise<void> => {
          // 16 MiB at most: far beyond the cap plus both socket buffers.
          for (let i = 0; i < 256 && !slow.destroyed; i++) {
            if (!slow.write(chunk)) await Promise.race([new Promise((resolve) => slow.once('drain', resolve)), closed]);
          }
          await closed;
        })();
        // Its queued bytes are dropped, so the close is a reset the client sees at once; a
        // graceful FIN would wait behind megabytes the client never reads (minutes).
        let timer: NodeJS.Timeout | undefined;
        const seen = await Promise.race([writing.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 15_000)))]);
        clearTimeout(timer);
        if (!seen) slow.destroy();
        assert.ok(seen, `the slow client should see its connection closed within 15 s (waited ${Math.round(performance.now() - t0)} ms)`);
        const msg = pattern(10_000, 8);
        const reply = readBytes(good, msg.length);
        good.write(msg);
        assert.ok((await reply).equals(msg), 'the other connection still echoes byte-exact');
        good.destroy();
      } finally {
        const t0 = performance.now();
        await server.close();
        assert.ok(performance.now() - t0 < 1500, `close() is bounded, took ${Math.round(performance.now() - t0)} ms`);
      }
      const c = server.counters();
      assert.equal(c['closed: write queue full'], 1, `exactly the slow connection was closed at the cap, counters ${JSON.stringify(c)}`);
      assert.equal(c['accepted'], 2, `two connections accepted, counters ${JSON.stringify(c)}`);
    });

    if (name === 'sigio') {
      test('SIGIO drives the loop: one signal or more per round trip burst, sweeps rarely needed', async () => {
        const { server, port } = await start();
        try {
          const s = await connect(port);
          for (let i = 0; i < 200; i++) {
            const msg = pattern(100, i);
            const reply = readBytes(s, msg.length);
            s.write(msg);
            assert.ok((await reply).equals(msg), `round trip ${i} byte-exact`);
          }
          s.destroy();
        } finally {
          await server.close();
        }
        const c = server.counters();
        // 200 round trips took far less than 200 sweep periods: signals did the work.
        assert.ok((c['signals: SIGIO'] ?? 0) >= 100, `expected >= 100 SIGIOs for 200 round trips, counters ${JSON.stringify(c)}`);
        assert.ok((c['sigio: sweeps that found work'] ?? 0) < 20, `expected few sweeps with work, counters ${JSON.stringify(c)}`);
      });
    }
  });
}
