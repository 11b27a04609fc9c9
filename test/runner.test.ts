/** The runner end to end (libuv × echo), and its deadlines. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { runCell } from '../harness/runner.js';
import { stopChild } from '../harness/spawn.js';
import { decodeHistogram } from '../core/latency.js';
import { testPlan } from './helpers/fixtures.js';

const plan = testPlan({ maxServerRssBytes: 8 * 2 ** 30 });

test('a libuv × echo cell measures ops, latency, server and client CPU', async () => {
  const cell = await runCell({ strategy: 'libuv', workload: 'echo', connections: 10, idle: 0, rep: 0, plan, host: '127.0.0.1' });
  assert.equal(cell.status, 'ok', `cell failed: ${cell.reason ?? ''}`);
  assert.equal(cell.established, 10, 'all 10 connections established');
  assert.ok(cell.ops > 0 && cell.opsPerSec > 0, `expected throughput, got ${cell.opsPerSec}`);
  const expectBps = (cell.ops * 128) / cell.windowSec;
  assert.ok(Math.abs(cell.bytesPerSec - expectBps) / expectBps < 0.01, `bytes/s counts 64 B each way per op: ${cell.bytesPerSec} vs ${expectBps}`);
  assert.equal(decodeHistogram(cell.latencyUs.histogram).totalCount, cell.ops, 'one histogram sample per verified op');
  assert.ok(cell.latencyUs.p50 > 0 && cell.latencyUs.p50 <= cell.latencyUs.p99, 'p50 ≤ p99, both positive');
  assert.ok(cell.server.cpuSeconds > 0, 'server CPU sampled from /proc');
  assert.ok(cell.server.peakRssBytes > 10 * 1024 * 1024, 'server RSS sampled');
  assert.ok(cell.server.peakFds >= 10, `server held ≥ 10 fds for 10 connections, saw ${cell.server.peakFds}`);
  assert.ok(cell.client.cpuPercent > 0, 'load child CPU sampled');
  assert.ok((cell.server.counters['accepted'] ?? 0) >= 10, `server stats line read back: ${JSON.stringify(cell.server.counters)}`);
  assert.equal(cell.server.killed, false, 'libuv stops on SIGTERM');
});

test('a cell against a strategy that cannot start is recorded as failed with the reason', async () => {
  const cell = await runCell({ strategy: 'no-such', workload: 'echo', connections: 1, idle: 0, rep: 0, plan, host: '127.0.0.1' });
  assert.equal(cell.status, 'failed');
  assert.match(cell.reason ?? '', /^server could not start: unknown strategy "no-such"/);
});

test('stopChild kills a process that ignores SIGTERM, and says so', async () => {
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((r) => child.stdout.once('data', r));
  const t0 = performance.now();
  const killed = await stopChild(child, 500);
  const ms = performance.now() - t0;
  assert.equal(killed, true, 'SIGKILL was needed');
  assert.equal(child.signalCode, 'SIGKILL', 'the child died of SIGKILL');
  assert.ok(ms >= 450 && ms < 3000, `grace respected, then killed promptly (${Math.round(ms)} ms)`);
});

test('stopChild on a well-behaved process needs no SIGKILL', async () => {
  const child = spawn(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => child.stdout.once('data', r));
  assert.equal(await stopChild(child, 5000), false, 'SIGTERM was enough');
  assert.equal(child.signalCode, 'SIGTERM');
});
