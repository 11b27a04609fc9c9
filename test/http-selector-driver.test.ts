/**
 * The native HTTP driver on the Selector layer keeps the node:net driver's
 * contract: keep-alive with pipelining, reconnect per request under
 * --http-close, open loop at a rate, and every response verified.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, test } from 'node:test';
import { PAGE_BYTES } from '../workloads/http/page.js';
import { decodeHistogram } from '../core/latency.js';
import { startServe, type ServedProcess } from './helpers/serve.js';
import { runDriver } from '../harness/load/drivers.js';
import { DEFAULT_TRANSPORT } from './helpers/transports.js';
import { driverOptions as opts } from './helpers/driver.js';

let keepAlive: ServedProcess | undefined;
let closing: ServedProcess | undefined;
const fakes: net.Server[] = [];
before(async () => {
  keepAlive = await startServe('epoll', 'http');
  closing = await startServe('epoll', 'http', ['--http-close']);
});
after(async () => {
  await keepAlive?.stop();
  await closing?.stop();
  for (const s of fakes) s.close();
});

test('keep-alive with 4 pipelined requests: ops, no errors, depth recorded, selector named', async () => {
  const r = await runDriver('http', opts(keepAlive?.port ?? 0, { protocol: { pipelining: 4 } }));
  assert.match(r.driver ?? '', DEFAULT_TRANSPORT, `the default transport ran, got ${r.driver}`);
  assert.ok(r.ops > 100, `expected many verified responses, got ${r.ops}`);
  assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
  assert.equal(r.extra['pipelining'], 4, 'pipelining depth in extra');
  assert.equal(r.established, 4, 'all 4 connections established');
});

test('--http-close: a new connection per request, every response verified', async () => {
  const r = await runDriver('http', { ...opts(closing?.port ?? 0, { protocol: { httpClose: true } }), tcpDriver: 'selector' });
  assert.ok(r.ops > 20, `expected more than 20 verified requests, got ${r.ops}`);
  assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
  assert.equal(r.established, 4, 'every slot had a connection');
});

test('open loop: requests on schedule, target rate reported', async () => {
  const r = await runDriver('http', { ...opts(keepAlive?.port ?? 0, { rate: 1000 }), tcpDriver: 'selector' });
  assert.equal(r.targetRate, 1000, 'targetRate is the asked rate');
  assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
  assert.ok(r.ops >= 250 && r.ops <= 550, `expected ~500 responses in the 0.5 s window, got ${r.ops}`);
});

test('node:net driver, open loop: on schedule from the first interval, timed from the intended send', async () => {
  // At 100 req/s an op sent one interval late but timed from its intended
  // time (the old floor(elapsed·rate) schedule) shows ≥ 10 ms of latency
  // that no server caused; a local epoll server answers in well under 5 ms.
  const r = await runDriver('http', { ...opts(keepAlive?.port ?? 0, { rate: 100, connections: 2, durationSec: 1 }), tcpDriver: 'net' });
  assert.equal(r.driver, 'net');
  assert.equal(r.targetRate, 100, 'targetRate is the asked rate');
  assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
  assert.ok(r.ops >= 60 && r.ops <= 110, `expected ~100 responses in the 1 s window, got ${r.ops}`);
  const min = decodeHistogram(r.histogram).minNonZeroValue;
  assert.ok(min < 5000, `the fastest request took ${min} µs: sent late and timed from its intended time?`);
});

test('a wrong body byte fails every such reply as http body; the connections go on', async () => {
  const bad = Buffer.from(PAGE_BYTES);
  bad[bad.length - 2] = (bad[bad.length - 2] ?? 0) ^ 0x20;
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${bad.length}\r\n\r\n`;
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', () => s.write(Buffer.concat([Buffer.from(head, 'latin1'), bad])));
  });
  fakes.push(srv);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const r = await runDriver('http', { ...opts((srv.address() as net.AddressInfo).port), tcpDriver: 'selector' });
  assert.equal(r.ops, 0, 'no corrupted response counts as an op');
  assert.deepEqual(Object.keys(r.errors), ['http body'], `only body errors, got ${JSON.stringify(r.errors)}`);
  assert.ok((r.errors['http body'] ?? 0) > 4, `the replies are well framed, so the connections keep going and each wrong one counts, got ${JSON.stringify(r.errors)}`);
});

test('tcpDriver net keeps the node:net native driver', async () => {
  const r = await runDriver('http', opts(keepAlive?.port ?? 0, { tcpDriver: 'net', durationSec: 0.2 }));
  assert.equal(r.driver, 'net', 'the node:net transport names itself net');
  assert.ok(r.ops > 10, `expected verified responses, got ${r.ops}`);
});
