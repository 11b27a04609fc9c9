/**
 * The client half of a workload: a load driver that opens connections,
 * generates load and verifies every reply.
 */
import type { ProtocolOptions } from '../../core/protocol.js';
import type { HttpClientSpec } from '../../workloads/http/client.js';

export interface DriverOptions {
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Unmeasured load before the window, seconds. */
  readonly warmupSec: number;
  /** Measured window, seconds. */
  readonly durationSec: number;
  /** A reply slower than this is counted as a timeout and its connection dropped. */
  readonly timeoutMs: number;
  /** Connects in flight at once (10,000 connections open reliably in batches). */
  readonly connectConcurrency: number;
  /** Deadline for the whole connect phase, ms. */
  readonly connectTimeoutMs: number;
  /** TCP workloads: the load generator, "selector" (default where it runs) or "net" (node:net). */
  readonly tcpDriver?: string;
  /**
   * Open loop: total ops/s across all connections, sent on a fixed schedule
   * whatever the replies do. 0 or absent: closed loop.
   */
  readonly rate?: number;
  /** Workload options (messageSize, …), as the server got them. */
  readonly protocol: ProtocolOptions;
  /**
   * http: the request and how its replies are verified (workloads/http/client.ts).
   * Absent: GET / and our page byte for byte.
   */
  readonly http?: HttpClientSpec;
  /** http: which load generator drives it, "native" (default) or "autocannon". */
  readonly httpDriver?: string;
  /** Load threads the connections are spread over (default 1). */
  readonly loadThreads?: number;
  /** Test seam: one load thread busy-waits `forMs`, `afterMs` into the window (a stalled load side, not a stalled server). */
  readonly stall?: { readonly afterMs: number; readonly forMs: number };
  /** Each load thread has reached its steady state (its workload's ready()); the load child waits for all before `warmed`. */
  readonly onReady?: () => void;
  /**
   * A WindowGate's shared memory (window-gate.ts): when given, the window
   * opens when the gate says, not `warmupSec` after connecting; the load
   * until then is warm-up. The load child passes one so it can hold the
   * warm-up until the server serves every connection.
   */
  readonly gate?: SharedArrayBuffer;
  /**
   * Phase changes, so the harness can align its /proc samples with the
   * window. `atMs` is when the driver entered the phase, on the wall clock
   * every thread and process shares (see phaseClock): a phase message can sit
   * in a worker's or child's message queue for milliseconds, so its arrival
   * time is not the phase's time.
   */
  readonly onPhase?: (phase: DriverPhase, atMs: number) => void;
}

export type DriverPhase = 'connected' | 'measuring' | 'draining';

/**
 * A performance.now() reading (default: now) as epoch milliseconds. Each
 * thread has its own performance.timeOrigin, so only timeOrigin + now()
 * compares across a worker and its parent.
 */
export function phaseClock(now = performance.now()): number {
  return performance.timeOrigin + now;
}

/** Everything a driver measured in its window. Plain JSON. */
export interface DriverResult {
  /** The load generator that produced these numbers ("net", "autocannon", …). */
  driver?: string;
  /** Connections that completed the handshake. */
  established: number;
  /** Operations completed and verified inside the window. */
  ops: number;
  /** Payload bytes moved inside the window (both directions). */
  bytes: number;
  /** Length of the measured window as the driver timed it, seconds. */
  windowSec: number;
  /** Serialized HDR histogram of per-op latency, µs. */
  histogram: string;
  /** Failures by kind: connect, reset, closed, timeout, verify, … */
  errors: Record<string, number>;
  /** Open loop: ops/s the schedule asked for (absent when closed loop). */
  targetRate?: number;
  /** Workload-specific figures (chat deliveries, lost, duplicated, …). */
  extra: Record<string, number>;
  /** Extra serialized histograms (chat delivery latency …), µs. */
  histograms?: Record<string, string>;
  /** Per load thread: its connections and its own CPU over the window (absent where it could not be read). */
  threads?: { connections: number; cpuSeconds?: number }[];
}

export function bumpError(errors: Record<string, number>, kind: string, n = 1): void {
  errors[kind] = (errors[kind] ?? 0) + n;
}
