/**
 * The client half of a workload, sans-IO (as Protocol is the server half):
 * what to send, how a reply is verified, what counts as one operation. A
 * load transport in harness/load/ (the Selector loop, node:net) owns the
 * sockets and the clock and runs any client: it opens connections, hands
 * each a ClientSession, feeds it the bytes that arrive, sends what it asks
 * to send, and keeps the measured window. wrk's `struct sock` split in the
 * same place: the load logic never asks which transport runs it.
 */
import type { ProtocolOptions } from './protocol.js';

/** One connection of the load, as its session sees it. Owned by the transport. */
export interface ClientConn {
  /** Which of the load's connections this is (global across load threads; a reconnect keeps it). */
  readonly slot: number;
  /**
   * Send buf[off, off + len), in order. The transport sends what the socket
   * takes now and copies the rest into the connection's queue, so a session
   * may reuse `buf` as soon as this returns. Never loses bytes.
   */
  send(buf: Uint8Array, off?: number, len?: number): void;
  /** Drop the connection as failed, counting `kind` (verify, …). */
  fail(kind: string): void;
  /** Close cleanly and open the slot again (HTTP `Connection: close`); not a failure. */
  reconnect(): void;
}

/** Where sessions report what they measured. Owned by the transport; times are performance.now() ms. */
export interface ClientRecorder {
  /** One verified op that started (closed loop: was sent; open loop: was due) at `start` completed at `now`, moving `bytes` both ways. Counted when `now` is inside the window. */
  complete(start: number, now: number, bytes: number): void;
  /** Whether `t` is inside the measured window. */
  inWindow(t: number): boolean;
  /** Ops may still be started: the window has not closed. */
  readonly running: boolean;
  /** Count a failure that does not end a connection. */
  error(kind: string, n?: number): void;
  /** Count a workload figure (reported in the result's `extra`, e.g. chat deliveries inside the window). */
  count(name: string, n?: number): void;
}

export interface ClientSession {
  /** The connection is open (again): a handshake goes here (chat's join); no load yet. */
  onOpen(now: number): void;
  /** Closed loop: the load starts on this open connection (when the connect phase ends, or at once on a reconnect while it runs). */
  onStart(now: number): void;
  /** Open loop: one op is due at `intended` (latency counts from it); false if this connection cannot take one now. */
  issue(intended: number): boolean;
  /** Bytes arrived at `now`. The view is only valid during the call. */
  onData(bytes: Uint8Array, now: number): void;
  /**
   * The peer closed its side (EOF). The session says what that means:
   * `conn.reconnect()` (an announced close, a body framed by the close) or
   * `conn.fail(kind)`. Absent, or neither called: a failure, `closed`.
   */
  onEnd?(now: number): void;
  /** The connection is gone: `reconnecting` when the slot is opened again (reconnect()), not a failure. */
  onClose(reconnecting: boolean): void;
  /** Start time of the oldest op in flight, for the transport's timeout sweep; +Infinity when none. */
  oldestInFlight(): number;
  /** The error kind of an op that outlived the timeout (absent: `timeout`). */
  timeoutKind?(): string;
}

/** What a client workload needs to know about its load. */
export interface ClientOptions {
  /** Connections of the whole load (slots are 0 … connections-1 across every load thread). */
  readonly connections: number;
  /** The slots this load thread owns: [first, first + count). */
  readonly first: number;
  readonly count: number;
  /** Open loop (ops/s of the whole load > 0) or closed loop. */
  readonly openLoop: boolean;
  /** Workload options, as the server got them. */
  readonly protocol: ProtocolOptions;
  /** Where the load goes (an HTTP Host header names it). */
  readonly host: string;
  readonly port: number;
  /** What only this workload's client reads, JSON-safe (http: its request and how replies are checked). */
  readonly clientSpec?: unknown;
}

/** A workload's client side for one load thread: a session per connection, and what only the workload knows. */
export interface ClientWorkload {
  session(conn: ClientConn, rec: ClientRecorder): ClientSession;
  /** Open loop: ops go to the first `issuers` of this thread's slots (chat: its senders). Absent: every slot. */
  readonly issuers?: number;
  /**
   * The load has reached its steady state and the window may open (chat:
   * every client has joined the group). Absent: as soon as it is connected.
   */
  ready?(): boolean;
  /** Called about every 100 ms with the timeout: expire what is overdue (chat's in-flight messages). */
  sweep?(now: number, timeoutMs: number, rec: ClientRecorder): void;
  /** After the window: whether what is still in flight has arrived (the transport keeps reading until it has, or a deadline). */
  drained?(): boolean;
  /**
   * At the end: the workload's own failure counts (chat: lost, duplicated,
   * reordered), counts for the result's `extra` (summed over load threads),
   * and figures that describe the load (the same in every thread, e.g. http's
   * pipelining depth).
   */
  finish?(): { errors?: Record<string, number>; counts?: Record<string, number>; figures?: Record<string, number> };
  /** `established` as the window opens, when it is not the open connections (http: a slot between two connections counts). */
  established?(open: number): number;
}

/** What a client module (a workload's client.ts, named by the workload) exports. */
export interface ClientModule {
  createClient(options: ClientOptions): ClientWorkload;
}
