/**
 * The blocking strategy beyond conformance: a thread per connection, the
 * bounded pool (queue, refusal), the pool still serving after bursts of
 * connections closed before a thread took them, cross-thread fan-out under
 * write locks, the send timeout, and a throwing protocol costing only its
 * connection.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type * as net from 'node:net';
import { describe, test } from 'node:test';
import { createBlockingServer } from '../strategies/blocking/index.js';
import { DEFAULT_STRATEGY_OPTIONS, type StrategyServer } from '../core/strategy.js';
import { protocolSpec } from '../workloads/protocols.js';
import { connect, pattern, readBytes } from './helpers/net.js';
import { until } from './helpers/poll.js';
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

/** Every accepted connection is accounted for: closed (served or not) or refused. */
function settled(c: Record<string, number>, accepted: number): boolean {
  const done = (c['closed'] ?? 0) + (c['refused: thread pool full'] ?? 0) + (c['refused: fd table full'] ?? 0);
  return c['accepted'] === accepted && done === accepted;
}

describe('blocking: the pool after bursts of closed connections', () => {
  async function withEcho(extra: Record<string, number>, body: (port: number, server: StrategyServer) => Promise<void>): Promise<Record<string, number>> {
    const server = createBlockingServer(protocolSpec('echo', {}), { ...DEFAULT_STRATEGY_OPTIONS, extra });
    const { port } = await server.listen('127.0.0.1', 0);
    try {
      await body(port, server);
    } finally {
      await server.close();
    }
    return server.counters();
  }

  test('three bursts of 50 connections opened and closed (4 threads, queue 8): the queue drains every time, new connections are served after', async () => {
    // Threads exit 30 ms after going idle, so each burst runs on a pool whose
    // threads came and went: piscina starts threads that never run a task,
    // and they exit too (this once wedged the pool for good).
    const BURST = 50;
    const counters = await withEcho({ maxThreads: 4, maxQueue: 8, idleTimeoutMs: 30 }, async (port, server) => {
      let accepted = 0;
      for (let round = 1; round <= 3; round++) {
        const opened = await Promise.allSettled(Array.from({ length: BURST }, () => connect(port)));
        for (const o of opened) {
          assert.equal(o.status, 'fulfilled', `round ${round}: every connect should succeed (refusal is a close after accept)`);
          if (o.status === 'fulfilled') o.value.destroy();
        }
        accepted += BURST;
        const drained = await until(() => settled(server.counters(), accepted), 10_000);
        assert.ok(drained, `round ${round}: all ${accepted} accepted connections should be closed or refused, got ${JSON.stringify(server.counters())}`);
        // The pool serves a new connection: it is neither refused nor left queued.
        const probe = await connect(port);
        try {
          await roundTrip(probe, round);
        } finally {
          probe.destroy();
        }
        accepted++;
        assert.ok(await until(() => settled(server.counters(), accepted), 10_000), `round ${round}: the probe connection should be closed`);
        // Let the idle threads exit before the next burst (30 ms idle timeout).
        await new Promise((r) => setTimeout(r, 150));
      }
    });
    assert.equal(counters['pool: never served'] ?? 0, 0, `no connection should be left unserved at close: ${JSON.stringify(counters)}`);
    assert.ok((counters['pool: served'] ?? 0) >= 3 * 12 + 3, `each burst fills 4 threads + 8 queued, all served, plus 3 probes: ${JSON.stringify(counters)}`);
  });

  test('queued connections whose client already closed are taken by the thread, find EOF at once and free their slot', async () => {
    const QUEUED = 8;
    const counters = await withEcho({ maxThreads: 1, maxQueue: QUEUED }, async (port, server) => {
      const busy = await connect(port);
      await roundTrip(busy, 1);
      // The only thread now sleeps in recv on `busy`: these wait in the queue.
      const queued = await Promise.all(Array.from({ length: QUEUED }, () => connect(port)));
      assert.ok(await until(() => server.counters()['accepted'] === 1 + QUEUED, 10_000), `all ${1 + QUEUED} connections should be accepted`);
      // Half close with FIN, half with RST, before any thread looked at them.
      queued.forEach((s, i) => {
        s.on('error', () => undefined);
        if (i % 2 === 0) s.destroy();
        else s.resetAndDestroy();
      });
      assert.equal(server.counters()['closed'] ?? 0, 0, 'no connection is closed while the thread is busy');
      busy.destroy();
      // The thread takes each in turn: recv returns 0 (or ECONNRESET) at once.
      // Were it to block, nothing would ever close these.
      const all = await until(() => settled(server.counters(), 1 + QUEUED), 10_000);
      assert.ok(all, `the ${QUEUED} closed queued connections should be released by the thread, got ${JSON.stringify(server.counters())}`);
      const after = await connect(port);
      await roundTrip(after, 2);
      after.destroy();
    });
    assert.equal(counters['pool: served'], 2 + QUEUED, `the thread should have taken every queued connection: ${JSON.stringify(counters)}`);
    assert.equal(counters['pool: never served'] ?? 0, 0, `none left for close(): ${JSON.stringify(counters)}`);
    assert.equal(counters['refused: thread pool full'], 0, `none refused: ${JSON.stringify(counters)}`);
  });
});

describe('blocking: shared connection table', () => {
  async function withServer(kind: string, extra: Record<string, string | number | boolean>, body: (port: number, server: StrategyServer) => Promise<void>): Promise<Record<string, number>> {
    const server = createBlockingServer(
      { workload: 'fixture', options: { kind }, module: FIXTURES },
      { ...DEFAULT_STRATEGY_OPTIONS, extra: { maxThreads: 16, ...extra } },
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
        // Both have threads (and are Hub members) before the flood: each has
        // answered once. A connect alone does not prove it: the server may
        // not have accepted it yet (seen beside a CPU hog).
        const r0 = readBytes(slow, 'size N\n'.length, 30_000);
        slow.write('size?\n');
        await r0;
        slow.pause();
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

  test('a connection is a Hub member from its accept: it gets every later line while it waits for a thread; only its own reads wait', async () => {
    const counters = await withServer('fanout', { maxThreads: 1 }, async (port, server) => {
      const a = await connect(port);
      const b = await connect(port);
      try {
        const r0 = readBytes(a, 'size 1\n'.length, 30_000);
        a.write('size?\n');
        await r0;
        // The one thread serves a; b is accepted and queued behind it.
        assert.ok(await until(() => server.counters()['accepted'] === 2, 10_000), `b should be accepted: ${JSON.stringify(server.counters())}`);
        b.write('from b\n');
        const r1 = readBytes(a, 'size 2\n'.length, 30_000);
        a.write('size?\n');
        assert.equal((await r1).toString(), 'size 2\n', 'b should be in the Hub before any thread serves it');
        const lines = Array.from({ length: 50 }, (_, k) => Buffer.concat([pattern(100 + k * 37, k + 1).map((c) => (c === 0x0a ? 0x20 : c)), Buffer.from('\n')]));
        const want = Buffer.concat(lines);
        const aAll = readBytes(a, want.length, 30_000);
        const bAll = readBytes(b, want.length, 30_000);
        for (const line of lines) a.write(line);
        assert.ok((await aAll).equals(want), 'a should get exactly its own lines, in order (b\'s line waits for b\'s thread)');
        assert.ok((await bAll).equals(want), 'b, still without a thread, should get every line a sent after its accept, byte-exact and in order');
        assert.equal(server.counters()['pool: served'], 1, 'b\'s thread has not started: the only thread still serves a');
        // a leaves: the thread takes b and reads the line b sent long ago.
        const bOwn = readBytes(b, 'from b\n'.length, 30_000);
        a.end();
        assert.equal((await bOwn).toString(), 'from b\n', 'b\'s own line is read (and broadcast) once its thread serves it');
      } finally {
        a.destroy();
        b.destroy();
      }
    });
    assert.equal(counters['closed: send timeout'] ?? 0, 0, `no send should time out: ${JSON.stringify(counters)}`);
  });

  test('a receiver that never reads while it waits for a thread is closed by the send timeout; the thread that takes it later only closes it', async () => {
    const counters = await withServer('fanout', { maxThreads: 1, sendTimeoutMs: 300 }, async (port, server) => {
      const fast = await connect(port);
      const slow = await connect(port);
      try {
        slow.pause();
        const r0 = readBytes(fast, 'size 1\n'.length, 30_000);
        fast.write('size?\n');
        await r0;
        assert.ok(await until(() => server.counters()['accepted'] === 2, 10_000), `slow should be accepted: ${JSON.stringify(server.counters())}`);
        const r1 = readBytes(fast, 'size 2\n'.length, 30_000);
        fast.write('size?\n');
        assert.equal((await r1).toString(), 'size 2\n', 'the queued connection should be a Hub member');
        const line = Buffer.alloc(64 * 1024, 0x62);
        line[line.length - 1] = 0x0a;
        const LINES = 300; // ~19 MiB: more than any loopback socket buffers hold
        const got = readBytes(fast, LINES * line.length, 60_000);
        for (let k = 0; k < LINES; k++) fast.write(line);
        assert.equal((await got).length, LINES * line.length, 'the sender should receive all its own lines');
        const r2 = readBytes(fast, 'size 1\n'.length, 30_000);
        fast.write('size?\n');
        assert.equal((await r2).toString(), 'size 1\n', 'the stuck connection should have left the Hub');
        assert.equal(server.counters()['closed: send timeout'], 1, `one send timeout: ${JSON.stringify(server.counters())}`);
        fast.end();
        // The freed thread takes the doomed connection, finds it shut down and closes it.
        await closedByPeer(slow, 30_000);
        assert.ok(await until(() => server.counters()['closed'] === 2, 10_000), `both connections should be closed by their thread: ${JSON.stringify(server.counters())}`);
      } finally {
        slow.destroy();
        fast.destroy();
      }
    });
    assert.equal(counters['pool: served'], 2, `the thread should have taken both connections: ${JSON.stringify(counters)}`);
    assert.equal(counters['pool: never served'] ?? 0, 0, `none should be left for the main thread: ${JSON.stringify(counters)}`);
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


describe('blocking: prestarted threads', () => {
  /** Generous: the suite must pass with another process hogging a core. */
  const LOAD_MS = 60_000;

  /**
   * This process's thread count once the threads of earlier tests' servers
   * have exited (close() stops waiting for an acceptor after a moment): a
   * baseline they cannot lower later.
   */
  async function settledThreads(): Promise<number> {
    let last = threadsOf(process.pid);
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const now = threadsOf(process.pid);
      if (now === last) return now;
      last = now;
    }
    return last;
  }

  function prestarted(prestart: number, extra: Record<string, number>): StrategyServer {
    return createBlockingServer(protocolSpec('echo', {}), { ...DEFAULT_STRATEGY_OPTIONS, prestart, extra: { prestartTimeoutMs: LOAD_MS, ...extra } });
  }

  /** close() within 2 s, as `serve` needs (it exits at 1.5 s regardless). */
  async function closeBounded(server: StrategyServer): Promise<void> {
    const t0 = performance.now();
    await server.close();
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `close() with prestarted threads should take < 2 s, took ${Math.round(ms)} ms`);
  }

  /**
   * Listen on a prestarted(prestart, extra) server and run `body`; after it,
   * whatever it threw, destroy the connections it kept in `socks` and close
   * the server within the bound.
   */
  async function servePrestarted(prestart: number, extra: Record<string, number>, body: (server: StrategyServer, port: number, socks: net.Socket[]) => Promise<void>): Promise<void> {
    const server = prestarted(prestart, extra);
    const { port } = await server.listen('127.0.0.1', 0);
    const socks: net.Socket[] = [];
    try {
      await body(server, port, socks);
    } finally {
      for (const s of socks) s.destroy();
      await closeBounded(server);
    }
  }

  /** Open `n` connections at once and echo on all of them together. */
  async function echoAll(port: number, n: number): Promise<net.Socket[]> {
    const socks = await Promise.all(Array.from({ length: n }, () => connect(port)));
    await Promise.all(socks.map((s, i) => roundTrip(s, i + 1)));
    return socks;
  }

  test('listen() resolves with N threads loaded; N connections are all served at once, on those threads', { skip: linux ? false : 'reads /proc' }, async () => {
    const N = 8;
    const before = await settledThreads();
    await servePrestarted(N, { maxThreads: 16 }, async (server, port, socks) => {
      const started = threadsOf(process.pid);
      const su = server.startup?.();
      assert.equal(su?.threads, N, `startup() should report ${N} threads started, got ${JSON.stringify(su)}`);
      assert.ok((su?.ms ?? 0) > 0, `startup() should report the phase's wall time, got ${JSON.stringify(su)}`);
      let c = server.counters();
      assert.equal(c['startup: threads not ready'], 0, `every prestarted thread should be loaded when listen() resolves: ${JSON.stringify(c)}`);
      assert.equal(c['pool: threads started peak'], N, `piscina should hold exactly the ${N} prestarted threads: ${JSON.stringify(c)}`);
      // The N pool threads are really there (and the acceptor).
      assert.ok(started >= before + N, `expected >= ${before + N} threads after listen() (had ${before}), got ${started}`);
      assert.equal(server.serving?.(), 0, 'no connection is served before any arrives');

      socks.push(...(await echoAll(port, N)));
      assert.equal(server.serving?.(), N, `all ${N} connections should hold a thread at once`);
      c = server.counters();
      assert.equal(c['pool: threads started peak'], N, `no thread should start for connections the prestarted threads take: ${JSON.stringify(c)}`);
      assert.equal(c['pool: threads peak'], N, `all ${N} served together: ${JSON.stringify(c)}`);
      assert.equal(c['pool: never served'] ?? 0, 0, `none unserved: ${JSON.stringify(c)}`);
      assert.equal(c['starved: waited > 1 s for a thread'] ?? 0, 0, `none starved: ${JSON.stringify(c)}`);
      assert.equal(c['startup: threads'], N, `the stats line shows the start-up: ${JSON.stringify(c)}`);
      assert.ok((c['startup: ms'] ?? -1) >= 0, `the stats line shows the start-up's ms: ${JSON.stringify(c)}`);

      // A connection ends: its thread is free and serves the next at once.
      socks.shift()?.destroy();
      assert.ok(await until(() => server.serving?.() === N - 1, 10_000), `serving() should drop to ${N - 1} when a connection ends, got ${server.serving?.()}`);
      socks.push(...(await echoAll(port, 1)));
      assert.equal(server.counters()['pool: threads started peak'], N, 'the freed prestarted thread took the new connection');
    });
  });

  test('prestarted threads outlive the idle timeout: they stay for the cell', async () => {
    const N = 4;
    // Threads beyond minThreads exit 30 ms after going idle; the prestarted ones must not.
    await servePrestarted(N, { maxThreads: 8, idleTimeoutMs: 30 }, async (server, port, socks) => {
      await new Promise((r) => setTimeout(r, 500));
      let c = server.counters();
      assert.equal(c['pool: threads exited'], 0, `no prestarted thread should exit while idle: ${JSON.stringify(c)}`);
      socks.push(...(await echoAll(port, N)));
      c = server.counters();
      assert.equal(c['pool: threads started peak'], N, `the ${N} connections should run on the prestarted threads: ${JSON.stringify(c)}`);
      assert.equal(c['pool: threads exited'], 0, `and none exited meanwhile: ${JSON.stringify(c)}`);
    });
  });

  test('prestart above max-threads starts max-threads', async () => {
    const server = prestarted(6, { maxThreads: 3 });
    await server.listen('127.0.0.1', 0);
    try {
      assert.equal(server.startup?.().threads, 3, 'startup() should report the 3 threads the cap allows');
      const c = server.counters();
      assert.equal(c['pool: threads started peak'], 3, `piscina should hold 3 threads, not 6: ${JSON.stringify(c)}`);
      assert.equal(c['startup: threads not ready'], 0, `all 3 loaded: ${JSON.stringify(c)}`);
    } finally {
      await closeBounded(server);
    }
  });

  test('prestart 0: no start-up phase, a connection still gets its thread on demand', async () => {
    await servePrestarted(0, {}, async (server, port, socks) => {
      assert.deepEqual(server.startup?.(), { ms: 0, threads: 0 }, 'no threads prestarted');
      socks.push(...(await echoAll(port, 2)));
      assert.equal(server.serving?.(), 2, 'both connections hold a thread');
      const c = server.counters();
      assert.equal(c['startup: threads'], 0, `startup: threads is 0: ${JSON.stringify(c)}`);
      assert.equal(c['pool: served'], 2, `both served: ${JSON.stringify(c)}`);
    });
  });

  test('threads not loaded by the deadline are counted; listen() resolves anyway and they serve once loaded', async () => {
    const N = 4;
    await servePrestarted(N, { maxThreads: 8, prestartTimeoutMs: 1 }, async (server, port, socks) => {
      const c = server.counters();
      // No worker_thread starts, let alone loads koffi, within 1 ms.
      assert.ok((c['startup: threads not ready'] ?? 0) >= 1, `expected threads not ready at a 1 ms deadline: ${JSON.stringify(c)}`);
      assert.equal(c['startup: threads'], N, `all ${N} were started: ${JSON.stringify(c)}`);
      socks.push(...(await echoAll(port, N)));
      assert.equal(server.serving?.(), N, `all ${N} connections served once the threads loaded`);
    });
  });

  // close() at three points of listen(): before its socket exists, while threads start, and once listening.
  for (const { name, afterMs } of [
    { name: 'at once', afterMs: -1 },
    { name: 'in the middle of the prestart', afterMs: 0 },
    { name: 'once threads load', afterMs: 150 },
  ]) {
    test(`close() ${name} is bounded, listen() settles, and no thread is left behind`, { skip: linux ? false : 'reads /proc' }, async () => {
      const before = await settledThreads();
      const server = prestarted(8, { maxThreads: 16 });
      const listening = server.listen('127.0.0.1', 0).then(
        () => 'resolved',
        () => 'rejected',
      );
      if (afterMs >= 0) await new Promise((r) => setTimeout(r, afterMs));
      await closeBounded(server);
      const outcome = await Promise.race([listening, new Promise((r) => setTimeout(() => r('pending'), 10_000))]);
      assert.notEqual(outcome, 'pending', 'listen() should settle once close() has run');
      // Closed before its socket existed, a server must not start its acceptor and pool afterwards.
      if (afterMs < 0) assert.equal(outcome, 'rejected', 'listen() after close() has begun rejects');
      // A thread left in accept(2) or in the pool would keep the process alive after the suite.
      assert.ok(await until(() => threadsOf(process.pid) <= before, 10_000), `threads should fall back to ${before}, have ${threadsOf(process.pid)}`);
    });
  }
});
