/**
 * Chat conformance: every line reaches every client (sender included) in
 * each sender's order, `quit` and EOF leave, an over-long line is refused,
 * a slow consumer is cut off without stalling the others, and the load
 * driver's exactly-once check passes against the strategy.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pendingAccepts } from '../helpers/accept-queue.js';
import { ByteCount, connect, pattern, Wakeup } from '../helpers/net.js';
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
  readonly #wakeup = new Wakeup();

  constructor(s: net.Socket) {
    s.on('data', (d: Buffer) => {
      this.#buf += d.toString('latin1');
      let nl: number;
      while ((nl = this.#buf.indexOf('\n')) >= 0) {
        this.#lines.push(this.#buf.slice(0, nl));
        this.#buf = this.#buf.slice(nl + 1);
      }
      this.#wakeup.wake();
    });
  }

  /** The next `n` lines. */
  async take(n: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.#lines.length < n) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out with ${this.#lines.length} of ${n} lines`);
      await this.#wakeup.sleep(left);
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
    // Our own join line coming back proves the server counts us in. A line
    // before it is another client's broadcast that raced our join (a
    // blocking server's fan-out thread may still be walking the table when
    // a new connection lands in it): not ours to judge, so it is skipped.
    s.write(`join ${i}\n`);
    await untilLine(m.lines, `join ${i}`, `client ${i}: expected its own join line back`);
    members.push(m);
  }
  // Earlier clients also got the later joins: drain those.
  await Promise.all(members.map(async (m, i) => {
    for (let j = i + 1; j < n; j++) await untilLine(m.lines, `join ${j}`, `client ${i}: expected the join line of client ${j}`);
  }));
  return members;
}

/** Take lines until `want` (at most 100 before it, within 10 s). */
async function untilLine(lines: Lines, want: string, what: string): Promise<void> {
  for (let k = 0; k < 100; k++) {
    const [line] = await lines.take(1);
    if (line === want) return;
  }
  assert.fail(`${what} within 100 lines`);
}

/** joinGroup, then `body` with the members; every member's socket is destroyed after it, whatever it threw. */
async function inGroup(port: number, n: number, body: (members: Member[]) => Promise<void>): Promise<void> {
  const members = await joinGroup(port, n);
  try {
    await body(members);
  } finally {
    for (const m of members) m.s.destroy();
  }
}

/**
 * The tutorial's kind of client, as a new user runs it (nc, telnet, a few
 * lines of asyncio): it connects, pauses, and types; no join line, no
 * handshake of ours. Its pause is a fixed time, not a signal from the
 * server, so a server whose clients join the group later than their accept
 * loses their lines.
 */
const PLAIN_PAUSE_MS = 500;
/** Lines each plain client sends, one write each, PLAIN_GAP_MS apart (a person or a script typing). */
const PLAIN_LINES = 10;
const PLAIN_GAP_MS = 3;
/**
 * Bounds, not expectations: generous so a CPU hog on one core cannot make
 * the case fail (a blocking server may be starting a thread for each of 60
 * connections while the lines arrive).
 */
const PLAIN_ACCEPT_MS = 15_000;
const PLAIN_DELIVERY_MS = 30_000;
/** Where the kernel cannot be asked (not Linux): a longer pause stands in for "the server has accepted". */
const PLAIN_PAUSE_NO_PROC_MS = 2000;

/** Line k of plain client i: distinct bytes per (sender, seq), of varying length, so a cut, merged or swapped line shows. */
function plainLine(i: number, k: number): string {
  return `p ${i} ${k} ${pattern(8 + ((i * 7 + k * 13) % 50), i * 1009 + k + 1).toString('hex')}`;
}

/**
 * Connect `n` plain clients at once, wait until the server has accepted
 * every one (and PLAIN_PAUSE_MS beyond), then each sends its lines; every
 * client must get every line of every client (its own included), byte for
 * byte, once, in each sender's order.
 *
 * "Accepted" as the client can know it: its connect() returned, and the
 * kernel holds nothing for the server to take (no connection left in the
 * listener's accept queue, no handshake half done; /proc/net/tcp). A line
 * sent after that was sent after the server's accept of every receiver.
 */
async function plainClientsGetEverything(port: number, n: number): Promise<void> {
  const socks = await Promise.all(Array.from({ length: n }, () => connect(port)));
  try {
    const texts = socks.map(() => '');
    const newlines = socks.map(() => 0);
    const complete = new Wakeup();
    const want = n * PLAIN_LINES;
    /** Clients that have all `want` lines. */
    let whole = 0;
    socks.forEach((s, r) => {
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        texts[r] = (texts[r] ?? '') + d;
        const before = newlines[r] ?? 0;
        let after = before;
        for (let at = d.indexOf('\n'); at >= 0; at = d.indexOf('\n', at + 1)) after++;
        newlines[r] = after;
        if (before < want && after >= want && ++whole === n) complete.wake();
      });
    });
    const accepted = performance.now() + PLAIN_ACCEPT_MS;
    let pending = await pendingAccepts(port);
    if (pending === undefined) {
      await sleep(PLAIN_PAUSE_NO_PROC_MS);
    } else {
      while (pending !== undefined && (pending.queued > 0 || pending.handshaking > 0)) {
        assert.ok(performance.now() < accepted, `the server took none of ${pending.queued} queued connections (and ${pending.handshaking} handshakes) in ${PLAIN_ACCEPT_MS / 1000} s`);
        await sleep(20);
        pending = await pendingAccepts(port);
      }
      await sleep(PLAIN_PAUSE_MS);
    }
    assert.ok(texts.every((t) => t === ''), 'no client sent yet, so none may have received anything');
    await Promise.all(socks.map(async (s, i) => {
      for (let k = 0; k < PLAIN_LINES; k++) {
        s.write(`${plainLine(i, k)}\n`);
        await sleep(PLAIN_GAP_MS);
      }
    }));
    const deadline = performance.now() + PLAIN_DELIVERY_MS;
    while (whole < n && performance.now() < deadline) await complete.sleep(Math.min(200, deadline - performance.now()));
    // A duplicate would come after the last expected line: give it a moment to show.
    await sleep(100);

    const tally = { lost: 0, duplicated: 0, reordered: 0, corrupt: 0 };
    const firstFaults: string[] = [];
    const fault = (kind: keyof typeof tally, what: string, count = 1): void => {
      tally[kind] += count;
      if (firstFaults.length < 5) firstFaults.push(what);
    };
    texts.forEach((text, r) => {
      const lines = text.split('\n');
      if (lines.at(-1) !== '') fault('corrupt', `client ${r}: ends in a partial line ${JSON.stringify(lines.at(-1)?.slice(0, 40))}`);
      const seen = Array.from({ length: n }, () => new Set<number>());
      const last = Array.from({ length: n }, () => -1);
      for (const line of lines.slice(0, -1)) {
        const m = /^p (\d+) (\d+) /.exec(line);
        const i = Number(m?.[1]);
        const k = Number(m?.[2]);
        const from = seen[i];
        if (m === null || from === undefined || k >= PLAIN_LINES || line !== plainLine(i, k)) {
          fault('corrupt', `client ${r}: ${JSON.stringify(line.slice(0, 40))} is no line any client sent`);
          continue;
        }
        if (from.has(k)) fault('duplicated', `client ${r}: line ${k} of client ${i} twice`);
        else if (k < (last[i] ?? -1)) fault('reordered', `client ${r}: line ${k} of client ${i} after line ${last[i]}`);
        from.add(k);
        last[i] = Math.max(last[i] ?? -1, k);
      }
      seen.forEach((from, i) => {
        const missing = PLAIN_LINES - from.size;
        if (missing > 0) fault('lost', `client ${r}: ${missing} of ${PLAIN_LINES} lines of client ${i} never came`, missing);
      });
    });
    assert.deepEqual(
      tally,
      { lost: 0, duplicated: 0, reordered: 0, corrupt: 0 },
      `${n} plain clients, ${PLAIN_LINES} lines each, ${n * n * PLAIN_LINES} deliveries: ${JSON.stringify(tally)}; first: ${firstFaults.join('; ')}`,
    );
  } finally {
    for (const s of socks) s.destroy();
  }
}

export function chatCases(ctx: CaseContext): void {
  test('every line reaches every client, the sender included, in each sender\'s order', async () => {
    await inGroup(ctx.server().port, 5, async (members) => {
      const socks = members.map((m) => m.s);
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
    });
  });

  test('"quit" and EOF leave; the others keep chatting', async () => {
    await inGroup(ctx.server().port, 3, async ([a, b, c]) => {
      assert.ok(a !== undefined && b !== undefined && c !== undefined);
      const aClosed = readUntilClosed(a.s, 5000);
      a.s.write('quit\n');
      assert.ok((await aClosed).closed, 'expected the server to close the client that sent quit');
      b.s.end();
      const cGot = c.lines.take(1);
      c.s.write('still here\n');
      assert.deepEqual(await cGot, ['still here'], 'expected the remaining client to get its own line');
    });
  });

  test('a line over 64 KiB closes that connection with an error line', async () => {
    await inGroup(ctx.server().port, 2, async ([a, b]) => {
      assert.ok(a !== undefined && b !== undefined);
      const all = readUntilClosed(a.s, 10_000);
      const junk = pattern(70 * 1024, 5);
      for (let i = 0; i < junk.length; i++) if (junk[i] === 0x0a) junk[i] = 0x20;
      a.s.write(junk);
      const { data, closed } = await all;
      assert.ok(closed, 'expected the connection to be closed');
      assert.match(data.toString('latin1'), /^error: line longer than 65536 bytes\n$/, 'expected exactly one error line');
      const bGot = b.lines.take(1);
      b.s.write('after\n');
      assert.deepEqual(await bGot, ['after'], 'the other client must keep working');
    });
  });

  test('lines longer than a send buffer reach every client byte-exact', async () => {
    // 48 KiB lines (under the 64 KiB line cap) outgrow any small send buffer,
    // so each delivery is a short send() whose tail the server must keep.
    // Lock step, one line per sender per round, keeps every client's queue
    // below the write-queue cap.
    await inGroup(ctx.server().port, 3, async (members) => {
      const socks = members.map((m) => m.s);
      const line = (i: number, k: number): string => `big ${i} ${k} ${pattern(48 * 1024, i * 31 + k + 1).toString('hex').slice(0, 48 * 1024)}`;
      for (let k = 0; k < 4; k++) {
        const got = members.map((m) => m.lines.take(socks.length, 20_000));
        socks.forEach((s, i) => s.write(`${line(i, k)}\n`));
        const all = await Promise.all(got);
        all.forEach((lines, r) => {
          const want = socks.map((_, i) => line(i, k));
          assert.deepEqual([...lines].sort(), [...want].sort(), `client ${r}, round ${k}: a line came back cut, missing or duplicated`);
        });
      }
    });
  });

  const slowSkip = ctx.smallSndbuf ? 'with a 4 KiB send buffer its 32 MiB lock step waits on ACKs for tens of seconds; the case above covers short writes' : false;
  test('a client that stops reading is disconnected; the others get everything', { skip: slowSkip }, async () => {
    await inGroup(ctx.server().port, 2, async ([slow, fast]) => {
      assert.ok(slow !== undefined && fast !== undefined);
      slow.s.pause();
      fast.s.removeAllListeners('data');
      const fastGot = new ByteCount(fast.s);
      // Lock step, 64 KiB at a time, so the fast client's own queue stays
      // far below the cap while the slow one's grows past it.
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 1023; i < chunk.length; i += 1024) chunk[i] = 0x0a;
      const rounds = 512; // 32 MiB: past the cap plus any socket buffers
      for (let k = 1; k <= rounds; k++) {
        fast.s.write(chunk);
        const want = k * chunk.length;
        await fastGot.reach(want, 10_000, 200, (got) => `fast client stalled at ${got} of ${want} bytes`);
      }
      assert.equal(fastGot.got, rounds * chunk.length, 'the fast client must get every byte of its own lines');
      slow.s.removeAllListeners('data');
      const rest = readUntilClosed(slow.s, 20_000);
      slow.s.resume();
      const { data, closed } = await rest;
      assert.ok(closed, 'expected the slow consumer to be disconnected');
      assert.ok(data.length < fastGot.got, `the slow consumer got all ${data.length} bytes: it was never cut off`);
    });
  });

  for (const n of [20, 60]) {
    test(`${n} plain clients (no join line) that connect, pause and send: each gets every line sent after its accept, none lost, duplicated or reordered`, async () => {
      await plainClientsGetEverything(ctx.server().port, n);
    });
  }

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
