/**
 * The repetitions of one cell, grouped, and one point with a 95% confidence
 * interval per group. The report, its charts and `check` all read cells
 * through groupCells, so they key a cell the same way: every sweep
 * dimension (connections, idle, …) joins the key here, once.
 */
import type { Cell } from '../core/results.js';
import { estimate, type Estimate } from './stats.js';

/** Cells of one (strategy, workload, connections, idle), all repetitions. */
export interface CellGroup {
  workload: string;
  strategy: string;
  connections: number;
  /** Idle connections held beside the active ones (0 for files that predate the field). */
  idle: number;
  /** Every repetition, in rep order. */
  cells: Cell[];
  /** The repetitions that measured something (status ok or capped). */
  usable: Cell[];
  /** failed: no usable rep. capped: some usable rep was capped. */
  status: 'ok' | 'capped' | 'failed';
  /** Some usable rep was client-bound: its numbers are a floor for the server. */
  clientBound: boolean;
}

/** A cell's idle connections: absent in files written before the field existed, which means none. */
export function idleOf(c: { idle?: number }): number {
  return c.idle ?? 0;
}

/**
 * The key `check` prints and `--normalize-to` names: "strategy/workload/connections",
 * with "/idle=N" only when N > 0, so keys of files without idle cells (old
 * baselines) are unchanged.
 */
export function cellKey(c: { strategy: string; workload: string; connections: number; idle?: number }): string {
  const idle = idleOf(c);
  return `${c.strategy}/${c.workload}/${c.connections}${idle > 0 ? `/idle=${idle}` : ''}`;
}

/** Group cells by (strategy, workload, connections, idle), sorted by workload, strategy, connections, idle. */
export function groupCells(cells: readonly Cell[]): CellGroup[] {
  const byKey = new Map<string, Cell[]>();
  for (const c of cells) {
    const key = JSON.stringify([c.workload, c.strategy, c.connections, idleOf(c)]);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [c]);
    else list.push(c);
  }
  const groups: CellGroup[] = [];
  for (const list of byKey.values()) {
    const first = list[0];
    if (first === undefined) continue;
    const sorted = [...list].sort((a, b) => a.rep - b.rep);
    const usable = sorted.filter((c) => c.status !== 'failed');
    groups.push({
      workload: first.workload,
      strategy: first.strategy,
      connections: first.connections,
      idle: idleOf(first),
      cells: sorted,
      usable,
      status: usable.length === 0 ? 'failed' : usable.some((c) => c.status === 'capped') ? 'capped' : 'ok',
      clientBound: usable.some((c) => c.clientBound),
    });
  }
  return groups.sort(
    (a, b) => a.workload.localeCompare(b.workload) || a.strategy.localeCompare(b.strategy) || a.connections - b.connections || a.idle - b.idle,
  );
}

/**
 * The idle count the per-connection tables and charts show, so they never
 * mix cells that held different idle loads: 0 where it was measured (every
 * sweep without --idle), else the fewest idle connections measured.
 */
export function baseIdle(groups: readonly CellGroup[]): number {
  return groups.length === 0 ? 0 : Math.min(...groups.map((g) => g.idle));
}

/** The active-connection counts of a workload measured at more than one idle count: each gets idle charts. */
export function idleSweeps(groups: readonly CellGroup[]): { connections: number; idle: number[] }[] {
  const byConnections = new Map<number, Set<number>>();
  for (const g of groups) {
    const set = byConnections.get(g.connections) ?? new Set<number>();
    set.add(g.idle);
    byConnections.set(g.connections, set);
  }
  return [...byConnections]
    .filter(([, idle]) => idle.size > 1)
    .map(([connections, idle]) => ({ connections, idle: [...idle].sort((a, b) => a - b) }))
    .sort((a, b) => a.connections - b.connections);
}

/** Estimate of a per-cell metric over a group's usable reps (undefined values skipped). */
export function groupEstimate(g: CellGroup, metric: (c: Cell) => number | undefined): Estimate {
  const vals: number[] = [];
  for (const c of g.usable) {
    const v = metric(c);
    if (v !== undefined) vals.push(v);
  }
  return estimate(vals);
}

/** A cell named on the command line (`check --normalize-to`). */
export interface CellRef {
  strategy: string;
  workload: string;
  connections: number;
  /** Idle connections of the cell; absent means 0. */
  idle?: number;
}
