/**
 * The blocking strategy beyond conformance: a thread per connection, the
 * bounded pool (queue, refusal), cross-thread fan-out under write locks,
 * the send timeout, and a throwing protocol costing only its connection.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type * as net from 'node:net';
import { describe, test } from 'node:test';
import { createBlockingServer } from '../strategies/blocking/index.js';
import { DEFAULT_STRATEGY_OPTIONS, type StrategyServer } from '../strategies/strategy.js';
import { connect, pattern, readBytes } from './helpers/net.js';
import { startServe } from './helpers/serve.js';

const linux = process.platform === 'linux';
const FIXTURES = new URL('./helpers/blocking-fixtures.js', import.meta.url).href;

function threadsOf(pid: number): number {
  const m = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

async function roundTrip(s: net.Socket, seed: number): Promise<void> {
  const msg = pattern(32, seed);
  const reply = readBytes(s, msg.length, 30_000);
  s.write(msg);
  const got = await reply;
  assert.ok(got.equals(msg), `echo on connection ${seed} differs from what was sent`);
}

/** Resolves when the peer closes (FIN or RST), rejects after `ms`. */
function closedByPeer(s: net.Socket, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`connection not closed by the server within ${ms} ms`)), ms);
    const done = (): void => {
      clearTimeout(t);
      resolve();
    };
    s.once('end', done);
    s.once('close', done);
    s.once('error', done);
    s.resume();
  });
}

describe('blocking: one thread per connection', () => {
  test('the server process gains a thread per served connection', { skip: linux ? false : 'reads /proc' }, async () => {
    const served = await startServe('blocking', 'echo', ['--max-threads', '16']);
    const socks: net.Socket[] = [];
    try {
      // One round trip first, so the pool's first thread exists before the baseline.
      const first = await connect(served.port);
      socks.push(first);
      await roundTrip(first, 1);
      const before = threadsOf(served.pid);
      for (let i = 2; i <= 9; i++) {
        const s = await connect(served.port);
        socks.push(s);
        await roundTrip(s, i);
      }
      const after = threadsOf(served.pid);
      assert.ok(after >= before + 8, `expected >= ${before + 8} threads with 9 live connections (had ${before} with 1), got ${after}`);
    } finally {
      for (const s of socks) s.destroy();
      const r = await served.stop();
      assert.equal(r.code, 0, `serve should exit 0, got ${r.code ?? r.signal}: ${served.stderr()}`);
      assert.ok((r.stats['pool: threads peak'] ?? 0) >= 9, `expected pool: threads peak >= 9, got ${JSON.stringify(r.stats)}`);
    }
  });

  test('beyond max-threads + max-queue connections are refused at once; the queued one is served when a thread frees', async () => {
    const served = await startServe('blocking', 'echo', ['--max-threads', '2', '--max-queue', '1']);
    const socks: net.Socket[] = [];
    try {
      const a = await connect(served.port);
      const b = await connect(served.port);
      socks.push(a, b);
      await roundTrip(a, 1);
      await roundTrip(b, 2);
      // Both threads are taken: the third waits in the queue, unanswered.
      const queued = await connect(served.port);
      socks.push(queued);
      const msg = pattern(100, 3);
      const queuedReply = readBytes(queued, msg.length, 30_000);
      queued.write(msg);
      // The fourth and fifth find 2 running + 1 queued: closed at once.
      for (let i = 0; i < 2; i++) {
        const r = await connect(served.port);
        socks.push(r);
        await closedByPeer(r, 10_000);
      }
      // Free a thread: the queued connection is served.
      a.destroy();
      const got = await queuedReply;
      assert.ok(got.equals(msg), 'the queued connection should be echoed once a thread is free');
      await roundTrip(b, 4);
    } finally {
      for (const s of socks) s.destroy();
      const r = await served.stop();
      assert.equal(r.code, 0, `serve should exit 0, got ${r.code ?? r.signal}: ${served.stderr()}`);
      assert.equal(r.stats['refused: thread pool full'], 2, `expected 2 refusals, got ${JSON.stringify(r.stats)}`);
      assert.equal(r.stats['accepted'], 5, `expected 5 accepted, got ${JSON.stringify(r.stats)}`);
      assert.ok((r.stats['pool: queue wait max us'] ?? 0) > 0, `expected a non-zero queue wait, got ${JSON.stringify(r.stats)}`);
    }
  });
});

describe('blocking: shared connection table', () => {
  async function withServer(kind: string, extra: Record<string, string | number | boolean>, body: (port: number, server: StrategyServer) => Promise<void>): Promise<Record<string, number>> {
    const server = createBlockingServer(
      { workload: 'fixture', options: { kind } },
      { ...DEFAULT_STRATEGY_OPTIONS, extra: { protocolModule: FIXTURES, maxThreads: 16, ...extra } },
    );
    const { port } = await server.listen('127.0.0.1', 0);
    try {
      await body(port, server);
    } finally {
      const t0 = performance.now();
      await server.close();
      assert.ok(performance.now() - t0 < 2000, `close() took ${Math.round(performance.now() - t0)} ms`);
    }
    return server.counters();
  }

  test('broadcasts from many threads reach every connection whole (no interleaving); Hub.size counts all threads', async () => {
    const N = 5;
    const LINES = 20;
    const LINE = 3000; // several recv/send chunks per line
    const counters = await withServer('fanout', {}, async (port) => {
      const socks = await Promise.all(Array.from({ length: N }, () => connect(port)));
      try {
        // Every connection has its thread once it answers "size?".
        let last = '';
        for (const s of socks) {
          const r = readBytes(s, 'size N\n'.length, 30_000);
          s.write('size?\n');
          last = (await r).toString();
        }
        assert.equal(last, `size ${N}\n`, 'Hub.size should count the connections of every thread');
        const expected = N * LINES * (LINE + 1);
        const all = socks.map((s) => readBytes(s, expected, 60_000));
        socks.forEach((s, i) => {
          const line = Buffer.alloc(LINE + 1, 0x61 + i);
          line[LINE] = 0x0a;
          for (let k = 0; k < LINES; k++) s.write(line);
        });
        for (const [i, got] of (await Promise.all(all)).entries()) {
          assert.equal(got.length, expected, `connection ${i}: expected ${expected} bytes, got ${got.length}`);
          const perSender = new Map<number, number>();
          for (let off = 0; off < got.length; off += LINE + 1) {
            const c = got[off] ?? 0;
            const whole = got.subarray(off, off + LINE).every((b) => b === c) && got[off + LINE] === 0x0a;
            assert.ok(whole, `connection ${i}: line at byte ${off} is interleaved with another message`);
            perSender.set(c, (perSender.get(c) ?? 0) + 1);
          }
          for (let j = 0; j < N; j++) assert.equal(perSender.get(0x61 + j), LINES, `connection ${i}: expected ${LINES} lines from sender ${j}`);
        }
      } finally {
        for (const s of socks) s.destroy();
      }
    });
    assert.equal(counters['closed: send timeout'] ?? 0, 0, `no send should time out: ${JSON.stringify(counters)}`);
  });

  test('a receiver that never reads is closed by the send timeout; the sender goes on', async () => {
    const counters = await withServer('fanout', { sendTimeoutMs: 300 }, async (port) => {
      const slow = await connect(port);
      const fast = await connect(port);
      try {
        slow.pause();
        // Both have threads (and are Hub members) before the flood.
        const r1 = readBytes(fast, 'size 2\n'.length, 30_000);
        fast.write('size?\n');
        assert.equal((await r1).toString(), 'size 2\n', 'both connections should be Hub members');
        const line = Buffer.alloc(64 * 1024, 0x62);
        line[line.length - 1] = 0x0a;
        const LINES = 300; // ~19 MiB: more than any loopback socket buffers hold
        const got = readBytes(fast, LINES * line.length, 60_000);
        for (let k = 0; k < LINES; k++) fast.write(line);
        assert.equal((await got).length, LINES * line.length, 'the sender should receive all its own lines');
        // Only now read the stuck one: the server must have closed it.
        await closedByPeer(slow, 30_000);
        const r2 = readBytes(fast, 'size 1\n'.length, 30_000);
        fast.write('size?\n');
        assert.equal((await r2).toString(), 'size 1\n', 'the stuck connection should have left the Hub');
      } finally {
        slow.destroy();
        fast.destroy();
      }
    });
    assert.equal(counters['closed: send timeout'], 1, `expected one send timeout: ${JSON.stringify(counters)}`);
  });

  test('a protocol that throws closes only its own connection, and is counted', async () => {
    const counters = await withServer('throw', {}, async (port) => {
      const good = await connect(port);
      try {
        await roundTrip(good, 1);
        for (let i = 0; i < 2; i++) {
          const bad = await connect(port);
          const closed = closedByPeer(bad, 10_000);
          bad.write('boom');
          await closed;
          bad.destroy();
        }
        await roundTrip(good, 2);
        const again = await connect(port);
        await roundTrip(again, 3);
        again.destroy();
      } finally {
        good.destroy();
      }
    });
    assert.equal(counters['errors: protocol'], 2, `expected 2 protocol errors: ${JSON.stringify(counters)}`);
  });
});

