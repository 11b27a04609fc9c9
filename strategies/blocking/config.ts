/**
 * The blocking strategy's knobs (StrategyOptions.extra) and the messages
 * between its threads, typed in one place (piscina's src/types.ts habit).
 */
import type { ProtocolSpec } from '../../workloads/protocol.js';

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
/** Upper bounds, checked by the CLI. */
export const MAX_THREADS_LIMIT = 10_000;
export const MAX_QUEUE_LIMIT = 1_000_000;

export interface BlockingOptions {
  readonly maxThreads: number;
  readonly maxQueue: number;
  readonly sendTimeoutMs: number;
  /**
   * Test seam: a module URL exporting `createProtocol(options)`, used by the
   * pool threads instead of the workload registry (a protocol that throws,
   * a fan-out fixture). Absent in normal runs.
   */
  readonly protocolModule?: string;
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
  };
  const pm = extra['protocolModule'];
  return typeof pm === 'string' ? { ...o, protocolModule: pm } : o;
}

/** What every pool thread and the acceptor need (a SharedArrayBuffer is shared, not copied). */
export interface ThreadData {
  readonly sab: SharedArrayBuffer;
  readonly spec: ProtocolSpec;
  readonly sendTimeoutMs: number;
  readonly protocolModule?: string;
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
