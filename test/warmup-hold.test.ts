/**
 * The warm-up hold: the window opens only once the server serves every
 * connection (a thread-per-connection pool has a thread for each), and
 * gives up, capping the cell, when the count stops growing or the server
 * starts refusing. The load child keeps warming up until it is told to
 * measure.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { LoadMessage, LoadRequest } from '../harness/load/load-child.js';
import type { Cap } from '../core/counters.js';
import { DEADLINES, holdForServer } from '../harness/runner.js';

/** A poll that answers with the next of `serving` (the last repeats). */
function polls(serving: number[], caps: Cap[] = []): { poll: () => Promise<{ serving: number; caps: Cap[] }>; count: () => number } {
  let i = 0;
  return {
    poll: () => Promise.resolve({ serving: serving[Math.min(i++, serving.length - 1)] ?? 0, caps }),
    count: () => i,
  };
}

describe('holdForServer', () => {
  test('waits until every connection is served, then opens with no cap', async () => {
    const p = polls([3, 40, 99, 100]);
    const r = await holdForServer(p.poll, 100);
    assert.equal(r.short, undefined, 'no cap when the server got there');
    assert.equal(p.count(), 4, 'it polled until serving reached 100, not once');
  });

  test('a count that stops growing gives up and caps the cell, naming how many were served', async () => {
    const p = polls([5, 8, 8]);
    const r = await holdForServer(p.poll, 10);
    assert.match(r.short ?? '', /^starved: 8 of 10 connections were being served/);
    assert.ok(r.heldMs >= DEADLINES.holdStall - 50, `it waited the stall time first (${Math.round(r.heldMs)} ms)`);
  });

  test('a refusal already counted ends the hold at once', async () => {
    const p = polls([4], [{ counter: 'refused: thread pool full', kind: 'refused', count: 3 }]);
    const r = await holdForServer(p.poll, 10);
    assert.match(r.short ?? '', /began refusing/);
    assert.equal(p.count(), 1);
  });

  test('a server that does not answer is a cap with its own reason', async () => {
    const r = await holdForServer(() => Promise.resolve(undefined), 10);
    assert.match(r.short ?? '', /did not answer/);
  });
});

test('the load child warms up until it is told to measure', async () => {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const child = fork(fileURLToPath(new URL('../harness/load/load-child.js', import.meta.url)), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const seen: { type: string; at: number; m: LoadMessage }[] = [];
  const HOLD_MS = 600;
  const done = new Promise<LoadMessage>((resolve) => {
    child.on('message', (m: LoadMessage) => {
      seen.push({ type: m.type === 'phase' ? m.phase : m.type, at: performance.now(), m });
      if (m.type === 'warmed') setTimeout(() => child.send({ type: 'measure' }), HOLD_MS);
      if (m.type === 'result' || m.type === 'error') resolve(m);
    });
  });
  const req: LoadRequest = {
    type: 'start',
    workload: 'echo',
    idle: 0,
    awaitMeasure: true,
    options: { host: '127.0.0.1', port, connections: 2, warmupSec: 0.1, durationSec: 0.3, timeoutMs: 5000, connectConcurrency: 2, connectTimeoutMs: 10_000, protocol: {} },
  };
  child.send(req);
  const last = await done;
  server.close();
  assert.equal(last.type, 'result', `the load child finished: ${JSON.stringify(last).slice(0, 200)}`);
  const at = (t: string): number => seen.find((s) => s.type === t)?.at ?? Number.NaN;
  assert.ok(at('measuring') - at('warmed') >= HOLD_MS - 20, `the window opened only after 'measure' (${Math.round(at('measuring') - at('warmed'))} ms after the warm-up ended)`);
  if (last.type === 'result') assert.ok(last.result.ops > 0, 'and it then measured');
});
