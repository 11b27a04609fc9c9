/**
 * The load side's measurement rules: the open-loop schedule dealt out over
 * load threads adds up to exactly the asked rate (and no thread's share is
 * rounded away, wrk2's bug); latency counts from the intended send time, so
 * a stalled load thread shows in p99; per-thread results merge into one
 * (histograms merged, never averaged); and the client-bound rule, per the
 * cores the load was given, on both sides of its threshold.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { decodeHistogram, encodeHistogram, FastHistogram, mergeEncoded, newHistogram, recordUs } from '../core/latency.js';
import type { DriverOptions } from '../harness/load/driver.js';
import { runDriver } from '../harness/load/drivers.js';
import { rateShare, shareOf } from '../harness/load/load-threads.js';
import { OpenLoopSchedule } from '../harness/load/schedule.js';
import { CLIENT_BOUND_PERCENT, isClientBound } from '../harness/runner.js';
import { driverOptions } from './helpers/driver.js';
import { echoServer, testServers } from './helpers/servers.js';

describe('the open-loop schedule over threads', () => {
  /** Intended times of every op due in [0, ms) on thread k of T. */
  function times(rate: number, k: number, T: number, ms: number): number[] {
    const s = new OpenLoopSchedule(rate, 0, k, T);
    const out: number[] = [];
    s.run(ms - 1e-9, (t) => (out.push(t), true), () => undefined);
    return out;
  }

  for (const [rate, T] of [
    [3, 4],
    [1000, 3],
    [7, 2],
  ] as const) {
    test(`rate ${rate} over ${T} threads is the one-thread schedule, dealt out`, () => {
      const one = times(rate, 0, 1, 10_000);
      const all = Array.from({ length: T }, (_, k) => times(rate, k, T, 10_000))
        .flat()
        .sort((a, b) => a - b);
      assert.deepEqual(all, one, 'the union of the threads\' ops is exactly the single schedule');
      assert.equal(one.length, rate * 10, `${rate} ops/s for 10 s`);
    });
  }

  test('a rate below the thread count leaves no thread unpaced: each still issues on the grid', () => {
    // wrk2 rounded rate/threads down to 0 and ran those threads unpaced.
    const counts = Array.from({ length: 4 }, (_, k) => times(3, k, 4, 40_000).length);
    assert.deepEqual(counts, [30, 30, 30, 30], 'each of 4 threads issues 0.75 ops/s, together exactly 3');
  });

  test('a thread that starts late joins the grid instead of bursting', () => {
    const s = new OpenLoopSchedule(10, 0, 1, 2);
    s.skipBefore(1000);
    assert.equal(s.nextDue(), 1100, 'thread 1 of 2 at 10 ops/s: its ops are the odd ones, the first not yet past is op 11');
  });

  test('a generator paced per thread (autocannon) gets whole shares that add up to the rate, none of them 0', () => {
    for (const [rate, T] of [
      [3, 3],
      [7, 2],
      [1000, 3],
      [5, 4],
    ] as const) {
      const shares = Array.from({ length: T }, (_, k) => rateShare(k, T, rate));
      assert.equal(
        shares.reduce((a, b) => a + b, 0),
        rate,
        `rate ${rate} over ${T}: ${shares.join('+')}`,
      );
      assert.ok(
        shares.every((x) => x >= 1 && Number.isInteger(x)),
        `rate ${rate} over ${T}: every share a whole op/s (0 would run unpaced): ${shares.join(', ')}`,
      );
    }
  });

  test('connections are shared out to within one', () => {
    const shares = Array.from({ length: 3 }, (_, k) => shareOf(k, 3, 10));
    assert.deepEqual(shares, [{ first: 0, count: 3 }, { first: 3, count: 3 }, { first: 6, count: 4 }]);
  });
});

describe('latency histograms are exact', () => {
  // Latencies from 1 µs to past the fast path's array (65,536 µs) and the HDR range, fractions included.
  const samples: number[] = [];
  let x = 12345;
  for (let i = 0; i < 20_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    samples.push(i % 97 === 0 ? 70_000 + (x % 5_000_000) : (x % 3_000_000) / 37);
  }
  samples.push(0.2, 65_535.4, 65_535.6, 65_536, 1e12);

  test("the load recorder's histogram equals recording every value in the HDR histogram", () => {
    const slow = newHistogram();
    const fast = new FastHistogram();
    for (const us of samples) {
      recordUs(slow, us);
      fast.recordUs(us);
    }
    assert.equal(encodeHistogram(fast.histogram()), encodeHistogram(slow));
    // Reading it is not the end: later values count too.
    fast.recordUs(5);
    recordUs(slow, 5);
    assert.equal(encodeHistogram(fast.histogram()), encodeHistogram(slow));
  });

  test('merging per-thread histograms equals one histogram of every value (never an average)', () => {
    const parts = [new FastHistogram(), new FastHistogram(), new FastHistogram()];
    const all = newHistogram();
    samples.forEach((us, i) => {
      parts[i % 3]?.recordUs(us);
      recordUs(all, us);
    });
    const merged = mergeEncoded(parts.map((p) => encodeHistogram(p.histogram())));
    assert.equal(merged.totalCount, samples.length);
    for (const q of [50, 90, 99, 99.9, 100]) assert.equal(merged.getValueAtPercentile(q), all.getValueAtPercentile(q), `p${q}`);
    assert.equal(encodeHistogram(merged), encodeHistogram(all));
  });
});

describe('client-bound, per the cores the load was given', () => {
  test('one core: at the threshold bound, just below not', () => {
    assert.equal(isClientBound({ cpuPercent: CLIENT_BOUND_PERCENT - 0.5, cores: 1, threadPercents: [] }), false);
    assert.equal(isClientBound({ cpuPercent: CLIENT_BOUND_PERCENT, cores: 1, threadPercents: [] }), true);
  });
  test('two cores: the process must use 90% of both', () => {
    assert.equal(isClientBound({ cpuPercent: 2 * CLIENT_BOUND_PERCENT - 1, cores: 2, threadPercents: [89, 89] }), false);
    assert.equal(isClientBound({ cpuPercent: 2 * CLIENT_BOUND_PERCENT, cores: 2, threadPercents: [90, 90] }), true);
  });
  test('one saturated load thread is a ceiling even with cores to spare', () => {
    assert.equal(isClientBound({ cpuPercent: 100, cores: 2, threadPercents: [CLIENT_BOUND_PERCENT, 10] }), true);
    assert.equal(isClientBound({ cpuPercent: 100, cores: 2, threadPercents: [CLIENT_BOUND_PERCENT - 1, 10] }), false);
  });
});

describe('load threads end to end (echo)', () => {
  const { listen } = testServers();
  let port = 0;
  before(async () => {
    port = await listen(echoServer({ noDelay: true }));
  });
  const opts = (o: Partial<DriverOptions>): DriverOptions => driverOptions(port, { connections: 10, warmupSec: 0.2, timeoutMs: 5000, connectTimeoutMs: 10_000, protocol: { messageSize: 64 }, ...o });

  test('two threads: each owns its share, results merge (counts summed, histograms merged)', async () => {
    const r = await runDriver('echo', opts({ loadThreads: 2 }));
    assert.deepEqual(r.errors, {}, `no errors: ${JSON.stringify(r.errors)}`);
    assert.equal(r.established, 10, 'every connection of both threads');
    assert.deepEqual(
      r.threads?.map((t) => t.connections),
      [5, 5],
      'each thread owned half the connections',
    );
    assert.ok(r.ops > 0, 'ops were verified');
    assert.equal(decodeHistogram(r.histogram).totalCount, r.ops, 'the merged histogram holds every op of every thread');
  });

  test('--rate 3 over 4 threads achieves 3 ops/s', async () => {
    const r = await runDriver('echo', opts({ loadThreads: 4, rate: 3, connections: 8, warmupSec: 0.3, durationSec: 4 }));
    assert.deepEqual(r.errors, {}, JSON.stringify(r.errors));
    assert.equal(r.targetRate, 3);
    assert.ok(r.ops >= 11 && r.ops <= 13, `3 ops/s for 4 s is 12 ops (±1 at the window's edges), got ${r.ops}`);
  });

  test('open loop: a stalled load thread shows in p99, because latency counts from the intended send time', async () => {
    // 200 ms of busy-wait in the load thread itself (worker mode, the
    // default), 300 ms into a 1 s window at 1000 ops/s: ops due during the
    // stall leave late. Timed from the actual send they would look fast.
    const r = await runDriver('echo', opts({ rate: 1000, warmupSec: 0.2, durationSec: 1, stall: { afterMs: 300, forMs: 200 } }));
    assert.deepEqual(r.errors, {}, JSON.stringify(r.errors));
    const p99 = decodeHistogram(r.histogram).getValueAtPercentile(99);
    assert.ok(p99 >= 100_000, `p99 shows the 200 ms stall: ${p99} µs`);
  });
});
