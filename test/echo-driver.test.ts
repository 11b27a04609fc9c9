/** The echo driver verifies every byte: a corrupting server must be caught. */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, test } from 'node:test';
import { runEchoDriver } from '../workloads/echo/driver.js';
import { fillMessage, firstMismatch } from '../workloads/echo/message.js';
import type { DriverOptions } from '../workloads/driver.js';

function listen(handler: (s: net.Socket) => void): Promise<net.Server> {
  const srv = net.createServer((s) => {
    // The driver resets its connections at the end of the window.
    s.on('error', () => undefined);
    handler(s);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

function port(srv: net.Server): number {
  return (srv.address() as net.AddressInfo).port;
}

function opts(p: number, over: Partial<DriverOptions> = {}): DriverOptions {
  return {
    host: '127.0.0.1',
    port: p,
    connections: 8,
    warmupSec: 0.1,
    durationSec: 0.5,
    timeoutMs: 2000,
    connectConcurrency: 100,
    connectTimeoutMs: 5000,
    protocol: { messageSize: 64 },
    ...over,
  };
}

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

test('messages differ per connection and sequence, and a mismatch is located', () => {
  const a = new Uint8Array(64);
  const b = new Uint8Array(64);
  fillMessage(a, 1, 1);
  fillMessage(b, 1, 2);
  assert.notDeepEqual(a, b, 'two sequence numbers must give different bytes');
  fillMessage(b, 2, 1);
  assert.notDeepEqual(a, b, 'two connection ids must give different bytes');
  const c = a.slice();
  c[40] = (c[40] ?? 0) ^ 1;
  assert.equal(firstMismatch(a, 0, c), 40, 'the first differing byte is reported');
  assert.equal(firstMismatch(a, 10, a.subarray(10, 30)), -1, 'an exact slice at its offset matches');
  const tiny = new Uint8Array(1);
  fillMessage(tiny, 3, 4);
  assert.equal(tiny.length, 1, 'a 1-byte message is still filled without a header');
});

test('an honest echo server gives ops and no errors', async () => {
  const srv = await listen((s) => s.pipe(s));
  servers.push(srv);
  const r = await runEchoDriver(opts(port(srv)));
  assert.ok(r.ops > 100, `expected many verified round trips, got ${r.ops}`);
  assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
  assert.equal(r.established, 8, 'all 8 connections established');
});

test('a server that corrupts one byte in a thousand is caught as verify errors', async () => {
  let n = 0;
  const srv = await listen((s) =>
    s.on('data', (d: Buffer) => {
      const copy = Buffer.from(d);
      if (++n % 1000 === 0) copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x40;
      s.write(copy);
    }),
  );
  servers.push(srv);
  const r = await runEchoDriver(opts(port(srv)));
  assert.ok((r.errors['verify'] ?? 0) > 0, `expected verify errors, got ${JSON.stringify(r.errors)}`);
});

test('a server that swaps replies between connections is caught', async () => {
  const socks: net.Socket[] = [];
  const srv = await listen((s) => {
    socks.push(s);
    // Reply on the neighbouring connection: lengths match, ids do not.
    s.on('data', (d: Buffer) => {
      const i = socks.indexOf(s);
      const other = socks[(i + 1) % socks.length] ?? s;
      other.write(Buffer.from(d));
    });
  });
  servers.push(srv);
  const r = await runEchoDriver(opts(port(srv), { connections: 4, timeoutMs: 500 }));
  assert.ok((r.errors['verify'] ?? 0) > 0, `mis-routed echoes must fail verification, got ${JSON.stringify(r.errors)}`);
});

test('a server that never answers yields timeouts, not ops', async () => {
  const srv = await listen(() => undefined);
  servers.push(srv);
  const r = await runEchoDriver(opts(port(srv), { connections: 3, timeoutMs: 200, durationSec: 0.6 }));
  assert.equal(r.ops, 0, 'no op completes against a silent server');
  assert.equal(r.errors['timeout'], 3, `each of the 3 connections times out once, got ${JSON.stringify(r.errors)}`);
});
