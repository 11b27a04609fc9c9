/**
 * Which strategy did best among cells measured alike (one row of a table):
 * the one place the report names a winner, so every table follows the same
 * rules. A winner must be a statement about servers, not about the load
 * generator or the noise:
 * - client-bound cells measured the load child, so a row with any of them
 *   is ranked by server CPU per op (lower is better), which the server
 *   pays whoever is the bottleneck;
 * - leaders whose 95% intervals overlap are a tie;
 * - one repetition has no interval at all, so it names no winner;
 * - capped cells refused part of the load and failed ones measured nothing,
 *   so neither is ranked.
 */
import type { Cell } from '../core/results.js';
import { groupEstimate, type CellGroup } from './aggregate.js';
import { overlaps, type Estimate } from './stats.js';

/** What a row is ranked by: ops/s (higher is better) or server CPU µs per op (lower is better). */
export type RankMetric = 'throughput' | 'cpu';

export interface Ranked {
  group: CellGroup;
  est: Estimate;
}

export type Ranking =
  /** Nothing to rank (every cell capped or failed), or too little to rank by: `why` says which. */
  | { kind: 'none'; why: string }
  /** One rankable cell: nothing to compare it with. */
  | { kind: 'alone'; group: CellGroup }
  /** A leader whose interval overlaps no other's. */
  | { kind: 'winner'; metric: RankMetric; leader: Ranked }
  /** The leader and every cell whose interval overlaps the leader's, best first. */
  | { kind: 'tie'; metric: RankMetric; tied: Ranked[] };

/** Server CPU µs per op of a cell, when the server's CPU was measured and it completed ops. */
export function serverCpuPerOp(c: Cell): number | undefined {
  return c.ops > 0 && c.server.cpuUsPerOp > 0 ? c.server.cpuUsPerOp : undefined;
}

/** The metric a row of these groups is compared by. */
export function rankMetric(groups: readonly CellGroup[]): RankMetric {
  return groups.some((g) => g.status !== 'failed' && g.clientBound) ? 'cpu' : 'throughput';
}

/** The median and interval of a group under a metric. */
export function metricEstimate(g: CellGroup, metric: RankMetric): Estimate {
  return metric === 'cpu' ? groupEstimate(g, serverCpuPerOp) : groupEstimate(g, (c) => c.opsPerSec);
}

/** Rank the groups of one row (same workload, connections and idle; one per strategy). */
export function rankGroups(groups: readonly CellGroup[]): Ranking {
  const candidates = groups.filter((g) => g.status === 'ok');
  if (candidates.length === 0) return { kind: 'none', why: groups.length === 0 ? 'nothing measured' : 'every cell capped or failed' };
  const [only] = candidates;
  if (candidates.length === 1 && only !== undefined) return { kind: 'alone', group: only };
  // Any client-bound cell in the row makes throughput a comparison of load
  // generators, so the whole row is ranked by what the servers paid.
  const metric = rankMetric(candidates);
  const ranked = candidates.map((group) => ({ group, est: metricEstimate(group, metric) }));
  const fewest = Math.min(...ranked.map((r) => r.est.n));
  if (fewest === 0) return { kind: 'none', why: 'client-bound, and no server CPU was measured' };
  if (fewest < 2) return { kind: 'none', why: `${fewest} repetition` };
  ranked.sort((a, b) => (metric === 'cpu' ? a.est.median - b.est.median : b.est.median - a.est.median));
  const [leader, ...rest] = ranked;
  if (leader === undefined) return { kind: 'none', why: 'nothing measured' };
  const close = rest.filter((r) => overlaps(r.est, leader.est));
  return close.length === 0 ? { kind: 'winner', metric, leader } : { kind: 'tie', metric, tied: [leader, ...close] };
}
