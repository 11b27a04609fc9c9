/**
 * The chat driver's exactly-once check must catch a faulty server: test
 * doubles that drop, duplicate or reorder one message for one client, driven
 * by the real driver. Plus the ledger's bookkeeping, sans-IO.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, test } from 'node:test';
import { ChatLedger, encodeMessage, parseLine } from '../workloads/chat/ledger.js';
import { decodeHistogram } from '../core/latency.js';
import type { DriverResult } from '../harness/load/driver.js';
import { runDriver } from '../harness/load/drivers.js';
import { TRANSPORTS } from './helpers/transports.js';

type Fault = 'none' | 'drop' | 'duplicate' | 'reorder';

/**
 * A chat server (line broadcast, node:net) that injects one fault: on the
 * 50th message line it relays, it drops it for, duplicates it to, or holds
 * it back for the second client to join until that sender's next line.
 */
function faultyServer(fault: Fault): Promise<{ port: number; close: () => Promise<void> }> {
  const clients: net.Socket[] = [];
  let relayed = 0;
  let held: Buffer | null = null;
  const server = net.createServer({ noDelay: true }, (s) => {
    clients.push(s);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = Buffer.from(buf.slice(0, nl + 1), 'latin1');
        buf = buf.slice(nl + 1);
        const isMessage = line[0] !== 0x68; // not a join line
        const n = isMessage ? ++relayed : 0;
        const victim = clients[1];
        for (const c of clients) {
          if (c.destroyed) continue;
          if (c === victim && n === 50 && fault !== 'none') {
            if (fault === 'duplicate') c.write(Buffer.concat([line, line]));
            if (fault === 'reorder') held = line;
            continue; // drop (and reorder: sent after the next line)
          }
          c.write(line);
          if (c === victim && held !== null && line.toString('latin1').split(' ')[0] === held.toString('latin1').split(' ')[0]) {
            c.write(held);
            held = null;
          }
        }
      }
    });
    s.on('error', () => s.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((r) => {
            for (const c of clients) c.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

async function drive(fault: Fault, rate: number, tcpDriver: string): Promise<DriverResult> {
  const srv = await faultyServer(fault);
  try {
    return await runDriver('chat', {
      host: '127.0.0.1',
      port: srv.port,
      connections: 4,
      warmupSec: 0,
      durationSec: 0.5,
      timeoutMs: 2000,
      connectConcurrency: 4,
      connectTimeoutMs: 5000,
      rate,
      tcpDriver,
      protocol: { messageSize: 40, chatSenders: 2 },
    });
  } finally {
    await srv.close();
  }
}

for (const { name, skip } of TRANSPORTS) describe(`chat on ${name}: the exactly-once check against a fault-injecting server`, { skip }, () => {
  test('a correct server: no lost, duplicated or reordered message', async () => {
    const r = await drive('none', 0, name);
    assert.ok(r.ops > 50, `expected more than 50 messages, got ${r.ops}`);
    assert.deepEqual(r.errors, {}, 'expected no errors from a correct server');
  });

  test('one message dropped for one client is counted as lost = 1', async () => {
    const r = await drive('drop', 0, name);
    assert.equal(r.extra['lost'], 1, `expected lost 1, got ${r.extra['lost']}`);
    assert.equal(r.errors['lost'], 1, 'expected errors.lost = 1 so the runner fails the cell');
    assert.equal(r.extra['duplicated'], 0, 'expected no duplicates');
  });

  test('one message sent twice to one client is counted as duplicated = 1', async () => {
    const r = await drive('duplicate', 0, name);
    assert.equal(r.extra['duplicated'], 1, `expected duplicated 1, got ${r.extra['duplicated']}`);
    assert.equal(r.errors['duplicated'], 1, 'expected errors.duplicated = 1');
    assert.equal(r.extra['lost'], 0, 'expected nothing lost');
  });

  test('one message delivered after a later one of its sender is counted as reordered', async () => {
    // Open loop: a closed-loop sender waits for its message everywhere, so it could never overtake it.
    const r = await drive('reorder', 1000, name);
    assert.ok((r.extra['reordered'] ?? 0) >= 1, `expected reordered >= 1, got ${r.extra['reordered']}`);
    assert.equal(r.extra['lost'], 0, 'expected nothing lost');
  });

  test('open loop: on schedule from the first interval, delivery timed from the intended send', async () => {
    // At 100 msg/s a message sent one interval late but timed from its
    // intended time (the old floor(elapsed·rate) schedule) shows ≥ 10 ms of
    // latency no server caused; this local server delivers in well under 5 ms.
    const r = await drive('none', 100, name);
    assert.deepEqual(r.errors, {}, `expected no errors, got ${JSON.stringify(r.errors)}`);
    assert.equal(r.targetRate, 100, 'targetRate is the asked rate');
    assert.ok(r.ops >= 30 && r.ops <= 55, `expected ~50 messages in the 0.5 s window, got ${r.ops}`);
    const min = decodeHistogram(r.histogram).minNonZeroValue;
    assert.ok(min < 5000, `the fastest delivery took ${min} µs: sent late and timed from its intended time?`);
  });
});

describe('chat ledger', () => {
  test('message lines round-trip through encode and parse', () => {
    const m = encodeMessage(12, 3456, 40);
    assert.equal(m.length, 40, 'expected a 40-byte line');
    assert.deepEqual(parseLine(m, 0, m.length - 1, 40), { kind: 'message', sender: 12, seq: 3456 }, 'expected sender and seq back');
    assert.deepEqual(parseLine(m, 0, m.length - 2, 40), { kind: 'bad' }, 'a truncated line must not parse');
  });

  test('a late message counts once as reordered and completes when every receiver has it', () => {
    const l = new ChatLedger(2, 1);
    l.join(0);
    l.join(1);
    const done: number[] = [];
    const cb = (c: { seq: number }): void => void done.push(c.seq);
    l.send(0, 0);
    l.send(0, 0);
    assert.equal(l.deliver(0, 0, 1, cb), 'reordered', 'seq 1 before seq 0 is reordered');
    assert.equal(l.deliver(0, 0, 0, cb), 'ok', 'seq 0 after is fine');
    assert.equal(l.deliver(0, 0, 0, cb), 'duplicated', 'seq 0 again is a duplicate');
    l.deliver(1, 0, 0, cb);
    assert.deepEqual(done, [0], 'seq 0 completes when the second receiver has it');
    l.leave(1, cb);
    assert.deepEqual(done, [0, 1], 'seq 1 completes when the receiver that lacked it leaves');
    assert.equal(l.countLost([0]), 0, 'receiver 0 got both, receiver 1 left: nothing lost');
  });
});
