/** The runner end to end for the chat and http workloads on libuv. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCell } from '../harness/runner.js';
import type { Plan } from '../core/results.js';
import { decodeHistogram } from '../core/latency.js';
import { testPlan } from './helpers/fixtures.js';
import { DEFAULT_TRANSPORT } from './helpers/transports.js';

const plan = (workloads: string[], protocol: Plan['protocol'] = {}): Plan =>
  testPlan({ workloads, protocol: { messageSize: 64, ...protocol }, maxServerRssBytes: 8 * 2 ** 30 });

test('a libuv × chat cell: messages, deliveries to every client, delivery latency', async () => {
  const p = plan(['chat'], { chatSenders: 3 });
  const cell = await runCell({ strategy: 'libuv', workload: 'chat', connections: 10, idle: 0, rep: 0, plan: p, host: '127.0.0.1' });
  assert.equal(cell.status, 'ok', `cell failed: ${cell.reason ?? ''}`);
  assert.equal(cell.extra['senders'], 3, 'three senders, as asked');
  const deliveries = cell.extra['deliveries'] ?? 0;
  // Every message completed in the window reached all 10 clients (deliveries near the window edges may differ slightly).
  assert.ok(deliveries >= cell.ops * 10 * 0.9, `expected about 10 deliveries per message: ${deliveries} for ${cell.ops} messages`);
  assert.ok(Math.abs((cell.extra['deliveriesPerSec'] ?? 0) - deliveries / cell.windowSec) < 0.01 * (deliveries / cell.windowSec), 'deliveriesPerSec is over the timed window');
  assert.equal(decodeHistogram(cell.latencyUs.histogram).totalCount, cell.ops, 'one delivery-latency sample per message');
  assert.equal(cell.errors['lost'] ?? 0, 0, 'nothing lost');
});

test('a libuv × http cell names its driver and verifies every response', async () => {
  const cell = await runCell({ strategy: 'libuv', workload: 'http', connections: 10, idle: 0, rep: 0, plan: plan(['http'], { pipelining: 4 }), host: '127.0.0.1' });
  assert.equal(cell.status, 'ok', `cell failed: ${cell.reason ?? ''}`);
  assert.match(cell.client.driver, DEFAULT_TRANSPORT, `the default transport ran, got ${cell.client.driver}`);
  assert.equal(cell.extra['pipelining'], 4, 'pipelining depth recorded');
  assert.deepEqual(cell.errors, {}, 'no errors');
});
