/**
 * Both echo drivers (selector on the FFI layer, net on node:net) verify
 * every byte and keep the same contract: each case runs against each.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, test } from 'node:test';
import { decodeHistogram } from '../core/latency.js';
import { startServe } from './helpers/serve.js';
import { fillMessage, fillMessageAt, firstMismatch, firstMismatchAt } from '../workloads/echo/message.js';
import type { DriverOptions, DriverPhase, DriverResult } from '../harness/load/driver.js';
import { runDriver } from '../harness/load/drivers.js';
import { TRANSPORTS } from './helpers/transports.js';
import { driverOptions } from './helpers/driver.js';
import { close as closeFd, listenTcp } from '../strategies/sys/index.js';

const DRIVERS: readonly { name: string; skip: string | false; run: (o: DriverOptions) => Promise<DriverResult> }[] = TRANSPORTS.map((t) => ({
  name: t.name,
  skip: t.skip,
  run: (o) => runDriver('echo', { ...o, tcpDriver: t.name }),
}));

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
  return driverOptions(p, { connections: 8, timeoutMs: 2000, connectConcurrency: 100, protocol: { messageSize: 64 }, ...over });
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

test('fillMessageAt and firstMismatchAt agree with fillMessage and firstMismatch', () => {
  const a = new Uint8Array(64);
  fillMessage(a, 0x01020304, 0xa0b0c0d0);
  const slab = new Uint8Array(200);
  fillMessageAt(slab, 70, 64, 0x01020304, 0xa0b0c0d0);
  assert.deepEqual(slab.subarray(70, 134), a, 'the same bytes at an offset');
  assert.equal(slab[69], 0, 'nothing written before the offset');
  assert.equal(slab[134], 0, 'nothing written past the message');
  const got = new Uint8Array(100);
  got.set(a.subarray(20, 50), 5);
  assert.equal(firstMismatchAt(slab, 90, 44, got, 5, 30), -1, 'a matching slice at both offsets');
  got[17] = (got[17] ?? 0) ^ 1;
  assert.equal(firstMismatchAt(slab, 90, 44, got, 5, 30), 12, 'first wrong byte, relative to gotOff');
  assert.equal(firstMismatchAt(slab, 90, 44, got, 5, 45), 44, 'bytes past the message end are a mismatch');
});

for (const d of DRIVERS) {
  test(`${d.name}: an honest echo server gives ops and no errors`, { skip: d.skip }, async () => {
    const srv = await listen((s) => s.pipe(s));
    servers.push(srv);
    const r = await d.run(opts(port(srv)));
    assert.ok(r.ops > 100, `expected many verified round trips, got ${r.ops}`);
    assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
    assert.equal(r.established, 8, 'all 8 connections established');
  });

  test(`${d.name}: a server that corrupts one byte in a thousand is caught as verify errors`, { skip: d.skip }, async () => {
    let n = 0;
    const srv = await listen((s) =>
      s.on('data', (d: Buffer) => {
        const copy = Buffer.from(d);
        if (++n % 1000 === 0) copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 0x40;
        s.write(copy);
      }),
    );
    servers.push(srv);
    const r = await d.run(opts(port(srv)));
    assert.ok((r.errors['verify'] ?? 0) > 0, `expected verify errors, got ${JSON.stringify(r.errors)}`);
  });

  test(`${d.name}: a server that swaps replies between connections is caught`, { skip: d.skip }, async () => {
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
    const r = await d.run(opts(port(srv), { connections: 4, timeoutMs: 500 }));
    assert.ok((r.errors['verify'] ?? 0) > 0, `mis-routed echoes must fail verification, got ${JSON.stringify(r.errors)}`);
  });

  test(`${d.name}: a server that never answers yields timeouts, not ops`, { skip: d.skip }, async () => {
    const srv = await listen(() => undefined);
    servers.push(srv);
    const r = await d.run(opts(port(srv), { connections: 3, timeoutMs: 200, durationSec: 0.6 }));
    assert.equal(r.ops, 0, 'no op completes against a silent server');
    assert.equal(r.errors['timeout'], 3, `each of the 3 connections times out once, got ${JSON.stringify(r.errors)}`);
  });

  test(`${d.name}: connections the server never takes (left in the accept queue) are counted "not accepted" when the window closes on them`, { skip: d.skip === false && process.platform !== 'linux' ? 'reads /proc/net/tcp' : d.skip }, async () => {
    // The kernel finishes every handshake and queues the connections; no
    // process ever calls accept(2). The 10 s reply timeout outlasts the
    // window, so only this count can say that the server held none of them.
    const l = listenTcp('127.0.0.1', 0, 16);
    try {
      // The connect phase waits up to its deadline for the server to take them; then the load starts anyway.
      const r = await d.run(opts(l.port, { connections: 3, warmupSec: 0.2, durationSec: 0.3, timeoutMs: 10_000, connectTimeoutMs: 1000 }));
      assert.equal(r.established, 3, 'the client sees all 3 connected');
      assert.equal(r.ops, 0, 'nothing can be answered');
      assert.deepEqual(r.errors, { 'not accepted': 3 }, `each connection waits in the accept queue: ${JSON.stringify(r.errors)}`);
    } finally {
      closeFd(l.fd);
    }
  });

  test(`${d.name}: the load starts once the server has taken every connection, not when the client's connect() returns`, { skip: d.skip === false && process.platform !== 'linux' ? 'reads /proc/net/tcp' : d.skip }, async () => {
    // The kernel finishes every handshake at once; the server calls
    // accept(2) only 800 ms later (a server still busy with a connect
    // storm). A load started at connect() would spend its whole 0.4 s
    // window on connections the server does not hold yet.
    const l = listenTcp('127.0.0.1', 0, 16);
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    servers.push(srv);
    const late = setTimeout(() => srv.listen({ fd: l.fd }), 800);
    try {
      const r = await d.run(opts(l.port, { connections: 4, warmupSec: 0, durationSec: 0.4, timeoutMs: 10_000 }));
      assert.deepEqual(r.errors, {}, `no errors: ${JSON.stringify(r.errors)}`);
      assert.ok(r.ops > 0, `the window measures round trips on connections the server holds, got ${r.ops} ops`);
    } finally {
      clearTimeout(late);
    }
  });

  test(`${d.name}: messages larger than a socket buffer go out in parts and verify`, { skip: d.skip }, async () => {
    // 300 kB does not fit one send(): the unsent tail is queued and flushed
    // on writability; in open loop, later messages queue behind it.
    const srv = await listen((s) => s.pipe(s));
    servers.push(srv);
    for (const rate of [0, 200]) {
      const r = await d.run(opts(port(srv), { connections: 4, protocol: { messageSize: 300_000 }, rate }));
      assert.ok(r.ops > 10, `rate ${rate}: expected verified 300 kB round trips, got ${r.ops}`);
      assert.deepEqual(r.errors, {}, `rate ${rate}: expected no errors, got ${JSON.stringify(r.errors)}`);
      assert.equal(r.bytes, r.ops * 600_000, 'bytes count both directions of every op');
    }
  });

  test(`${d.name}: open loop queues what a stalled server cannot take, and loses none of it`, { skip: d.skip }, async () => {
    // The server stops reading for 300 ms: at 500 × 128 kB/s that is ~19 MB,
    // far more than the socket buffers, so sends come up short and the rest
    // waits in the driver's queue until the server reads again.
    const srv = await listen((s) => {
      s.pipe(s);
      setTimeout(() => {
        s.pause();
        setTimeout(() => s.resume(), 300);
      }, 200);
    });
    servers.push(srv);
    const r = await d.run(opts(port(srv), { connections: 1, rate: 500, durationSec: 1, timeoutMs: 3000, protocol: { messageSize: 128 * 1024 } }));
    assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
    // How many of the ~500 complete inside the window depends on how fast
    // this (shared) machine drains the backlog; that they verify does not.
    assert.ok(r.ops >= 100, `the queued messages complete and verify, got ${r.ops}`);
    const max = decodeHistogram(r.histogram).maxValue;
    assert.ok(max >= 150_000, `the stall shows in the latency (max ${max} µs)`);
  });

  test(`${d.name}: a 1-byte message (no room for the header) still round-trips`, { skip: d.skip }, async () => {
    const srv = await listen((s) => s.pipe(s));
    servers.push(srv);
    const r = await d.run(opts(port(srv), { connections: 2, protocol: { messageSize: 1 } }));
    assert.ok(r.ops > 100, `expected many 1-byte round trips, got ${r.ops}`);
    assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
  });

  test(`${d.name}: open loop sends on schedule and reports the target rate`, { skip: d.skip }, async () => {
    const srv = await listen((s) => s.pipe(s));
    servers.push(srv);
    const r = await d.run(opts(port(srv), { rate: 2000, warmupSec: 0.2, durationSec: 0.5 }));
    assert.equal(r.targetRate, 2000, 'targetRate is the asked rate');
    assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
    // 2000/s over a 0.5 s window is 1000 sends; completions in the window
    // can exceed that only by what warm-up left in flight.
    assert.ok(r.ops >= 400 && r.ops <= 1100, `expected ~1000 ops in the window, got ${r.ops}`);
  });

  test(`${d.name}: open-loop latency counts from the intended send time`, { skip: d.skip }, async () => {
    // Every echo is held 40 ms: each op's latency must include it.
    const srv = await listen((s) => s.on('data', (b: Buffer) => setTimeout(() => s.write(b), 40)));
    servers.push(srv);
    const r = await d.run(opts(port(srv), { rate: 200, connections: 4, warmupSec: 0.1, durationSec: 0.5 }));
    const h = decodeHistogram(r.histogram);
    assert.ok(h.totalCount > 20, `expected recorded ops, got ${h.totalCount}`);
    // 38 ms, not 40: libuv arms timers from its cached loop time, so the hold may end up to ~1 ms early.
    assert.ok(h.minNonZeroValue >= 38_000, `every latency includes the 40 ms hold, min was ${h.minNonZeroValue} µs`);
  });

  test(`${d.name}: phases come in order, measuring after the warm-up`, { skip: d.skip }, async () => {
    const srv = await listen((s) => s.pipe(s));
    servers.push(srv);
    const seen: [DriverPhase, number, number][] = [];
    const onPhase = (p: DriverPhase, atMs: number): void => void seen.push([p, atMs, performance.timeOrigin + performance.now()]);
    const r = await d.run(opts(port(srv), { warmupSec: 0.2, durationSec: 0.3, onPhase }));
    assert.deepEqual(
      seen.map(([p]) => p),
      ['connected', 'measuring', 'draining'],
      'each phase once, in order',
    );
    // The stamps are the driver's window (what it recorded ops over), so
    // they are exact; arrival times are not: a 'connected' message once sat
    // 15 ms in the worker's queue and made measuring look early.
    const [c, m, e] = seen.map(([, at]) => at) as [number, number, number];
    assert.ok(Math.abs(m - c - 200) < 1, `measuring is stamped 200 ms after connected, got ${(m - c).toFixed(1)} ms`);
    assert.ok(Math.abs(e - m - 300) < 1, `draining is stamped 300 ms after measuring, got ${(e - m).toFixed(1)} ms`);
    // Never announced before it happens (1 ms: libuv timers run off a cached clock).
    for (const [p, at, arrived] of seen) assert.ok(arrived >= at - 1, `${p} arrived ${(at - arrived).toFixed(1)} ms before its time`);
    assert.ok(r.ops > 0, 'ops were recorded');
  });
}

test('the selector driver serves an out-of-process server', async () => {
  const served = await startServe('epoll', 'echo');
  try {
    const seen: DriverPhase[] = [];
    const r = await runDriver('echo', { ...opts(served.port, { onPhase: (p) => seen.push(p) }), tcpDriver: 'selector' });
    assert.deepEqual(seen, ['connected', 'measuring', 'draining'], 'each phase once, in order');
    assert.equal(r.established, 8, 'all 8 connections established');
    assert.ok(r.ops > 100, `expected many verified round trips, got ${r.ops}`);
    assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
  } finally {
    await served.stop();
  }
});

test('the default transport is the best that runs here (io_uring, else the Selector layer); net on request', async () => {
  const srv = await listen((s) => s.pipe(s));
  servers.push(srv);
  const short = { warmupSec: 0, durationSec: 0.2, connections: 2 };
  const auto = await runDriver('echo', opts(port(srv), short));
  const uring = TRANSPORTS.find((t) => t.name === 'uring')?.skip === false;
  assert.match(auto.driver ?? '', uring ? /^uring$/ : /^selector:(epoll|kqueue|poll)$/, `default transport, got ${auto.driver}`);
  const viaNet = await runDriver('echo', opts(port(srv), { ...short, tcpDriver: 'net' }));
  assert.equal(viaNet.driver, 'net', 'tcpDriver "net" runs the node:net driver');
  await assert.rejects(runDriver('echo', opts(port(srv), { ...short, tcpDriver: 'bogus' })), /unknown tcp driver "bogus"/);
});

test('the selector driver counts a refused connect as a connect error', async () => {
  // A port nobody listens on: bind one, note it, close it.
  const srv = await listen(() => undefined);
  const p = port(srv);
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  const r = await runDriver('echo', { ...opts(p, { connections: 3, warmupSec: 0, durationSec: 0.1 }), tcpDriver: 'selector' });
  assert.equal(r.established, 0, 'nothing established');
  assert.equal(r.errors['connect ECONNREFUSED'], 3, `3 refused connects, got ${JSON.stringify(r.errors)}`);
});
