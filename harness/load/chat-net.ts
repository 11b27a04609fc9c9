/**
 * Chat load driver on node:net. Every client connects and joins (sends
 * `h <id>` and waits to see it come back, which proves the server has it in
 * the group); then `senders` of them send messages that carry (sender, seq).
 * Every client reads everything and the ledger checks exactly-once delivery
 * in each sender's order.
 *
 * Fan-out is bounded by default: only `chatSenders` clients (10) send, each
 * closed loop with one message in flight until the LAST client has it; open
 * loop (`rate`) spreads that many messages/s over the senders instead.
 * One op is one message delivered to every client; its latency runs from
 * send until the last client has it.
 */
import type * as net from 'node:net';
import { bumpError, type DriverOptions, type DriverResult } from './driver.js';
import { GrowBuffer } from '../../workloads/grow-buffer.js';
import { encodeHistogram, newHistogram, recordUs } from '../../core/latency.js';
import { boundedAll, LoadClock } from './clock.js';
import { connectWithTimeout, socketErrorKind } from './net-connect.js';
import { ChatLedger, CHAT_DEFAULT_SENDERS, CHAT_MIN_MESSAGE, encodeJoin, encodeMessage, parseLine, type Completed } from '../../workloads/chat/ledger.js';

const NL = 0x0a;
/** How long the join barrier and the final drain may take at most, ms. */
const JOIN_DEADLINE_MS = 20_000;
const DRAIN_DEADLINE_MS = 5_000;

export function chatMessageSize(opts: Pick<DriverOptions, 'protocol'>): number {
  const v = opts.protocol['messageSize'];
  return Math.max(CHAT_MIN_MESSAGE, typeof v === 'number' ? v : 64);
}

export function chatSenders(opts: Pick<DriverOptions, 'protocol' | 'connections'>): number {
  const v = opts.protocol['chatSenders'];
  const n = typeof v === 'number' && v >= 0 ? v : CHAT_DEFAULT_SENDERS;
  return n === 0 ? opts.connections : Math.min(n, opts.connections);
}

interface Client {
  id: number;
  socket: net.Socket;
  alive: boolean;
  joined: boolean;
  partial: GrowBuffer;
}

export async function runChatDriver(opts: DriverOptions): Promise<DriverResult> {
  const size = chatMessageSize(opts);
  const senders = chatSenders(opts);
  const openLoop = (opts.rate ?? 0) > 0;
  const hist = newHistogram();
  const errors: Record<string, number> = {};
  const clock = new LoadClock(opts);
  const ledger = new ChatLedger(opts.connections, senders);
  const clients: Client[] = [];
  let sending = false;
  let ops = 0;
  let deliveries = 0;
  let bytes = 0;
  let joinedCount = 0;
  let onJoined: (() => void) | null = null;

  const completed = (c: Completed): void => {
    const now = performance.now();
    if (clock.inWindow(now)) {
      ops++;
      recordUs(hist, (now - c.start) * 1000);
    }
    const sender = clients[c.sender];
    if (!openLoop && sending && clock.running && sender?.alive === true) send(sender, now);
  };

  const drop = (c: Client, kind: string | null): void => {
    if (!c.alive) return;
    c.alive = false;
    // Failures after the window closed are our own teardown, not the server's.
    if (kind !== null && clock.running) bumpError(errors, kind);
    c.socket.destroy();
    ledger.leave(c.id, completed);
  };

  const send = (c: Client, start: number): void => {
    const seq = ledger.send(c.id, start);
    const msg = encodeMessage(c.id, seq, size);
    if (clock.inWindow(start)) bytes += msg.length;
    c.socket.write(msg);
  };

  const onLine = (c: Client, b: Uint8Array, start: number, end: number, now: number): void => {
    const line = parseLine(b, start, end, size);
    if (line.kind === 'message') {
      const outcome = ledger.deliver(c.id, line.sender, line.seq, completed);
      if (outcome === 'unknown') bumpError(errors, 'verify');
      else if (outcome !== 'duplicated' && clock.inWindow(now)) {
        deliveries++;
        bytes += end + 1 - start;
      }
    } else if (line.kind === 'join') {
      if (line.client === c.id && !c.joined) {
        c.joined = true;
        ledger.join(c.id);
        joinedCount++;
        onJoined?.();
      }
    } else {
      bumpError(errors, 'verify');
    }
  };

  const onData = (c: Client, chunk: Buffer): void => {
    const now = performance.now();
    let off = 0;
    if (c.partial.length > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        c.partial.append(chunk);
        if (c.partial.length > 2 * size + 64) drop(c, 'verify');
        return;
      }
      c.partial.append(chunk.subarray(0, nl + 1));
      const v = c.partial.view();
      onLine(c, v, 0, v.length - 1, now);
      c.partial.clear();
      off = nl + 1;
    }
    while (off < chunk.length && c.alive) {
      const nl = chunk.indexOf(NL, off);
      if (nl < 0) {
        c.partial.append(chunk.subarray(off));
        return;
      }
      onLine(c, chunk, off, nl, now);
      off = nl + 1;
    }
  };

  await boundedAll(opts.connections, opts.connectConcurrency, opts.connectTimeoutMs, async (i) => {
    const r = await connectWithTimeout(opts.host, opts.port, opts.connectTimeoutMs);
    if (!r.ok) {
      bumpError(errors, r.kind);
      return;
    }
    const c: Client = { id: i, socket: r.socket, alive: true, joined: false, partial: new GrowBuffer(2 * size) };
    clients[i] = c;
    r.socket.on('data', (chunk: Buffer) => onData(c, chunk));
    r.socket.on('error', (err: NodeJS.ErrnoException) => drop(c, socketErrorKind(err)));
    r.socket.on('close', () => drop(c, 'closed'));
    r.socket.write(encodeJoin(i));
  });
  const live = (): Client[] => clients.filter((c) => c.alive);

  // Join barrier: a message sent after every client saw its own join line
  // reaches a server that has every client in its group.
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (joinedCount >= live().length) finish();
    };
    const timer = setTimeout(() => finish(), JOIN_DEADLINE_MS);
    const finish = (): void => {
      clearTimeout(timer);
      onJoined = null;
      resolve();
    };
    onJoined = check;
    check();
  });
  for (const c of live()) if (!c.joined) drop(c, 'join timeout');

  let established = 0;
  const sweep = setInterval(() => {
    const expired = ledger.expire(performance.now() - opts.timeoutMs);
    if (expired > 0 && clock.running) bumpError(errors, 'timeout', expired);
    // A closed-loop sender whose message timed out sends the next one.
    if (expired > 0 && !openLoop && clock.running) {
      for (let s = 0; s < senders; s++) {
        const c = clients[s];
        if (c?.alive === true && ledger.inFlight(s) === 0) send(c, performance.now());
      }
    }
  }, 100);

  clock.onWindowOpen(() => {
    established = live().length;
  });
  const measuring = clock.run();

  sending = true;
  if (!openLoop) {
    const t0 = performance.now();
    for (let s = 0; s < senders; s++) {
      const c = clients[s];
      if (c?.alive === true) send(c, t0);
    }
  } else {
    // Only the first `senders` clients send; the others only receive.
    clock.openLoop({
      rate: opts.rate ?? 0,
      pool: clients,
      limit: senders,
      usable: (c) => c.alive,
      send,
      onUnsent: () => bumpError(errors, 'unsent'),
    });
  }

  await measuring;
  sending = false;
  // Let what is in flight arrive before counting what was lost.
  const drainUntil = performance.now() + Math.min(opts.timeoutMs, DRAIN_DEADLINE_MS);
  while (ledger.totalInFlight > 0 && performance.now() < drainUntil) {
    await new Promise((r) => setTimeout(r, 10));
  }
  clearInterval(sweep);
  const liveSenders: number[] = [];
  for (let s = 0; s < senders; s++) if (clients[s]?.alive === true) liveSenders.push(s);
  ledger.countLost(liveSenders);
  for (const c of clients) if (c !== undefined) drop(c, null);

  const sent = ledger.sent.reduce((a, b) => a + b, 0);
  for (const kind of ['lost', 'duplicated', 'reordered'] as const) {
    if (ledger[kind] > 0) bumpError(errors, kind, ledger[kind]);
  }
  const encoded = encodeHistogram(hist);
  const result: DriverResult = {
    driver: 'net',
    established,
    ops,
    bytes,
    windowSec: opts.durationSec,
    histogram: encoded,
    histograms: { delivery: encoded },
    errors,
    extra: {
      senders,
      messagesSent: sent,
      deliveries,
      deliveriesPerSec: deliveries / opts.durationSec,
      lost: ledger.lost,
      duplicated: ledger.duplicated,
      reordered: ledger.reordered,
    },
  };
  if (openLoop) result.targetRate = opts.rate ?? 0;
  return result;
}
