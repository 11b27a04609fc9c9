/**
 * Repetitions → one point with a 95% confidence interval. A private helper of
 * the reports (harness statistics for the regression gate live elsewhere):
 * the point is the median of the reps, the interval a percentile bootstrap of
 * the median with a fixed-seed RNG, so the same results.json always draws the
 * same bars.
 */
import type { Cell } from '../harness/results.js';
import { median, seededRandom } from '../harness/stats.js';

export interface Estimate {
  /** Median of the values. */
  median: number;
  /** 95% CI bounds; equal to the median when n < 2. */
  lo: number;
  hi: number;
  n: number;
}

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

const BOOTSTRAP_RESAMPLES = 2000;

/** The same seeded PRNG the statistics of `check` use (mulberry32). */
export const mulberry32 = seededRandom;

/** Quantile of already sorted values (R type 7), without re-sorting. */
function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[Math.ceil(pos)] ?? NaN;
  return a + (b - a) * (pos - lo);
}

/** Median and a 95% percentile-bootstrap CI of the median. NaN values are ignored. */
export function estimate(values: readonly number[], seed = 0x10a0de15): Estimate {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { median: NaN, lo: NaN, hi: NaN, n: 0 };
  const m = median(xs);
  if (n < 2) return { median: m, lo: m, hi: m, n };
  const rand = mulberry32(seed);
  const meds = new Float64Array(BOOTSTRAP_RESAMPLES);
  const sample = new Array<number>(n);
  for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
    for (let i = 0; i < n; i++) sample[i] = xs[Math.floor(rand() * n)] ?? m;
    meds[b] = median(sample);
  }
  const sorted = Array.from(meds).sort((x, y) => x - y);
  return { median: m, lo: quantileSorted(sorted, 0.025), hi: quantileSorted(sorted, 0.975), n };
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
