/**
 * The one interface every IO strategy implements (wrk's aeApi* in spirit):
 * a strategy moves bytes between sockets and a Protocol and knows nothing of
 * echo, chat or HTTP.
 */
import type { ProtocolSpec } from './protocol.js';

/** Bytes a connection may have queued unsent before it is closed. */
export const DEFAULT_WRITE_QUEUE_CAP = 4 * 1024 * 1024;

export interface StrategyOptions {
  /** Unsent bytes per connection before it is closed and counted. */
  readonly writeQueueCap: number;
  /** listen() backlog. */
  readonly backlog: number;
  /**
   * SO_SNDBUF asked for every accepted socket (set on the listener, which
   * they inherit); 0: the system default (autotuned). A small one makes
   * send() return short counts and EAGAIN early (the write-queue path).
   */
  readonly sndbufBytes: number;
  /**
   * Connections the cell will serve at once. A strategy with a start-up
   * phase gets ready for that many before listen() resolves, as real
   * thread-per-connection servers keep spare threads (Apache's StartServers,
   * Tomcat's minSpareThreads): blocking starts min(prestart, maxThreads)
   * pool threads. 0: no preparation.
   */
  readonly prestart: number;
  /** Strategy-specific knobs (e.g. blocking's maxThreads); JSON-safe. */
  readonly extra: Readonly<Record<string, string | number | boolean>>;
}

export const DEFAULT_STRATEGY_OPTIONS: StrategyOptions = {
  writeQueueCap: DEFAULT_WRITE_QUEUE_CAP,
  backlog: 4096,
  sndbufBytes: 0,
  prestart: 0,
  extra: {},
};

/**
 * Named event counts a server accumulates: "accepted", "closed: write queue
 * full", "refused: FD_SETSIZE", "errors: protocol" … The harness reads them
 * from the `stats` line `serve` prints when it stops. A non-zero "refused: …"
 * or "starved: …" counter marks the cell `capped`.
 */
export type ServerCounters = Record<string, number>;

export interface StrategyServer {
  readonly name: string;
  /** Bind, listen and start serving; resolves with the bound address. */
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  /** Stop accepting, close every connection, release threads. Bounded. */
  close(): Promise<void>;
  /** A snapshot of the counters (may lag a worker thread by a moment). */
  counters(): ServerCounters;
  /**
   * Connections being served right now, for a strategy with a start-up
   * phase (blocking: connections that hold a thread). The harness holds the
   * warm-up until this reaches the cell's active connections, so the window
   * measures the model in its steady state. Absent: every accepted
   * connection is served at once.
   */
  serving?(): number;
  /**
   * The most connections it can serve at once (blocking: --max-threads).
   * A cell asking for more is capped without waiting for a count that can
   * never come.
   */
  servingLimit?(): number;
  /** What the start-up phase cost (absent: the strategy has none). */
  startup?(): { ms: number; threads: number };
}

/** Builds a server; may load its protocol first (a strategy that serves on the calling thread). */
export type StrategyFactory = (protocol: ProtocolSpec, opts: StrategyOptions) => StrategyServer | Promise<StrategyServer>;

/** Increment a named counter. */
export function bump(counters: ServerCounters, kind: string, n = 1): void {
  counters[kind] = (counters[kind] ?? 0) + n;
}
