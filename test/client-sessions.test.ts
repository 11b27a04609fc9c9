/**
 * Every workload's ClientSession alone, sans-IO: no socket, no timer. A fake
 * connection records what the session sends and how it ends; a fake
 * recorder records each verified op with its start time. The bytes are
 * crafted: whole replies, replies split at every byte, one wrong byte at
 * every position, bytes nobody asked for, an early close.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientConn, ClientOptions, ClientRecorder, ClientSession, ClientWorkload } from '../core/client.js';
import { createClient as echoClient } from '../workloads/echo/client.js';
import { fillMessage } from '../workloads/echo/message.js';
import { createClient as chatClient } from '../workloads/chat/client.js';
import { encodeJoin, encodeMessage } from '../workloads/chat/ledger.js';
import { createClient as httpClient } from '../workloads/http/client.js';
import { buildResponse, PAGE_BYTES, PAGE_CONTENT_TYPE } from '../workloads/http/page.js';

class FakeConn implements ClientConn {
  readonly sent: Buffer[] = [];
  failed: string | null = null;
  reconnects = 0;
  constructor(readonly slot: number) {}
  send(buf: Uint8Array, off = 0, len = buf.length - off): void {
    // Sessions may reuse their buffer once send returns: copy, as a transport does.
    this.sent.push(Buffer.from(buf.subarray(off, off + len)));
  }
  fail(kind: string): void {
    this.failed ??= kind;
  }
  reconnect(): void {
    this.reconnects++;
  }
  take(): Buffer {
    const b = Buffer.concat(this.sent);
    this.sent.length = 0;
    return b;
  }
}

class FakeRecorder implements ClientRecorder {
  readonly ops: { start: number; now: number; bytes: number }[] = [];
  readonly errors: Record<string, number> = {};
  readonly counts: Record<string, number> = {};
  running = true;
  complete(start: number, now: number, bytes: number): void {
    this.ops.push({ start, now, bytes });
  }
  inWindow(): boolean {
    return true;
  }
  error(kind: string, n = 1): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + n;
  }
  count(name: string, n = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + n;
  }
}

function options(connections: number, protocol: ClientOptions['protocol'], openLoop = false): ClientOptions {
  return { connections, first: 0, count: connections, openLoop, protocol, host: '127.0.0.1', port: 8080 };
}

/** One session of `w` on slot 0, opened, with its fake connection and recorder. */
function openSession(w: ClientWorkload): { conn: FakeConn; rec: FakeRecorder; s: ClientSession } {
  const conn = new FakeConn(0);
  const rec = new FakeRecorder();
  const s = w.session(conn, rec);
  s.onOpen(0);
  return { conn, rec, s };
}

/** `bytes` fed in two pieces split at `at`. */
function feedSplit(s: ClientSession, bytes: Buffer, at: number, now: number): void {
  if (at > 0) s.onData(bytes.subarray(0, at), now);
  if (at < bytes.length) s.onData(bytes.subarray(at), now);
}

describe('echo ClientSession', () => {
  const SIZE = 64;
  const open = (openLoop = false): ReturnType<typeof openSession> => openSession(echoClient(options(1, { messageSize: SIZE }, openLoop)));

  test('closed loop: the echo split at every byte completes one op timed from its send, then the next goes out', () => {
    for (let at = 0; at <= SIZE; at++) {
      const { conn, rec, s } = open();
      s.onStart(5);
      const out = conn.take();
      assert.equal(out.length, SIZE, 'one message sent');
      assert.equal(s.oldestInFlight(), 5);
      feedSplit(s, out, at, 9);
      assert.equal(conn.failed, null, `split at ${at}: verified`);
      assert.deepEqual(rec.ops, [{ start: 5, now: 9, bytes: 2 * SIZE }], `split at ${at}: one op`);
      const next = conn.take();
      assert.equal(next.length, SIZE, 'the next message goes out');
      assert.notDeepEqual(next, out, 'with its own sequence number');
    }
  });

  test('one byte at a time completes the op only on the last byte', () => {
    const { conn, rec, s } = open();
    s.onStart(1);
    const out = conn.take();
    for (let i = 0; i < SIZE; i++) {
      assert.equal(rec.ops.length, 0, `no op before byte ${i}`);
      s.onData(out.subarray(i, i + 1), 2);
    }
    assert.equal(rec.ops.length, 1);
  });

  test('a wrong byte at any position fails the connection as verify, with no op', () => {
    for (let i = 0; i < SIZE; i++) {
      const { conn, rec, s } = open();
      s.onStart(0);
      const bad = conn.take();
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      s.onData(bad, 1);
      assert.equal(conn.failed, 'verify', `byte ${i} flipped`);
      assert.equal(rec.ops.length, 0);
    }
  });

  test("another connection's message, or bytes nobody asked for, fail as verify", () => {
    const { conn, s } = open();
    s.onStart(0);
    conn.take();
    const other = Buffer.alloc(SIZE);
    fillMessage(other, 1, 0);
    s.onData(other, 1);
    assert.equal(conn.failed, 'verify', "slot 1's message on slot 0");
    const idle = open();
    idle.s.onData(Buffer.from('x'), 1);
    assert.equal(idle.conn.failed, 'verify', 'bytes before any send');
  });

  test('open loop: every op is timed from when it was due, several in flight', () => {
    const { conn, rec, s } = open(true);
    for (const due of [10, 11, 12]) assert.equal(s.issue(due), true);
    const out = conn.take();
    assert.equal(out.length, 3 * SIZE);
    assert.equal(s.oldestInFlight(), 10);
    s.onData(out, 50);
    assert.deepEqual(
      rec.ops.map((o) => o.start),
      [10, 11, 12],
      'latency counts from the intended send times',
    );
    assert.equal(conn.sent.length, 0, 'open loop sends on the schedule only, not on replies');
  });

  test('an early close: the half-received op is never counted', () => {
    const { conn, rec, s } = open();
    s.onStart(0);
    const out = conn.take();
    s.onData(out.subarray(0, SIZE / 2), 1);
    s.onClose(false);
    assert.equal(rec.ops.length, 0);
    assert.equal('onEnd' in s, false, 'echo has no announced close: the transport counts EOF as closed');
  });
});

describe('chat ClientSession', () => {
  const SIZE = 40;
  /** A group of `n` joined clients (senders: the first `senders`). */
  /** One recorder for the group, as one load thread has. */
  const group = (n: number, senders: number): { w: ClientWorkload; conns: FakeConn[]; rec: FakeRecorder; ss: ClientSession[] } => {
    const w = chatClient(options(n, { messageSize: SIZE, chatSenders: senders }));
    const conns = Array.from({ length: n }, (_, i) => new FakeConn(i));
    const rec = new FakeRecorder();
    const ss = conns.map((c) => w.session(c, rec));
    ss.forEach((s, i) => {
      s.onOpen(0);
      assert.deepEqual(conns[i]?.take(), encodeJoin(i), 'the join goes out first');
    });
    assert.equal(w.ready?.(), false, 'not ready before the joins come back');
    // Every client sees every join (the server broadcasts them).
    const joins = Buffer.concat(conns.map((_, i) => encodeJoin(i)));
    for (const s of ss) s.onData(joins, 1);
    assert.equal(w.ready?.(), true);
    for (const s of ss) s.onStart(2);
    return { w, conns, rec, ss };
  };

  test('a message split at every byte at every receiver completes once, when the last one has it', () => {
    for (let at = 0; at <= SIZE; at++) {
      const { conns, rec, ss } = group(3, 1);
      const msg = conns[0]?.take() ?? Buffer.alloc(0);
      assert.deepEqual(msg, encodeMessage(0, 0, SIZE), 'the sender sends (0, 0)');
      feedSplit(ss[0] as ClientSession, msg, at, 3);
      feedSplit(ss[1] as ClientSession, msg, at, 4);
      assert.equal(rec.ops.length, 0, 'not complete before the last receiver');
      feedSplit(ss[2] as ClientSession, msg, at, 6);
      assert.equal(rec.ops.length, 1, `split at ${at}: complete once`);
      assert.equal(rec.ops[0]?.start, 2);
      assert.equal(rec.ops[0]?.now, 6, 'delivery latency runs until the last receiver');
      assert.deepEqual(conns[0]?.take(), encodeMessage(0, 1, SIZE), 'closed loop: the next message follows');
      for (const c of conns) assert.equal(c.failed, null);
    }
  });

  test('a wrong byte anywhere in a message line is a verify error, never a delivery', () => {
    for (let i = 0; i < SIZE; i++) {
      const { w, conns, rec, ss } = group(2, 1);
      const msg = conns[0]?.take() ?? Buffer.alloc(0);
      const bad = Buffer.from(msg);
      // Any byte but the newline becomes one that cannot be there; the newline becomes padding (a line one byte long).
      bad[i] = i === SIZE - 1 ? 0x78 : 0x7e;
      ss[1]?.onData(i === SIZE - 1 ? Buffer.concat([bad, Buffer.from('\n')]) : bad, 3);
      const errs = { ...rec.errors, ...(conns[1]?.failed === null ? {} : { [conns[1]?.failed ?? '']: 1 }) };
      assert.ok((errs['verify'] ?? 0) >= 1, `byte ${i} corrupted: verify error, got ${JSON.stringify(errs)}`);
      ss[0]?.onData(msg, 3);
      assert.equal(rec.ops.length, 0, `byte ${i} corrupted: the message is not delivered to receiver 1`);
      assert.equal(w.drained?.(), false, 'still in flight');
    }
  });

  test('a duplicate and a reorder are counted, and a never-delivered message is lost', () => {
    const { w, conns, ss } = group(2, 1);
    const m0 = conns[0]?.take() ?? Buffer.alloc(0);
    for (const s of ss) s.onData(m0, 3);
    ss[1]?.onData(m0, 3);
    const m1 = conns[0]?.take() ?? Buffer.alloc(0);
    ss[0]?.onData(m1, 4);
    // Receiver 1 misses m1 and gets m2 out of order: hand-made, as a faulty server would send it.
    ss[1]?.onData(encodeMessage(0, 1, SIZE), 4);
    const m2 = conns[0]?.take() ?? Buffer.alloc(0);
    ss[0]?.onData(m2, 5);
    const f = w.finish?.();
    assert.equal(f?.errors?.['duplicated'], 1);
    assert.equal(f?.errors?.['reordered'], undefined, 'in order so far');
    assert.equal(f?.errors?.['lost'], 1, 'm2 never reached receiver 1');
  });

  test('two lines in one read, and a line split across reads, both parse', () => {
    const { conns, rec, ss } = group(1, 1);
    const m0 = conns[0]?.take() ?? Buffer.alloc(0);
    ss[0]?.onData(m0.subarray(0, 7), 3);
    ss[0]?.onData(m0.subarray(7), 3);
    const m1 = conns[0]?.take() ?? Buffer.alloc(0);
    ss[0]?.onData(m1, 4);
    assert.equal(rec.ops.length, 2);
    assert.equal(conns[0]?.failed, null);
  });

  test('a line with no newline past twice the message size fails the connection', () => {
    const { conns, ss } = group(1, 1);
    conns[0]?.take();
    // Twice the size and a margin (an echoed line may carry a longer head): more cannot be one line.
    ss[0]?.onData(Buffer.alloc(SIZE, 0x78), 3);
    ss[0]?.onData(Buffer.alloc(2 * SIZE, 0x78), 3);
    assert.equal(conns[0]?.failed, null, 'not yet');
    ss[0]?.onData(Buffer.alloc(SIZE, 0x78), 3);
    assert.equal(conns[0]?.failed, 'verify');
  });

  test('a receiver that closes early is no longer waited for', () => {
    const { conns, rec, ss } = group(3, 1);
    const m0 = conns[0]?.take() ?? Buffer.alloc(0);
    ss[0]?.onData(m0, 3);
    ss[1]?.onData(m0, 3);
    assert.equal(rec.ops.length, 0);
    ss[2]?.onClose(false);
    assert.equal(rec.ops.length, 1, 'the message completes without the closed receiver');
  });
});

describe('http ClientSession', () => {
  const response = (o: { connection?: 'close' | 'keep-alive'; body?: Buffer; status?: number } = {}): Buffer =>
    buildResponse({
      status: o.status ?? 200,
      body: o.body ?? PAGE_BYTES,
      contentType: PAGE_CONTENT_TYPE,
      withBody: true,
      connection: o.connection ?? 'keep-alive',
      date: 'Wed, 02 Dec 2026 08:00:00 GMT',
    });
  const open = (spec?: unknown): ReturnType<typeof openSession> =>
    openSession(httpClient({ ...options(1, { pipelining: 1 }), ...(spec === undefined ? {} : { clientSpec: spec }) }));

  test('the page split at every byte completes one request, then the next goes out', () => {
    const res = response();
    for (let at = 0; at <= res.length; at++) {
      const { conn, rec, s } = open();
      s.onStart(1);
      assert.match(conn.take().toString('latin1'), /^GET \/ HTTP\/1\.1\r\n/);
      feedSplit(s, res, at, 2);
      assert.equal(conn.failed, null, `split at ${at}`);
      assert.equal(rec.ops.length, 1, `split at ${at}: one op`);
      assert.equal(rec.ops[0]?.start, 1);
      assert.equal(conn.take().length > 0, true, 'the next request goes out');
    }
  });

  test('a wrong body byte is an http body error, counted per reply, and the connection goes on', () => {
    const body = Buffer.from(PAGE_BYTES);
    body[body.length >> 1] = (body[body.length >> 1] ?? 0) ^ 0x20;
    const { conn, rec, s } = open();
    s.onStart(1);
    conn.take();
    s.onData(response({ body }), 2);
    assert.deepEqual(rec.errors, { 'http body': 1 });
    assert.equal(rec.ops.length, 0);
    assert.equal(conn.failed, null);
  });

  test('a 500 from an external target is an http status 500 error', () => {
    const { conn, rec, s } = open({ expect: {} });
    s.onStart(1);
    conn.take();
    s.onData(response({ status: 500, body: Buffer.from('oops') }), 2);
    assert.deepEqual(rec.errors, { 'http status 500': 1 });
  });

  test('Connection: close completes the request and reconnects the slot, not a failure', () => {
    const { conn, rec, s } = open();
    s.onStart(1);
    conn.take();
    s.onData(response({ connection: 'close' }), 2);
    assert.equal(rec.ops.length, 1);
    assert.equal(conn.reconnects, 1);
    assert.equal(conn.failed, null);
  });

  test('an early close inside the body is http truncated', () => {
    const res = response();
    const { conn, rec, s } = open();
    s.onStart(1);
    conn.take();
    s.onData(res.subarray(0, res.length - 10), 2);
    s.onEnd?.(3);
    assert.equal(conn.failed, 'http truncated');
    assert.equal(rec.ops.length, 0);
  });

  test('a response with no request in flight is unsolicited', () => {
    const { conn, s } = open();
    s.onData(response(), 2);
    assert.equal(conn.failed, 'http unsolicited');
  });
});
