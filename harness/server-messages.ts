/**
 * The server child's IPC, typed in one place (the load child's are in
 * load-child.ts): the orchestrator sends `start`, the child answers
 * `ready` (or `fatal`), answers each `poll` with `counters`, and on `stop`
 * closes its server and answers `stopped` with its final counters.
 * `iomodels serve` keeps its text interface for people and outside tools;
 * this is the harness's own channel.
 */
import type { Cap } from '../core/counters.js';
import type { StrategyOptions, ServerCounters } from '../core/strategy.js';
import type { ProtocolOptions } from '../core/protocol.js';

export interface ServerStart {
  type: 'start';
  strategy: string;
  workload: string;
  options: ProtocolOptions;
  host: string;
  port: number;
  strategyOptions: Partial<StrategyOptions>;
}

export type ServerRequest = ServerStart | { type: 'poll' } | { type: 'stop' };

export interface ServerStartup {
  ms: number;
  threads: number;
}

export type ServerMessage =
  | {
      type: 'ready';
      host: string;
      port: number;
      /** The strategy reports `serving` in its counters replies: it has a start-up phase the warm-up waits for. */
      tracksServing: boolean;
      /** The most connections it can serve at once (blocking: --max-threads); absent: no such limit. */
      servingLimit?: number;
      startup?: ServerStartup;
    }
  /** Could not start: one line, as `serve` would print it. */
  | { type: 'fatal'; message: string }
  | { type: 'counters'; counters: ServerCounters; caps: Cap[]; serving?: number }
  | { type: 'stopped'; counters: ServerCounters; caps: Cap[] };

/** A message from the child is one of ours (anything else is ignored, never trusted). */
export function isServerMessage(m: unknown): m is ServerMessage {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'ready' || t === 'fatal' || t === 'counters' || t === 'stopped';
}
