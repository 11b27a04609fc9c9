/**
 * Idle connections as a sweep dimension, end to end through the runner:
 * they are established before the warm-up and stay open through the window
 * (echo: connected; http: one request answered, then keep-alive), the server
 * really holds them, and a server that refuses or closes them caps the cell.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCell } from '../harness/runner.js';
import { testPlan } from './helpers/fixtures.js';

const IDLE = 200;

describe('idle connections beside the active ones', () => {
  for (const workload of ['echo', 'http'] as const) {
    test(`${workload}: every idle connection is established before the window and still open at its end`, async () => {
      // A keep-alive timeout far shorter than the cell: the runner must
      // stretch it, or the http server would close the idle connections.
      const plan = testPlan({ workloads: [workload], protocol: workload === 'http' ? { idleTimeoutMs: 200 } : { messageSize: 64 }, warmupSec: 0.3, durationSec: 0.7 });
      const cell = await runCell({ strategy: 'libuv', workload, connections: 4, idle: IDLE, rep: 0, plan, host: '127.0.0.1' });
      assert.equal(cell.status, 'ok', `cell ${cell.status}: ${cell.reason ?? ''}`);
      assert.equal(cell.idle, IDLE, 'the cell records the idle count it asked for');
      assert.equal(cell.idleEstablished, IDLE, 'every idle connection was established');
      assert.equal(cell.idleOpen, IDLE, 'and every one was still open when the window closed');
      assert.equal(cell.established, 4, 'the active connections are counted apart');
      assert.ok(cell.ops > 0, 'the active ones did the work');
      assert.ok(cell.server.peakFds >= IDLE + 4, `the server held idle + active sockets: peak fds ${cell.server.peakFds}`);
      assert.ok((cell.server.counters['accepted'] ?? 0) >= IDLE + 4, `the server accepted them all: ${JSON.stringify(cell.server.counters)}`);
    });
  }

  test('select: idle connections past FD_SETSIZE are refused and the cell is capped, never ok', async () => {
    const plan = testPlan({ strategies: ['select'], warmupSec: 0.2, durationSec: 0.5 });
    const cell = await runCell({ strategy: 'select', workload: 'echo', connections: 2, idle: 1100, rep: 0, plan, host: '127.0.0.1' });
    assert.equal(cell.status, 'capped', `expected capped, got ${cell.status}: ${cell.reason ?? ''}`);
    assert.match(cell.reason ?? '', /refused: FD_SETSIZE ×\d+/, 'the reason names FD_SETSIZE');
    assert.match(cell.reason ?? '', /idle: \d+ of 1100 still open when the window closed/, 'and counts the idle connections left');
    assert.ok((cell.idleOpen ?? 1100) < 1100 && (cell.idleOpen ?? 0) > 900, `about FD_SETSIZE of them stayed: ${cell.idleOpen ?? -1}`);
  });

  test('blocking: idle connections fill the pool; the active ones wait, and the cell is capped by the pool', async () => {
    const plan = testPlan({ strategies: ['blocking'], warmupSec: 0.2, durationSec: 0.5 });
    const cell = await runCell({
      strategy: 'blocking',
      workload: 'echo',
      connections: 2,
      idle: 8,
      rep: 0,
      plan,
      host: '127.0.0.1',
      strategyExtra: { maxThreads: 4, maxQueue: 2 },
    });
    assert.equal(cell.status, 'capped', `expected capped, got ${cell.status}: ${cell.reason ?? ''}`);
    assert.match(cell.reason ?? '', /refused: thread pool full ×\d+|starved/, `the pool is named: ${cell.reason ?? ''}`);
  });
});
