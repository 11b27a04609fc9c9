/**
 * Thread-per-connection measured in its steady state, not its start-up:
 * the pool starts a thread for every active connection before the load,
 * the warm-up is held until each connection holds one, and what that cost
 * is reported as a figure of its own. Without the prestart or the hold, the
 * short default warm-up ends with most connections still waiting for a
 * thread, and the cell measures thread start-up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCell } from '../../harness/runner.js';
import { testPlan } from '../helpers/fixtures.js';

test('blocking × echo × 100 at the default bench warm-up: every connection is served in the window', async () => {
  const plan = testPlan({ strategies: ['blocking'], warmupSec: 0.25, durationSec: 1, maxServerRssBytes: 8 * 2 ** 30 });
  const cell = await runCell({ strategy: 'blocking', workload: 'echo', connections: 100, idle: 0, rep: 0, plan, host: '127.0.0.1' });
  assert.equal(cell.status, 'ok', `expected ok, got ${cell.status}: ${cell.reason ?? ''}`);
  assert.equal(cell.established, 100, 'all 100 connections established');
  const c = cell.server.counters;
  assert.equal(c['pool: never served'] ?? 0, 0, `no connection left without a thread: ${JSON.stringify(c)}`);
  assert.ok((c['pool: served'] ?? 0) >= 100, `a thread took each of the 100: ${JSON.stringify(c)}`);
  const s = cell.server.startup;
  assert.ok(s !== undefined, 'the start-up phase is reported');
  assert.equal(s.threads, 100, 'one prestarted thread per active connection');
  assert.ok(s.ms > 0, `its cost is measured (${s.ms} ms)`);
  assert.ok(s.warmupHeldMs >= 0, 'and how long the warm-up was held for it');
});
