/** Messages between the load child and its idle-connection thread (idle-worker.ts), typed in one place. */
import type { HttpClientSpec } from '../../workloads/http/client.js';

/** What an idle connection does before it falls silent (Workload.idle). */
export type IdleOpening = 'connect' | 'http-request';

export interface IdleWorkerData {
  host: string;
  port: number;
  count: number;
  opening: IdleOpening;
  /** http: the request and its check, as the active connections have them. */
  http?: HttpClientSpec;
  connectConcurrency: number;
  /** Deadline for opening all of them (and their first exchange), ms. */
  connectTimeoutMs: number;
}

export type IdleToWorker = { type: 'report'; atEpochMs: number } | { type: 'close' };

export type IdleFromWorker =
  | { type: 'held'; established: number; errors: Record<string, number> }
  | { type: 'report'; established: number; open: number; errors: Record<string, number> }
  | { type: 'closed' };

/** What a cell records of its idle connections. */
export interface IdleReport {
  /** Asked for. */
  asked: number;
  /** Completed the handshake (and their first exchange). */
  established: number;
  /** Still open when the window closed. */
  open: number;
  /** Failures by kind: connect …, http … (the reply's), reset, unexpected data. */
  errors: Record<string, number>;
}

/** Epoch ms on the clock every thread and process shares. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
