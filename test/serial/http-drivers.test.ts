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
