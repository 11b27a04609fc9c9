/**
 * The load transport on node:net (libuv): the same contract as the
 * Selector transport (selector-transport.ts), for hosts where the FFI layer
 * does not load and as a cross-check of it. Slower per op: node:net
 * allocates per read and per write, and every event goes through libuv's
 * callbacks. Timers drive the window, the sweep and the open-loop schedule.
 */
import * as net from 'node:net';
import type { ClientConn, ClientSession, ClientWorkload } from '../../core/client.js';
import { LoadRecorder } from './recorder.js';
import { openLoopAt, type OpenLoopSchedule } from './schedule.js';
import type { ThreadResult, TransportEvents, TransportOptions } from './load-loop.js';
import { LoadWindow } from './window.js';
import { countUnserved, notYetTaken, TAKEN_POLL_MS } from './unserved.js';

const SWEEP_MS = 100;

class NetConn implements ClientConn {
  alive = true;
  session: ClientSession | undefined;

  constructor(
    readonly t: NetTransport,
    readonly slot: number,
    readonly socket: net.Socket,
  ) {}

  send(buf: Uint8Array, off = 0, len = buf.length - off): void {
    if (!this.alive) return;
    // node:net may hold the buffer until the socket drains, and sessions reuse theirs: copy.
    this.socket.write(Buffer.from(buf.subarray(off, off + len)));
  }

  fail(kind: string): void {
    this.t.drop(this, kind);
  }

  reconnect(): void {
    this.t.reconnect(this);
  }
}

function socketErrorKind(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'reset';
  return err.code ?? 'socket error';
}

export class NetTransport {
  readonly #o: TransportOptions;
  readonly #client: ClientWorkload;
  readonly #ev: TransportEvents;
  readonly #window: LoadWindow;
  readonly #rec: LoadRecorder;
  readonly #conns: (NetConn | undefined)[] = [];
  readonly #issuers: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #established = 0;
  #rr = 0;
  #saidReady = false;
  #stalled = false;

  constructor(o: TransportOptions, client: ClientWorkload, ev: TransportEvents) {
    this.#o = o;
    this.#client = client;
    this.#ev = ev;
    this.#window = new LoadWindow(
      o,
      (p, at) => ev.phase(p, at),
      () => {
        let n = 0;
        for (const c of this.#conns) if (c?.alive === true) n++;
        this.#established = client.established?.(n) ?? n;
      },
      () => {
        countUnserved(o, this.#conns, this.#window.start, this.#rec, (c) => (c.alive ? c.session : undefined), (c) => ({ host: c.socket.localAddress ?? '', port: c.socket.localPort ?? 0 }));
      },
    );
    this.#rec = new LoadRecorder(this.#window);
    this.#issuers = Math.min(o.count, client.issuers ?? o.count);
  }

  /** Connect, load, measure, drain; resolves with what this thread measured. */
  async run(): Promise<ThreadResult> {
    await this.#connectAll();
    const w = this.#window;
    const now = performance.now();
    w.connected(now);
    if (this.#o.rate > 0) this.#openLoop(openLoopAt(this.#o, now));
    else for (const c of this.#conns) if (c?.alive === true) c.session?.onStart(now);
    this.#every(SWEEP_MS, () => this.#sweep());
    // The window's phases, the ready signal and the stall seam, on a short tick.
    await new Promise<void>((resolve) => {
      const step = (): void => {
        const t = performance.now();
        const next = w.tick(t);
        if (!this.#saidReady && (this.#client.ready?.() ?? true)) {
          this.#saidReady = true;
          this.#ev.ready();
        }
        const stall = this.#o.stall;
        if (stall !== undefined && !this.#stalled && w.phase === 'measuring' && t >= w.start + stall.afterMs) {
          this.#stalled = true;
          const until = t + stall.forMs;
          while (performance.now() < until) {
            // spin: the load side stalls, not the server
          }
        }
        if (w.phase === 'draining') {
          resolve();
          return;
        }
        this.#after(Math.max(1, Math.min(next, t + 20) - t), step);
      };
      step();
    });
    const drainUntil = performance.now() + this.#o.drainMs;
    while (!(this.#client.drained?.() ?? true) && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 10));
    // Counted before the connections close (chat counts what live clients never got).
    const fin = this.#client.finish?.() ?? {};
    this.close();
    return this.#rec.result('net', this.#established, fin);
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#window.finish();
    for (const c of this.#conns) if (c !== undefined) this.drop(c, null);
  }

  drop(c: NetConn, kind: string | null, reconnecting = false): void {
    if (!c.alive) return;
    c.alive = false;
    if (kind !== null) this.#rec.error(kind);
    c.socket.destroy();
    c.session?.onClose(reconnecting);
  }

  reconnect(c: NetConn): void {
    const again = this.#window.running;
    this.drop(c, null, again);
    if (!again) return;
    void this.#openSlot(c.slot - this.#o.first).then((n) => {
      if (n !== undefined && this.#o.rate === 0 && this.#window.running) n.session?.onStart(performance.now());
    });
  }

  #after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #every(ms: number, fn: () => void): void {
    this.#after(ms, () => {
      fn();
      if (this.#window.phase !== 'done') this.#every(ms, fn);
    });
  }

  /** Open every slot, `connectConcurrency` at a time, within the connect deadline. */
  async #connectAll(): Promise<void> {
    let next = 0;
    const deadline = performance.now() + this.#o.connectTimeoutMs;
    const lane = async (): Promise<void> => {
      while (next < this.#o.count && performance.now() < deadline) await this.#openSlot(next++);
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.count, Math.max(1, this.#o.connectConcurrency)) }, lane));
    // The load starts on connections the server holds (unserved.ts, notYetTaken).
    const addressOf = (c: NetConn): { host: string; port: number } => ({ host: c.socket.localAddress ?? '', port: c.socket.localPort ?? 0 });
    while (performance.now() < deadline && notYetTaken(this.#o, this.#conns, (c) => c.alive, addressOf) > 0) {
      await new Promise((r) => setTimeout(r, TAKEN_POLL_MS));
    }
  }

  #openSlot(index: number): Promise<NetConn | undefined> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: this.#o.host, port: this.#o.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        this.#rec.error('connect timeout');
        resolve(undefined);
      }, this.#o.connectTimeoutMs);
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        this.#rec.error(`connect ${err.code ?? 'error'}`);
        resolve(undefined);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        const c = new NetConn(this, this.#o.first + index, socket);
        this.#conns[index] = c;
        socket.on('data', (chunk: Buffer) => {
          if (c.alive) c.session?.onData(chunk, performance.now());
        });
        socket.on('error', (err: NodeJS.ErrnoException) => this.drop(c, socketErrorKind(err)));
        // EOF: the session says whether it was a failure (http: a close that was announced is not).
        socket.on('end', () => {
          if (c.alive) c.session?.onEnd?.(performance.now());
          if (c.alive) this.drop(c, 'closed');
        });
        socket.on('close', () => this.drop(c, 'closed'));
        c.session = this.#client.session(c, this.#rec);
        c.session.onOpen(performance.now());
        resolve(c);
      });
    });
  }

  #sweep(): void {
    const now = performance.now();
    for (const c of this.#conns) {
      if (c?.alive === true && now - (c.session?.oldestInFlight() ?? Number.POSITIVE_INFINITY) > this.#o.timeoutMs) this.drop(c, c.session?.timeoutKind?.() ?? 'timeout');
    }
    this.#client.sweep?.(now, this.#o.timeoutMs, this.#rec);
  }

  #openLoop(schedule: OpenLoopSchedule): void {
    const w = this.#window;
    const tick = (): void => {
      if (!w.running) return;
      const next = schedule.run(
        performance.now(),
        (intended) => {
          const n = this.#issuers;
          for (let tries = n; tries > 0; tries--) {
            const c = this.#conns[this.#rr++ % n];
            if (c?.alive === true && c.session?.issue(intended) === true) return true;
          }
          return false;
        },
        (intended) => {
          if (w.inWindow(intended)) this.#rec.error('unsent');
        },
      );
      this.#after(Math.max(1, Math.ceil(next - performance.now())), tick);
    };
    tick();
  }
}
