/**
 * The sans-IO contract between a workload and a strategy (h11/hyper style).
 *
 * A workload's server half is a `Protocol`: bytes in, bytes out, no sockets
 * and no timers of its own. A strategy owns the sockets and moves bytes
 * between them and one `Session` per connection. Everything here must work
 * in any thread, so a protocol is described by a serializable `ProtocolSpec`
 * and re-created in each thread that needs it.
 */

/** One accepted connection, as a session sees it. Owned by the strategy. */
export interface Conn {
  /** Unique per server process (not reused while the server lives). */
  readonly id: number;
  /**
   * Send bytes, in order. The strategy sends what the socket takes now and
   * keeps the unsent tail, copying anything it keeps out of its own reusable
   * receive buffer, so echo may write the receive view straight back.
   * Protocols never mutate bytes after passing them here. Never loses
   * bytes: a connection whose unsent queue passes the cap is closed and
   * counted, not silently truncated.
   */
  write(bytes: Uint8Array): void;
  /** Flush what is queued, then close. Idempotent. */
  close(): void;
}

/** The set of live connections of one server, for fan-out (chat). */
export interface Hub {
  /** Queue `bytes` on every live connection, the caller's included. */
  broadcast(bytes: Uint8Array): void;
  /** Live connections right now. */
  readonly size: number;
}

/** Per-connection protocol state. */
export interface Session {
  /** Bytes arrived from the peer. The view is only valid during the call. */
  onData(bytes: Uint8Array): void;
  /** The peer closed (EOF), reset, or the server is shutting down. */
  onClose(): void;
  /**
   * Called by the strategy at least once a second while the connection
   * lives, so protocols can implement deadlines (HTTP 408, idle close)
   * without owning timers.
   */
  tick?(nowMs: number): void;
}

export interface Protocol {
  open(conn: Conn, hub: Hub): Session;
  /**
   * The reason a strategy records when it closes a connection of this
   * protocol because its write queue passed the cap, e.g. "slow consumer".
   */
  readonly overflowReason?: string;
}

/** JSON-safe options shared by a workload's server and client halves. */
export type ProtocolOptions = Readonly<Record<string, string | number | boolean>>;

/**
 * A serializable description of a protocol; every thread rebuilds it from
 * this alone: `module` names the module that builds it, so a strategy (and
 * each of its threads) imports that one module and nothing of the workloads.
 */
export interface ProtocolSpec {
  readonly workload: string;
  readonly options: ProtocolOptions;
  /** URL of a module that exports a ProtocolModule's functions. */
  readonly module: string;
}

/**
 * What a sans-IO protocol may ask of the strategy beyond moving bytes: the
 * server cost knobs it cannot perform itself without IO of its own. The
 * strategy side implements it (strategies/protocol-loader.ts), so every
 * strategy honours a knob the same way, and the protocol stays pure.
 */
export interface ProtocolHost {
  /** Enter the kernel `n` times with a call that changes nothing (getpid): the --extra-syscalls knob. */
  syscalls(n: number): void;
}

/** What the module a spec names exports. */
export interface ProtocolModule {
  createProtocol(options: ProtocolOptions, host?: ProtocolHost): Protocol;
  /**
   * HTTP workloads: the same responses as an HTTP responder, for a strategy
   * that parses HTTP itself (node-http, with node:http's llhttp) and only
   * asks what to answer.
   */
  createHttpResponder?(options: ProtocolOptions, host?: ProtocolHost): HttpResponder;
}

/** An HTTP workload's answers, for a strategy that brings its own parser. */
export interface HttpResponder {
  /** Limits and timers the strategy's parser must apply, as the workload's own parser does. */
  readonly limits: { readonly maxHeaderBytes: number; readonly maxBody: number; readonly headerTimeoutMs: number; readonly idleTimeoutMs: number };
  /** The response to a complete request (its body already read), and whether the connection stays open. */
  respond(method: string, url: string, clientKeepAlive: boolean): HttpAnswer;
  /** The whole response (head and body) to a request the strategy's parser refused (400, 408, 413, 431 …); the connection closes. */
  refusal(status: number): Uint8Array;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number>>;
  /** Empty for HEAD. */
  readonly body: Uint8Array;
  readonly keepAlive: boolean;
}
