/**
 * The blocking strategy's knobs (StrategyOptions.extra) and the messages
 * between its threads, typed in one place (piscina's src/types.ts habit).
 */
import type { ProtocolSpec } from '../../core/protocol.js';

export const DEFAULT_MAX_THREADS = 256;
/**
 * Connections that may wait for a thread. 1024 lets the classic 1,000-
 * connection cell queue (and show its queue wait) instead of refusing.
 */
export const DEFAULT_MAX_QUEUE = 1024;
/**
 * SO_SNDTIMEO: a send that makes no progress for this long closes the
 * stuck connection ("closed: send timeout"). It bounds how long a slow
 * receiver can hold its write lock, and so every sender behind it.
 */
export const DEFAULT_SEND_TIMEOUT_MS = 2000;
/**
 * An idle pool thread is kept this long, so a new connection reuses it
 * instead of starting one; beyond that it exits and frees its memory and
 * fds.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/** Upper bounds, checked by the CLI. */
export const MAX_THREADS_LIMIT = 10_000;
export const MAX_QUEUE_LIMIT = 1_000_000;

export interface BlockingOptions {
  readonly maxThreads: number;
  readonly maxQueue: number;
  readonly sendTimeoutMs: number;
  /** See DEFAULT_IDLE_TIMEOUT_MS. Not a CLI flag: tests shorten it to churn threads. */
  readonly idleTimeoutMs: number;
  /**
   * Test seam: how long listen() waits for the prestarted threads, instead
   * of the deadline that scales with their number (index.ts). Absent in
   * normal runs.
   */
  readonly prestartTimeoutMs?: number;
}

function intOption(extra: Readonly<Record<string, unknown>>, key: string, dflt: number, min: number, max: number): number {
  const v = extra[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`blocking: ${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

export function blockingOptions(extra: Readonly<Record<string, unknown>>): BlockingOptions {
  const o: BlockingOptions = {
    maxThreads: intOption(extra, 'maxThreads', DEFAULT_MAX_THREADS, 1, MAX_THREADS_LIMIT),
    maxQueue: intOption(extra, 'maxQueue', DEFAULT_MAX_QUEUE, 0, MAX_QUEUE_LIMIT),
    sendTimeoutMs: intOption(extra, 'sendTimeoutMs', DEFAULT_SEND_TIMEOUT_MS, 1, 3_600_000),
    idleTimeoutMs: intOption(extra, 'idleTimeoutMs', DEFAULT_IDLE_TIMEOUT_MS, 1, 3_600_000),
  };
  return {
    ...o,
    ...(extra['prestartTimeoutMs'] === undefined ? {} : { prestartTimeoutMs: intOption(extra, 'prestartTimeoutMs', 0, 1, 3_600_000) }),
  };
}

/** What every pool thread and the acceptor need (a SharedArrayBuffer is shared, not copied). */
export interface ThreadData {
  readonly sab: SharedArrayBuffer;
  readonly spec: ProtocolSpec;
  readonly sendTimeoutMs: number;
  /** Acceptor only. */
  readonly listenFd?: number;
  readonly maxInFlight?: number;
}

export function isThreadData(v: unknown): v is ThreadData {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return d['sab'] instanceof SharedArrayBuffer && typeof d['spec'] === 'object' && typeof d['sendTimeoutMs'] === 'number';
}

/** Acceptor → main: an accepted connection, registered QUEUED in the table. */
export interface AcceptedMsg {
  readonly fd: number;
  readonly id: number;
  /** nowUs() when accept(2) returned. */
  readonly acceptedUs: number;
}

/**
 * Pool thread → main (piscina's 'message' event), once per thread: this
 * thread finished loading its modules (koffi included) and takes a
 * connection without start-up cost from now on.
 */
export interface LoadedMsg {
  readonly blockingThreadLoaded: number; // the thread's threadId
}

export function isLoadedMsg(v: unknown): v is LoadedMsg {
  return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)['blockingThreadLoaded'] === 'number';
}

/**
 * Main → pool, at prestart: load this thread's modules (koffi, the
 * protocol) and serve nothing, so its first connection costs no start-up.
 * Run through connection.ts's `loadThread` export.
 */
export interface LoadTask {
  readonly data: ThreadData;
}

/** Pool → main: the threadId that loaded, or -1 (stopping: nothing was loaded). */
export interface LoadResult {
  readonly loadedThread: number;
}

export function isLoadResult(v: unknown): v is LoadResult {
  return typeof v === 'object' && v !== null && typeof (v as Record<string, unknown>)['loadedThread'] === 'number';
}

/** Main → pool: one connection task, alive as long as the connection. */
export interface ConnectionTask extends AcceptedMsg {
  readonly data: ThreadData;
}

/** Pool → main when the connection ends. */
export interface ConnectionResult {
  /** accept → a thread took it, µs. */
  readonly waitUs: number;
  /** False: the server stopped before a thread served it. */
  readonly served: boolean;
  /** The thread did not load FFI (stopping): the main thread closes the fd. */
  readonly closeInMain?: boolean;
}
