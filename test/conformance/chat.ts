/**
 * Chat conformance: every line reaches every client (sender included) in
 * each sender's order, `quit` and EOF leave, an over-long line is refused,
 * a slow consumer is cut off without stalling the others, and the load
 * driver's exactly-once check passes against the strategy.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { test } from 'node:test';
import { connect, pattern } from '../helpers/net.js';
import { readUntilClosed } from '../helpers/http.js';
import type { CaseContext } from './suite.js';
import { runDriver } from '../../harness/load/drivers.js';

/** A 256 KiB write-queue cap, so the slow-consumer case moves megabytes, not tens of them. */
export const CHAT_SERVE_ARGS: readonly string[] = ['--write-queue-cap', String(256 * 1024)];

/**
 * Every line a socket receives, buffered from the moment it is attached
 * (a flowing socket with no listener would drop lines between reads).
 */
class Lines {
  readonly #lines: string[] = [];
  #buf = '';
  #wake: (() => void) | null = null;

  constructor(s: net.Socket) {
    s.on('data', (d: Buffer) => {
      this.#buf += d.toString('latin1');
      let nl: number;
      while ((nl = this.#buf.indexOf('\n')) >= 0) {
        this.#lines.push(this.#buf.slice(0, nl));
        this.#buf = this.#buf.slice(nl + 1);
      }
      this.#wake?.();
    });
  }

  /** The next `n` lines. */
  async take(n: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.#lines.length < n) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out with ${this.#lines.length} of ${n} lines`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = null;
    }
    return this.#lines.splice(0, n);
  }
}

interface Member {
  s: net.Socket;
  lines: Lines;
}

/** Connect `n` clients and make sure the server has them all in its group. */
async function joinGroup(port: number, n: number): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const s = await connect(port);
    const m = { s, lines: new Lines(s) };
    // Our own join line coming back proves the server counts us in.
    s.write(`join ${i}\n`);
    const [line] = await m.lines.take(1);
    assert.equal(line, `join ${i}`, `client ${i}: expected its own join line back first`);
    members.push(m);
  }
  // Earlier clients also got the later joins: drain those.
  await Promise.all(members.map((m, i) => m.lines.take(n - 1 - i)));
  return members;
}

export function chatCases(ctx: CaseContext): void {
  test('every line reaches every client, the sender included, in each sender\'s order', async () => {
    const members = await joinGroup(ctx.server().port, 5);
    const socks = members.map((m) => m.s);
    try {
      const per = 20;
      const got = members.map((m) => m.lines.take(socks.length * per));
      socks.forEach((s, i) => {
        // Several lines per write and lines split across writes.
        let text = '';
        for (let k = 0; k < per; k++) text += `m ${i} ${k}\n`;
        s.write(text.slice(0, 7));
        s.write(text.slice(7));
      });
      const all = await Promise.all(got);
      all.forEach((lines, r) => {
        for (let i = 0; i < socks.length; i++) {
          const from = lines.filter((l) => l.startsWith(`m ${i} `));
          assert.deepEqual(
            from,
            Array.from({ length: per }, (_, k) => `m ${i} ${k}`),
            `client ${r}: lines of sender ${i} missing, duplicated or out of order`,
          );
        }
      });
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  test('"quit" and EOF leave; the others keep chatting', async () => {
    const members = await joinGroup(ctx.server().port, 3);
    const socks = members.map((m) => m.s);
    const [a, b, c] = socks;
    const cLines = members[2]?.lines;
    assert.ok(a !== undefined && b !== undefined && c !== undefined && cLines !== undefined);
    try {
      const aClosed = readUntilClosed(a, 5000);
      a.write('quit\n');
      assert.ok((await aClosed).closed, 'expected the server to close the client that sent quit');
      b.end();
      const cGot = cLines.take(1);
      c.write('still here\n');
      assert.deepEqual(await cGot, ['still here'], 'expected the remaining client to get its own line');
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  test('a line over 64 KiB closes that connection with an error line', async () => {
    const members = await joinGroup(ctx.server().port, 2);
    const socks = members.map((m) => m.s);
    const [a, b] = socks;
    const bLines = members[1]?.lines;
    assert.ok(a !== undefined && b !== undefined && bLines !== undefined);
    try {
      const all = readUntilClosed(a, 10_000);
      const junk = pattern(70 * 1024, 5);
      for (let i = 0; i < junk.length; i++) if (junk[i] === 0x0a) junk[i] = 0x20;
      a.write(junk);
      const { data, closed } = await all;
      assert.ok(closed, 'expected the connection to be closed');
      assert.match(data.toString('latin1'), /^error: line longer than 65536 bytes\n$/, 'expected exactly one error line');
      const bGot = bLines.take(1);
      b.write('after\n');
      assert.deepEqual(await bGot, ['after'], 'the other client must keep working');
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  test('lines longer than a send buffer reach every client byte-exact', async () => {
    // 48 KiB lines (under the 64 KiB line cap) outgrow any small send buffer,
    // so each delivery is a short send() whose tail the server must keep.
    // Lock step, one line per sender per round, keeps every client's queue
    // below the write-queue cap.
    const members = await joinGroup(ctx.server().port, 3);
    const socks = members.map((m) => m.s);
    const line = (i: number, k: number): string => `big ${i} ${k} ${pattern(48 * 1024, i * 31 + k + 1).toString('hex').slice(0, 48 * 1024)}`;
    try {
      for (let k = 0; k < 4; k++) {
        const got = members.map((m) => m.lines.take(socks.length, 20_000));
        socks.forEach((s, i) => s.write(`${line(i, k)}\n`));
        const all = await Promise.all(got);
        all.forEach((lines, r) => {
          const want = socks.map((_, i) => line(i, k));
          assert.deepEqual([...lines].sort(), [...want].sort(), `client ${r}, round ${k}: a line came back cut, missing or duplicated`);
        });
      }
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  const slowSkip = ctx.smallSndbuf ? 'with a 4 KiB send buffer its 32 MiB lock step waits on ACKs for tens of seconds; the case above covers short writes' : false;
  test('a client that stops reading is disconnected; the others get everything', { skip: slowSkip }, async () => {
    const members = await joinGroup(ctx.server().port, 2);
    const socks = members.map((m) => m.s);
    const [slow, fast] = socks;
    assert.ok(slow !== undefined && fast !== undefined);
    try {
      slow.pause();
      fast.removeAllListeners('data');
      let got = 0;
      let wake: (() => void) | null = null;
      fast.on('data', (d: Buffer) => {
        got += d.length;
        wake?.();
      });
      // Lock step, 64 KiB at a time, so the fast client's own queue stays
      // far below the cap while the slow one's grows past it.
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 1023; i < chunk.length; i += 1024) chunk[i] = 0x0a;
      const rounds = 512; // 32 MiB: past the cap plus any socket buffers
      for (let k = 1; k <= rounds; k++) {
        fast.write(chunk);
        const want = k * chunk.length;
        const deadline = performance.now() + 10_000;
        while (got < want) {
          assert.ok(performance.now() < deadline, `fast client stalled at ${got} of ${want} bytes`);
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 200);
            wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
      }
      assert.equal(got, rounds * chunk.length, 'the fast client must get every byte of its own lines');
      slow.removeAllListeners('data');
      const rest = readUntilClosed(slow, 20_000);
      slow.resume();
      const { data, closed } = await rest;
      assert.ok(closed, 'expected the slow consumer to be disconnected');
      assert.ok(data.length < got, `the slow consumer got all ${data.length} bytes: it was never cut off`);
    } finally {
      for (const s of socks) s.destroy();
    }
  });

  test('the load driver sees exactly-once, in-order delivery', async () => {
    const r = await runDriver('chat', {
      host: '127.0.0.1',
      port: ctx.server().port,
      connections: 20,
      warmupSec: 0,
      durationSec: 1,
      timeoutMs: 5000,
      connectConcurrency: 20,
      connectTimeoutMs: 10_000,
      protocol: { messageSize: 64, chatSenders: 5 },
    });
    assert.equal(r.established, 20, `expected 20 clients, got ${r.established} (errors ${JSON.stringify(r.errors)})`);
    assert.ok(r.ops > 0, 'expected some messages delivered to every client');
    assert.deepEqual(
      { lost: r.extra['lost'], duplicated: r.extra['duplicated'], reordered: r.extra['reordered'] },
      { lost: 0, duplicated: 0, reordered: 0 },
      'expected exactly-once, in-order delivery',
    );
    assert.deepEqual(r.errors, {}, 'expected no driver errors');
  });
}
