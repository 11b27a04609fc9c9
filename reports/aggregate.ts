/**
 * Repetitions → one point with a 95% confidence interval, per cell: the
 * report's tables and charts read cells through these groups.
 */
import type { Cell } from '../harness/results.js';
import { estimate, type Estimate } from './stats.js';

/** Cells of one (workload, strategy, connections), all repetitions. */
export interface CellGroup {
  workload: string;
  strategy: string;
  connections: number;
  /** Every repetition, in rep order. */
  cells: Cell[];
  /** The repetitions that measured something (status ok or capped). */
  usable: Cell[];
  /** failed: no usable rep. capped: some usable rep was capped. */
  status: 'ok' | 'capped' | 'failed';
  /** Some usable rep was client-bound: its numbers are a floor for the server. */
  clientBound: boolean;
}

/** Group cells by (workload, strategy, connections), sorted by those keys. */
export function groupCells(cells: readonly Cell[]): CellGroup[] {
  const byKey = new Map<string, Cell[]>();
  for (const c of cells) {
    const key = JSON.stringify([c.workload, c.strategy, c.connections]);
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
      cells: sorted,
      usable,
      status: usable.length === 0 ? 'failed' : usable.some((c) => c.status === 'capped') ? 'capped' : 'ok',
      clientBound: usable.some((c) => c.clientBound),
    });
  }
  return groups.sort(
    (a, b) => a.workload.localeCompare(b.workload) || a.strategy.localeCompare(b.strategy) || a.connections - b.connections,
  );
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
