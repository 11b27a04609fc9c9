/**
 * Our native HTTP driver and autocannon must measure the same server alike:
 * libuv × http with --work-us 1000 (≤ 1k req/s, far slower than either
 * driver), both closed loop at 10 connections, within 15% of each other.
 * The server is that slow so the drivers' own CPU, which differs (autocannon
 * spends more per request), stays too small to take the server's share of a
 * core on a loaded machine: at 5k req/s a CPU hog beside it skewed the ratio.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DriverOptions } from '../../harness/load/driver.js';
import { startServe, type ServedProcess } from '../helpers/serve.js';
import { runDriver } from '../../harness/load/drivers.js';
import { DEFAULT_TRANSPORT } from '../helpers/transports.js';

let served: ServedProcess | undefined;
before(async () => {
  served = await startServe('libuv', 'http', ['--work-us', '1000']);
});
after(async () => {
  await served?.stop();
});

test('native and autocannon agree within 15% on a server slower than both', async () => {
  const base: DriverOptions = {
    host: '127.0.0.1',
    port: served?.port ?? 0,
    connections: 10,
    warmupSec: 0.3,
    durationSec: 1,
    timeoutMs: 5000,
    connectConcurrency: 10,
    connectTimeoutMs: 5000,
    protocol: {},
  };
  // Alternate short runs, so drift on a shared machine hits both alike.
  const rate = { native: { ops: 0, sec: 0 }, autocannon: { ops: 0, sec: 0 } };
  for (let round = 0; round < 3; round++) {
    for (const which of ['native', 'autocannon'] as const) {
      const r = await runDriver('http', { ...base, httpDriver: which });
      // Our native driver runs on the Selector layer by default ("selector:epoll" …).
      if (which === 'native') assert.match(r.driver ?? '', DEFAULT_TRANSPORT, `the default transport ran, got ${r.driver}`);
      else assert.equal(r.driver, which, `expected the ${which} driver to run`);
      assert.deepEqual(r.errors, {}, `${which}: expected no errors`);
      rate[which].ops += r.ops;
      rate[which].sec += r.windowSec;
    }
  }
  const a = rate.native.ops / rate.native.sec;
  const b = rate.autocannon.ops / rate.autocannon.sec;
  // The server caps both: at most 1e6/1000 = 1000 req/s on one core.
  assert.ok(a <= 1040 && b <= 1040, `both rates must be server-bound (≤ 1.04k/s): native ${a.toFixed(0)}, autocannon ${b.toFixed(0)}`);
  const ratio = a / b;
  assert.ok(ratio > 0.85 && ratio < 1 / 0.85, `native ${a.toFixed(0)} req/s vs autocannon ${b.toFixed(0)} req/s: ratio ${ratio.toFixed(3)} outside 15%`);
});

test('autocannon runs over the load threads: connections and rate shared out, results merged', async () => {
  const base: DriverOptions = {
    host: '127.0.0.1',
    port: served?.port ?? 0,
    connections: 10,
    warmupSec: 0.2,
    durationSec: 1,
    timeoutMs: 5000,
    connectConcurrency: 10,
    connectTimeoutMs: 5000,
    protocol: {},
    httpDriver: 'autocannon',
    loadThreads: 2,
  };
  const closed = await runDriver('http', base);
  assert.equal(closed.driver, 'autocannon');
  assert.deepEqual(closed.errors, {}, 'closed loop: no errors');
  assert.deepEqual(
    closed.threads?.map((t) => t.connections),
    [5, 5],
    'two threads, five connections each',
  );
  assert.equal(closed.established, 10);
  assert.ok(closed.ops > 0, `requests verified, got ${closed.ops}`);

  // 3 req/s asked of 4 threads: 3 threads of 1 req/s each (a share of 0
  // would be an unpaced thread), and autocannon opens one connection per
  // req/s, so 3 of the 10 are used, and said so.
  const sec = 3;
  const open = await runDriver('http', { ...base, loadThreads: 4, rate: 3, durationSec: sec });
  assert.deepEqual(open.errors, {}, 'open loop: no errors');
  assert.equal(open.threads?.length, 3, 'no more threads than whole requests per second');
  assert.equal(open.established, 3, 'autocannon opens one connection per request per second: 3, not the 10 asked');
  assert.equal(open.targetRate, 3);
  // Paced: an unpaced thread on this server would do hundreds per second.
  assert.ok(open.ops >= 3 * (sec - 1) && open.ops <= 3 * (sec + 1), `about 3 req/s over ${sec} s, got ${open.ops}`);
});
