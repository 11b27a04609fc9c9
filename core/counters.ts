/**
 * The counter kinds a strategy's server keeps. Counters are named events
 * ("accepted", "closed: slow consumer", "errors: protocol" …); the ones that
 * cap a cell are listed here by name and kind, so the contract between a
 * server and the harness is this table, not a prefix someone must match.
 *
 * - refused: connections the server closed at once by design (select's
 *   FD_SETSIZE, a full thread pool or fd table);
 * - starved: connections the server kept waiting for a resource (a thread).
 */
import type { ServerCounters } from './strategy.js';

export const CAP_COUNTERS = {
  fdSetSize: 'refused: FD_SETSIZE',
  poolFull: 'refused: thread pool full',
  fdTableFull: 'refused: fd table full',
  starved: 'starved: waited > 1 s for a thread',
} as const;

export type CapCounter = (typeof CAP_COUNTERS)[keyof typeof CAP_COUNTERS];
export type CapKind = 'refused' | 'starved';

export interface Cap {
  counter: CapCounter;
  kind: CapKind;
  count: number;
}

const KIND: Readonly<Record<CapCounter, CapKind>> = {
  'refused: FD_SETSIZE': 'refused',
  'refused: thread pool full': 'refused',
  'refused: fd table full': 'refused',
  'starved: waited > 1 s for a thread': 'starved',
};

/** The caps among `counters` that are above zero. */
export function capsOf(counters: ServerCounters): Cap[] {
  const out: Cap[] = [];
  for (const [counter, kind] of Object.entries(KIND) as [CapCounter, CapKind][]) {
    const count = counters[counter] ?? 0;
    if (count > 0) out.push({ counter, kind, count });
  }
  return out;
}
