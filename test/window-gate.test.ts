/**
 * The measured window opens when the load child's gate says, on every
 * driver: before the gate opens, load runs but nothing is recorded; after,
 * the window lasts exactly --duration. This is what lets the harness hold
 * the warm-up until a server serves every connection.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { DriverOptions, DriverPhase, DriverResult } from '../harness/load/driver.js';
import { LoadWindow } from '../harness/load/window.js';
import { WindowGate } from '../harness/load/window-gate.js';
import { runDriver } from '../harness/load/drivers.js';
import { TRANSPORTS } from './helpers/transports.js';
import { driverOptions } from './helpers/driver.js';
import { echoServer, testServers } from './helpers/servers.js';

describe('WindowGate', () => {
  test('closed until opened; the first opening wins', () => {
    const g = new WindowGate();
    assert.ok(Number.isNaN(g.opensAt()), 'a new gate is closed');
    g.open(1_700_000_000_123.5);
    g.open(1_800_000_000_000);
    assert.equal(g.opensAt(), 1_700_000_000_123.5, 'the first opening time stands (µs precision)');
    assert.ok(Math.abs(g.opensAtLocal() - (1_700_000_000_123.5 - performance.timeOrigin)) < 1e-6, 'the local view is epoch minus this thread\'s time origin');
  });

  test('another thread sees the opening through the shared memory', async () => {
    const g = new WindowGate();
    const w = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const cell = new BigInt64Array(workerData, 0, 1);
       const t = setInterval(() => { const v = Atomics.load(cell, 0); if (v !== 0n) { clearInterval(t); parentPort.postMessage(Number(v) / 1000); } }, 2);`,
      { eval: true, workerData: g.sab },
    );
    const seen = new Promise<number>((resolve) => w.once('message', resolve));
    g.open(1_234_567.25);
    assert.equal(await seen, 1_234_567.25, 'the worker read the same opening time');
    await w.terminate();
  });
});

describe('LoadWindow with a gate', () => {
  test('no measuring phase before the gate; the window then lasts durationSec', () => {
    const g = new WindowGate();
    const phases: [DriverPhase, number][] = [];
    const w = new LoadWindow({ warmupSec: 0, durationSec: 0.1, gate: g.sab }, (p, at) => phases.push([p, at]));
    const t0 = performance.now();
    w.connected(t0);
    // Long after any warm-up of 0 s, a closed gate keeps the window shut.
    w.tick(t0 + 500);
    assert.deepEqual(
      phases.map(([p]) => p),
      ['connected'],
      'with warmupSec 0 and a closed gate, the window has not opened',
    );
    assert.equal(w.inWindow(t0 + 500), false, 'nothing is in the window yet');
    const opensAt = performance.timeOrigin + t0 + 600;
    g.open(opensAt);
    w.tick(t0 + 550);
    assert.equal(w.phase, 'connected', 'the gate opens in the future: not yet');
    w.tick(t0 + 600);
    w.tick(t0 + 701);
    const measuring = phases.find(([p]) => p === 'measuring')?.[1] ?? Number.NaN;
    const draining = phases.find(([p]) => p === 'draining')?.[1] ?? Number.NaN;
    assert.ok(Math.abs(measuring - opensAt) < 0.01, `the window opens at the gate's time (${measuring} vs ${opensAt})`);
    assert.ok(Math.abs(draining - measuring - 100) < 0.01, `the window lasts durationSec: ${draining - measuring} ms`);
    assert.equal(w.inWindow(t0 + 650), true);
    assert.equal(w.inWindow(t0 + 701), false, 'the end is outside');
  });
});

describe('echo drivers honour the gate', () => {
  const { listen } = testServers();
  let port = 0;
  before(async () => {
    port = await listen(echoServer());
  });

  for (const { name, skip } of TRANSPORTS) {
    const run = (o: DriverOptions): Promise<DriverResult> => runDriver('echo', { ...o, tcpDriver: name });
    test(`${name}: load before the gate is warm-up, the window starts at the gate`, { skip }, async () => {
      const g = new WindowGate();
      const phases = new Map<DriverPhase, number>();
      let opensAt = Number.NaN;
      const result = await run({
        ...driverOptions(port, { warmupSec: 0, durationSec: 0.3, timeoutMs: 5000, connectConcurrency: 4, connectTimeoutMs: 10_000 }),
        gate: g.sab,
        onPhase: (p, at) => {
          phases.set(p, at);
          // Open the gate well after connecting: a driver that ignored it would have measured already.
          if (p === 'connected') {
            setTimeout(() => {
              opensAt = performance.timeOrigin + performance.now() + 20;
              g.open(opensAt);
            }, 400);
          }
        },
      });
      const connected = phases.get('connected') ?? Number.NaN;
      const measuring = phases.get('measuring') ?? Number.NaN;
      assert.ok(measuring - connected >= 400, `the window waited for the gate (${Math.round(measuring - connected)} ms after connecting)`);
      assert.ok(measuring >= opensAt - 0.001, 'and opened no earlier than the gate said');
      assert.ok(Math.abs((phases.get('draining') ?? 0) - measuring - 300) < 0.01, 'then lasted durationSec');
      assert.equal(result.established, 4, 'connections are counted as the window opens');
      assert.ok(result.ops > 0, 'ops were recorded in the window');
    });
  }
});
