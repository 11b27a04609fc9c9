/**
 * `iomodels check`: the CI regression gate. For every cell two results
 * files share, and every metric of it both sides measured, it gives one of
 * three verdicts from an interval of the change:
 * - REGRESSION: the interval lies past the tolerance on the bad side;
 * - OK: the interval lies inside ±tolerance: no change larger than that;
 * - INCONCLUSIVE: neither; it says what change it could have seen and about
 *   how many more repetitions would settle it.
 * (An interval past the tolerance on the good side is "improved".)
 *
 * The metrics: throughput and server CPU per op (timing, noisy on a shared
 * runner), and from the anatomy syscalls per op, in total and by name, and
 * context switches per op (counted, stable run to run). The interval is a
 * Student t interval of the log ratio of geometric means, at the level
 * Holm's procedure assigns it across every metric of every cell gated at
 * once, so an A/A table of many cells does not find a regression by
 * chance. CI runners are noisy, so the gate must neither cry wolf nor say
 * "no change" when it could not have seen one.
 */
import { cellKey, groupCells, type CellRef } from './aggregate.js';
import { fmtRate } from './format.js';
import { serverCpuPerOp, type RankMetric } from './verdict.js';
import { UsageError } from '../core/errors.js';
import type { Anatomy, Cell, Results } from '../core/results.js';
import { estimate, halfWidth, holm, logChange, median, pAbove, repsToResolve, type Estimate, type LogChange } from './stats.js';

export interface CheckOptions {
  /** Results files of the reference run(s); several are pooled (interleaved A/B runs). */
  baseline: readonly string[];
  /** Results files of the run(s) under test. */
  current: readonly string[];
  /** Smallest change that counts, as a fraction (0.05 = 5%). */
  tolerance: number;
  /** Family-wise error level of the whole table (Holm). */
  alpha: number;
  /** Divide every timing metric by this cell of the same file (machine-speed normalization). */
  normalizeTo?: CellRef;
  /** Write a comparison chart here. */
  png?: string;
}

/** The verdict of one metric of one cell. */
export type MetricVerdict = 'regression' | 'ok' | 'improved' | 'inconclusive' | 'not gated';

export type Verdict =
  | 'regression'
  | 'ok'
  | 'improved'
  | 'inconclusive'
  /** No metric of the cell could be gated: client-bound throughput and no server CPU figure (an external target without --target-pid). */
  | 'unreliable (client-bound)'
  | 'failed'
  /** The baseline's server refused or kept waiting part of the load and the current one serves all of it: different loads, not gated. */
  | 'baseline capped'
  | 'reference'
  | 'only in baseline'
  | 'only in current';

/** The timing metric a cell is drawn by: ops/s (lower is worse), or server CPU µs per op (higher is worse). */
export type Metric = RankMetric;

export interface Side {
  /** The drawn timing metric per usable repetition (normalized when asked), in rep order. */
  values: number[];
  median: number;
  /** The same estimate the report draws for these repetitions. */
  ci: Estimate;
  /** Repetitions that failed and were left out. */
  failed: number;
  /** Repetitions that did not fail. */
  usable: number;
  /** Some usable repetition was client-bound. */
  clientBound: boolean;
  /** Why the cell failed, when every repetition did. */
  reason?: string;
  /** Why a usable repetition was capped (the server refused or kept waiting part of the load), when one was. */
  capped?: string;
}

/** One metric of one cell, compared. */
export interface MetricComparison {
  /** "throughput", "cpu", "syscalls", "syscalls:NAME", "ctxsw". */
  id: string;
  /** How the table names it ("ops/s", "syscalls/op", "epoll_wait/op", …). */
  label: string;
  kind: 'timing' | 'counted';
  /** Which way is worse. */
  worse: 'higher' | 'lower';
  baseline: number[];
  current: number[];
  /** Ratio of the geometric means minus 1 (+0.25: 25% more); counts: of count + COUNT_OFFSET. */
  change: number;
  /** The interval of the change (ratio − 1) at `level`. */
  lo: number;
  hi: number;
  /** One-sided level the interval was drawn at: what Holm held this metric to (its two-sided level is 1 − 2·level). */
  level: number;
  /** Unadjusted one-sided p that the change is worse than the tolerance. */
  p: number;
  verdict: MetricVerdict;
  /** Why a metric is shown but not gated. */
  why?: string;
  /** The interval's half-width as a ratio (0.08: ±8%): the resolution of this comparison. */
  resolution: number;
  /** INCONCLUSIVE: the smallest change on the bad side this comparison could have reported (as a fraction). */
  detectable?: number;
  /** INCONCLUSIVE: about how many more repetitions a side would settle it, if the noise stays as it was (> 1000: the change sits on the tolerance). */
  moreReps?: number;
  /** The log-scale estimate the interval comes from. */
  log: LogChange;
}

export interface Comparison {
  /** "strategy/workload/connections", "/idle=N" appended when N > 0 (cellKey). */
  cell: string;
  /** The timing metric the chart draws: throughput when it is gated, else server CPU per op. */
  metric: Metric;
  baseline?: Side;
  current?: Side;
  /** Relative change of the drawn metric's median, current vs baseline. */
  change: number;
  /** The cell's verdict: REGRESSION if any metric is one, else INCONCLUSIVE if any is, else improved if any is, else OK. */
  verdict: Verdict;
  metrics: MetricComparison[];
  notes: string[];
}

export interface CheckOutcome {
  comparisons: Comparison[];
  /** Cells with a regression. */
  regressions: number;
  /** Gated metrics neither REGRESSION, OK nor improved. */
  inconclusive: number;
  /** Every gated metric resolved (REGRESSION, OK or improved): more repetitions would not change the table's meaning. */
  resolved: boolean;
  /** Every compared cell already has a regression: more repetitions cannot turn the gate green. */
  settled: boolean;
  markdown: string;
  /** 0 no regression, 1 regression(s). Unusable input throws a UsageError (exit 2). */
  exitCode: 0 | 1;
}

/** Repetitions by cell key (reports/aggregate.ts groupCells: the report's grouping), in rep order. */
function groupByKey(cells: readonly Cell[]): Map<string, Cell[]> {
  return new Map(groupCells(cells).map((g) => [cellKey(g), g.cells]));
}

function usable(c: Cell): boolean {
  return c.status !== 'failed';
}

/**
 * Server-side cost knobs: they change how much work the server does per
 * request, not what goes over the wire, so two runs that differ only in
 * them measure the same thing, and a slower one is exactly the kind of
 * regression the gate exists to catch (`--work-us` and `--extra-syscalls`
 * are how CI proves it).
 */
const SERVER_COST_KNOBS = new Set(['workUs', 'extraSyscalls']);

/** Key order-independent JSON of the wire-visible workload options. */
function canonical(o: Record<string, unknown> | undefined): string {
  if (o === undefined || o === null) return '{}';
  const wire = Object.entries(o).filter(([k]) => !SERVER_COST_KNOBS.has(k));
  return JSON.stringify(Object.fromEntries(wire.sort(([a], [b]) => a.localeCompare(b))));
}

/** The metric's value of one repetition, when it has one. */
function metricOf(c: Cell, metric: Metric): number | undefined {
  return metric === 'cpu' ? serverCpuPerOp(c) : c.opsPerSec;
}

/** Per-rep divisors of one metric: the same rep of the reference where it has one, else the reference's median. */
interface Divisors {
  throughput: (rep: number) => number;
  /** NaN where the reference has no server CPU figure (its cells are then left without CPU values). */
  cpu: (rep: number) => number;
}

function divisorOf(reps: readonly Cell[], metric: Metric): (rep: number) => number {
  const measured = reps.flatMap((c) => {
    const v = metricOf(c, metric);
    return v !== undefined && v > 0 ? [[c.rep, v] as const] : [];
  });
  const byRep = new Map(measured);
  const med = measured.length === 0 ? Number.NaN : median(measured.map(([, v]) => v));
  return (rep) => byRep.get(rep) ?? med;
}

/**
 * The reference cell's divisors, for each metric. Throws when the file
 * lacks the cell or its every repetition failed.
 */
function referenceDivisors(file: string, groups: Map<string, Cell[]>, ref: CellRef): Divisors {
  const key = cellKey(ref);
  const reps = (groups.get(key) ?? []).filter((c) => usable(c) && c.opsPerSec > 0);
  if (reps.length === 0) {
    const why = groups.has(key) ? 'it has no successful repetition' : 'no such cell';
    throw new UsageError(`${file}: --normalize-to reference cell ${key} is unusable (${why})`);
  }
  return { throughput: divisorOf(reps, 'throughput'), cpu: divisorOf(reps, 'cpu') };
}

function side(cells: readonly Cell[], metric: Metric, divisors: Divisors | undefined): Side {
  const ok = cells.filter(usable);
  const values = ok.flatMap((c) => {
    const v = metricOf(c, metric);
    const x = v === undefined ? Number.NaN : divisors === undefined ? v : v / divisors[metric](c.rep);
    return Number.isFinite(x) ? [x] : [];
  });
  const ci = estimate(values);
  const s: Side = {
    values,
    median: ci.median,
    ci,
    failed: cells.length - ok.length,
    usable: ok.length,
    clientBound: ok.some((c) => c.clientBound),
  };
  if (ok.length === 0) {
    const reason = cells.find((c) => c.reason !== undefined)?.reason;
    if (reason !== undefined) s.reason = reason;
  }
  const capped = ok.find((c) => c.status === 'capped');
  if (capped !== undefined) s.capped = capped.reason ?? 'capped';
  return s;
}

/** How a side is named in messages: its file, or its first file and a count. */
export function sideLabel(files: readonly string[]): string {
  return files.length <= 1 ? (files[0] ?? '') : `${files[0] ?? ''} (+${files.length - 1} more)`;
}

/**
 * Pool several results files of one side into one: CI can alternate base
 * and head runs (A B A B …) so drift hits both alike, then compare the
 * pools. Repetition indices are renumbered so they stay distinct, file by
 * file. Files of one side must measure the same thing.
 */
export function poolResults(files: readonly string[], loaded: readonly Results[]): Results {
  const first = loaded[0];
  if (first === undefined) throw new UsageError('no results file given');
  loaded.forEach((r, i) => {
    const f = files[i] ?? '';
    if (r.cells.length === 0) throw new UsageError(`${f}: no cells (an empty or interrupted run): nothing to compare`);
    if (canonical(r.plan.protocol) !== canonical(first.plan.protocol) || (r.plan.rate ?? 0) !== (first.plan.rate ?? 0)) {
      throw new UsageError(`${f}: plan.protocol/rate differ from ${files[0] ?? ''} of the same side; pooled runs must measure the same thing`);
    }
  });
  if (loaded.length === 1) return first;
  const cells: Cell[] = [];
  let offset = 0;
  for (const r of loaded) {
    const span = Math.max(...r.cells.map((c) => c.rep)) + 1;
    for (const c of r.cells) cells.push({ ...c, rep: c.rep + offset });
    offset += span;
  }
  return { ...first, complete: loaded.every((r) => r.complete), cells };
}

/** Refuse pairs of files that measure different things (exit 2). */
function checkComparable(o: CheckOptions, base: Results, cur: Results): void {
  const bl = sideLabel(o.baseline);
  const cl = sideLabel(o.current);
  if (base.cells.length === 0) throw new UsageError(`${bl}: no cells (an empty or interrupted run): nothing to compare`);
  if (cur.cells.length === 0) throw new UsageError(`${cl}: no cells (an empty or interrupted run): nothing to compare`);
  const bp = canonical(base.plan.protocol);
  const cp = canonical(cur.plan.protocol);
  if (bp !== cp) throw new UsageError(`${cl}: workload options plan.protocol ${cp} differ from the baseline's ${bp} (${bl}); the runs measure different things`);
  if ((base.plan.rate ?? 0) !== (cur.plan.rate ?? 0)) {
    throw new UsageError(`${cl}: plan.rate ${cur.plan.rate} differs from the baseline's ${base.plan.rate} (${bl}); runs at different rates are not comparable`);
  }
}

/**
 * Counts per op are compared as count + this: a change among events rarer
 * than one per ten ops (a context switch per few hundred requests, a
 * batched io_uring_enter) is not what a 5% tolerance is about, and such
 * rare counts swing widely from run to run; with the offset they stay
 * inside the band, while one
 * more syscall or wake-up per op still shows in full. A log needs no zeros.
 */
export const COUNT_OFFSET = 0.1;
/**
 * A syscall is gated by name when it is at least this share of its side's
 * syscalls: smaller ones come and go with the anatomy's 1% cut, and what
 * they add is in the total anyway.
 */
const NAME_SHARE = 0.1;

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function draft(id: string, label: string, kind: MetricComparison['kind'], worse: MetricComparison['worse'], baseline: number[], current: number[], why?: string): MetricComparison {
  const m: MetricComparison = {
    id,
    label,
    kind,
    worse,
    baseline,
    current,
    change: Number.NaN,
    lo: Number.NaN,
    hi: Number.NaN,
    level: Number.NaN,
    p: 1,
    verdict: why === undefined ? 'inconclusive' : 'not gated',
    resolution: Number.NaN,
    log: logChange(baseline, current, kind === 'counted' ? COUNT_OFFSET : 0),
  };
  if (why !== undefined) m.why = why;
  m.change = Math.exp(m.log.d) - 1;
  return m;
}

/**
 * Throughput and server CPU per op. Which of them is gated is decided from
 * both sides' repetitions as a whole, never from one: throughput is gated
 * while fewer than half of all usable repetitions were client-bound (then
 * it is mostly the server's number); server CPU per op, which the server
 * pays whoever is the bottleneck, is gated wherever both sides have it. So
 * one repetition that happened to be client-bound changes no metric's role.
 */
function timingMetrics(bOk: readonly Cell[], cOk: readonly Cell[], bDiv: Divisors | undefined, cDiv: Divisors | undefined, normalized: boolean): MetricComparison[] {
  const vals = (cells: readonly Cell[], metric: Metric, div: Divisors | undefined): number[] =>
    cells.flatMap((c) => {
      const v = metricOf(c, metric);
      const x = v === undefined ? Number.NaN : div === undefined ? v : v / div[metric](c.rep);
      return Number.isFinite(x) && x > 0 ? [x] : [];
    });
  const total = bOk.length + cOk.length;
  const cb = bOk.filter((c) => c.clientBound).length + cOk.filter((c) => c.clientBound).length;
  const tWhy = 2 * cb >= total ? `client-bound in ${cb} of ${total} repetitions: mostly the load generator's number` : undefined;
  const bc = vals(bOk, 'cpu', bDiv);
  const cc = vals(cOk, 'cpu', cDiv);
  const cWhy = bc.length === 0 || cc.length === 0 ? `no server CPU figure in ${bc.length === 0 && cc.length === 0 ? 'either run' : bc.length === 0 ? 'the baseline' : 'the current run'} (an external target needs --target-pid)` : undefined;
  return [
    draft('throughput', normalized ? 'ops/s ÷ ref' : 'ops/s', 'timing', 'lower', vals(bOk, 'throughput', bDiv), vals(cOk, 'throughput', cDiv), tWhy),
    draft('cpu', normalized ? 'CPU/op ÷ ref' : 'server CPU µs/op', 'timing', 'higher', bc, cc, cWhy),
  ];
}

/**
 * Syscalls per op (in total and by name) and context switches per op, from
 * the anatomy, over the repetitions both sides counted the same way: perf
 * where each side has perf-counted repetitions, else /proc (they count
 * different things, so the two are never mixed). A repetition counted the
 * other way, or not at all (perf can fail on a window), is left out, and
 * the note says so.
 */
function countedMetrics(bOk: readonly Cell[], cOk: readonly Cell[], notes: string[]): MetricComparison[] {
  const all = (cells: readonly Cell[]): Anatomy[] => cells.flatMap((c) => (c.server.anatomy === undefined ? [] : [c.server.anatomy]));
  const bAll = all(bOk);
  const cAll = all(cOk);
  if (bAll.length === 0 && cAll.length === 0) return [];
  const source = (['perf', 'proc'] as const).find((src) => bAll.some((a) => a.source === src) && cAll.some((a) => a.source === src));
  if (source === undefined) {
    notes.push(`the anatomy was counted in ${bAll.length} of ${bOk.length} baseline and ${cAll.length} of ${cOk.length} current repetitions, never the same way on both sides: counts not compared`);
    return [];
  }
  const ba = bAll.filter((a) => a.source === source);
  const ca = cAll.filter((a) => a.source === source);
  if (ba.length < bOk.length || ca.length < cOk.length) {
    notes.push(`counts from the repetitions counted by ${source}: ${ba.length} of ${bOk.length} baseline, ${ca.length} of ${cOk.length} current (the others were counted another way or not at all)`);
  }
  const out: MetricComparison[] = [];
  const totalsB = ba.map((a) => a.syscallsPerOp);
  const totalsC = ca.map((a) => a.syscallsPerOp);
  const hasTotal = [...totalsB, ...totalsC].every((t) => t !== null);
  if (hasTotal) out.push(draft('syscalls', 'syscalls/op', 'counted', 'higher', totalsB.map((t) => t ?? 0), totalsC.map((t) => t ?? 0)));
  const names = [...new Set([...ba, ...ca].flatMap((a) => Object.keys(a.syscalls)))].filter((n) => n !== 'other').sort();
  const totalOf = (a: Anatomy): number => a.syscallsPerOp ?? Object.values(a.syscalls).reduce((x, y) => x + y, 0);
  const tb = mean(ba.map(totalOf));
  const tc = mean(ca.map(totalOf));
  for (const name of names) {
    const vb = ba.map((a) => a.syscalls[name] ?? 0);
    const vc = ca.map((a) => a.syscalls[name] ?? 0);
    if (mean(vb) >= NAME_SHARE * tb || mean(vc) >= NAME_SHARE * tc) out.push(draft(`syscalls:${name}`, `${name}/op`, 'counted', 'higher', vb, vc));
  }
  const cs = (a: Anatomy): number => a.contextSwitchesPerOp.voluntary + a.contextSwitchesPerOp.involuntary;
  out.push(draft('ctxsw', 'context switches/op', 'counted', 'higher', ba.map(cs), ca.map(cs)));
  return out;
}

/** One-sided p that a metric is worse than the tolerance. */
function pRegression(m: MetricComparison, tol: number): number {
  const L = m.log;
  return m.worse === 'higher' ? pAbove(L, Math.log(1 + tol)) : pAbove({ ...L, d: -L.d }, -Math.log(1 - tol));
}

function hasInterval(m: MetricComparison): boolean {
  return m.log.nBaseline >= 2 && m.log.nCurrent >= 2 && m.log.df > 0;
}

/** The metric's interval at `level` and the verdict it gives. */
function decide(m: MetricComparison, tol: number, level: number): void {
  const L = m.log;
  const h = hasInterval(m) ? halfWidth(L, level) : Number.POSITIVE_INFINITY;
  const up = Math.log(1 + tol);
  const down = Math.log(1 - tol);
  const lo = L.d - h;
  const hi = L.d + h;
  m.level = level;
  m.lo = Math.exp(lo) - 1;
  m.hi = Math.exp(hi) - 1;
  m.resolution = Math.exp(h) - 1;
  const badHigh = m.worse === 'higher';
  if (badHigh ? lo > up : hi < down) m.verdict = 'regression';
  else if (badHigh ? hi < down : lo > up) m.verdict = 'improved';
  else if (lo >= down && hi <= up) m.verdict = 'ok';
  else {
    m.verdict = 'inconclusive';
    if (!Number.isFinite(h)) return;
    m.detectable = badHigh ? Math.exp(up + h) - 1 : Math.exp(down - h) - 1;
    // The nearest way out: past a boundary the estimate is already beyond, or inside the band it sits in.
    const gap = L.d > up ? L.d - up : L.d < down ? down - L.d : Math.min(up - L.d, L.d - down);
    m.moreReps = Math.max(1, repsToResolve(L.sd, gap, level) - Math.min(L.nBaseline, L.nCurrent));
  }
}

/** Compare two loaded results files. Pure apart from UsageErrors for unusable input. */
export function compareResults(o: CheckOptions, base: Results, cur: Results): CheckOutcome {
  checkComparable(o, base, cur);
  const bg = groupByKey(base.cells);
  const cg = groupByKey(cur.cells);
  const common = [...bg.keys()].filter((k) => cg.has(k));
  if (common.length === 0) {
    const list = (m: Map<string, Cell[]>): string => {
      const ks = [...m.keys()];
      return ks.slice(0, 4).join(', ') + (ks.length > 4 ? `, … (${ks.length})` : '');
    };
    throw new UsageError(`${sideLabel(o.current)}: no cell in common with the baseline ${sideLabel(o.baseline)} (baseline: ${list(bg)}; current: ${list(cg)})`);
  }
  const ref = o.normalizeTo;
  const normalized = ref !== undefined;
  const bDiv = ref === undefined ? undefined : referenceDivisors(sideLabel(o.baseline), bg, ref);
  const cDiv = ref === undefined ? undefined : referenceDivisors(sideLabel(o.current), cg, ref);
  const refKey = ref === undefined ? undefined : cellKey(ref);

  const keys = [...bg.keys(), ...[...cg.keys()].filter((k) => !bg.has(k))];
  const comparisons: Comparison[] = [];
  /** Cells whose metrics the gate decides (the rest have a verdict of their own). */
  const gated: Comparison[] = [];
  for (const key of keys) {
    const bCells = bg.get(key);
    const cCells = cg.get(key);
    const cmp: Comparison = { cell: key, metric: 'throughput', change: Number.NaN, verdict: 'ok', metrics: [], notes: [] };
    comparisons.push(cmp);
    if (bCells === undefined || cCells === undefined) {
      cmp.verdict = bCells === undefined ? 'only in current' : 'only in baseline';
      const only = bCells ?? cCells ?? [];
      cmp[bCells === undefined ? 'current' : 'baseline'] = side(only, 'throughput', bCells === undefined ? cDiv : bDiv);
      continue;
    }
    const bOk = bCells.filter(usable);
    const cOk = cCells.filter(usable);
    const timing = bOk.length > 0 && cOk.length > 0 ? timingMetrics(bOk, cOk, bDiv, cDiv, normalized) : [];
    // The chart and the cell's headline follow the gated timing metric.
    cmp.metric = timing[0]?.why === undefined ? 'throughput' : 'cpu';
    const b = side(bCells, cmp.metric, bDiv);
    const c = side(cCells, cmp.metric, cDiv);
    cmp.baseline = b;
    cmp.current = c;
    for (const [name, s] of [['baseline', b], ['current', c]] as const) {
      if (s.failed > 0 && s.usable > 0) cmp.notes.push(`${s.failed} failed ${name} repetition(s) left out`);
    }
    if (b.usable === 0 || c.usable === 0) {
      cmp.verdict = 'failed';
      const which = b.usable === 0 && c.usable === 0 ? 'both runs' : b.usable === 0 ? 'the baseline' : 'the current run';
      cmp.notes.push(`every repetition failed in ${which}${(c.reason ?? b.reason) !== undefined ? `: ${c.reason ?? b.reason ?? ''}` : ''}`);
      continue;
    }
    cmp.metrics = [...timing, ...countedMetrics(bOk, cOk, cmp.notes)];
    if (b.values.length > 0 && c.values.length > 0) cmp.change = c.median / b.median - 1;
    const tp = timing[0];
    if (tp?.why !== undefined) cmp.notes.push(`throughput not gated: ${tp.why}; server CPU µs/op carries the timing`);
    if (key === refKey) {
      cmp.verdict = 'reference';
      cmp.notes.push('normalization reference: 1 on both sides by construction');
      for (const m of cmp.metrics) if (m.kind === 'timing') Object.assign(m, { verdict: 'not gated', why: 'the normalization reference' });
    }
    // A capped cell measured a server that served only part of the load, so
    // a capped side and a full side measured different loads. Newly capped
    // is a regression whatever the numbers say (fewer connections served can
    // even read faster); capped only in the baseline is not gated.
    if (b.capped !== undefined && c.capped === undefined) {
      cmp.verdict = 'baseline capped';
      cmp.notes.push(`the baseline was capped (${b.capped}) and the current run serves the whole load: they measured different loads, so the change is shown but not gated`);
      for (const m of cmp.metrics) Object.assign(m, { verdict: 'not gated', why: 'baseline capped' });
      continue;
    }
    if (c.capped !== undefined && b.capped === undefined) {
      cmp.verdict = 'regression';
      cmp.notes.push(`newly capped: ${c.capped}; the baseline served this load in full`);
      for (const m of cmp.metrics) Object.assign(m, { verdict: 'not gated', why: 'newly capped' });
      continue;
    }
    if (c.capped !== undefined) cmp.notes.push(`capped in both runs (current: ${c.capped}): compared as measured`);
    // The reference's timing is 1 by construction, but its counts are not normalized: they are gated like any cell's.
    gated.push(cmp);
  }

  // One family: every gated metric of every cell, each a one-sided test of
  // "worse than the tolerance". Metrics without an interval (fewer than two
  // repetitions a side) test nothing and do not dilute the others.
  const family = gated.flatMap((c) => c.metrics.filter((m) => m.verdict !== 'not gated' && hasInterval(m)));
  for (const m of family) m.p = pRegression(m, o.tolerance);
  const { level } = holm(
    family.map((m) => m.p),
    o.alpha,
  );
  family.forEach((m, i) => decide(m, o.tolerance, level[i] ?? o.alpha));
  const fallback = o.alpha / Math.max(1, family.length);
  for (const c of gated) {
    for (const m of c.metrics) if (m.verdict !== 'not gated' && !hasInterval(m)) decide(m, o.tolerance, fallback);
    const vs = c.metrics.filter((m) => m.verdict !== 'not gated').map((m) => m.verdict);
    if (vs.length === 0) {
      if (c.verdict !== 'reference') c.verdict = c.metrics.some((m) => m.id === 'throughput') ? 'unreliable (client-bound)' : 'inconclusive';
      continue;
    }
    const worst = vs.includes('regression') ? 'regression' : vs.includes('inconclusive') ? 'inconclusive' : vs.includes('improved') ? 'improved' : 'ok';
    // The reference keeps its name unless its counts regressed; its metric rows say the rest.
    if (c.verdict !== 'reference' || worst === 'regression') c.verdict = worst;
  }

  const regressions = comparisons.filter((c) => c.verdict === 'regression').length;
  const inconclusive = gated.flatMap((c) => c.metrics).filter((m) => m.verdict === 'inconclusive').length;
  const decided = comparisons.filter((c) => c.baseline !== undefined && c.current !== undefined && c.verdict !== 'failed' && c.verdict !== 'reference' && c.verdict !== 'baseline capped');
  const outcome: CheckOutcome = {
    comparisons,
    regressions,
    inconclusive,
    resolved: inconclusive === 0,
    settled: decided.length > 0 && decided.every((c) => c.verdict === 'regression'),
    markdown: '',
    exitCode: regressions > 0 ? 1 : 0,
  };
  outcome.markdown = renderCheck(o, base, cur, outcome);
  return outcome;
}

/** A percentage with its sign, to one decimal. */
function pct(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+∞' : x < 0 ? '−∞' : '–';
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
}

function fmtValue(v: number, m: Pick<MetricComparison, 'id' | 'kind'>, normalized: boolean): string {
  if (!Number.isFinite(v)) return '–';
  if (normalized && m.kind === 'timing') return `${v.toFixed(3)}×`;
  return m.id === 'throughput' ? fmtRate(v) : String(Number(v.toPrecision(3)));
}

function fmtValues(xs: readonly number[], m: MetricComparison, normalized: boolean): string {
  return xs.length === 0 ? '–' : `${fmtValue(median(xs), m, normalized)} (n=${xs.length})`;
}

/** What a metric's verdict says, in the words the issue asks for. */
function fmtMetricVerdict(m: MetricComparison, tol: number): string {
  const t = `${+(tol * 100).toFixed(2)}%`;
  switch (m.verdict) {
    case 'regression':
      return `❌ **REGRESSION**: ${m.worse === 'higher' ? 'more' : 'less'} by more than ${t}`;
    case 'improved':
      return `✅ improved by more than ${t}`;
    case 'ok':
      return `✅ OK: no change larger than ${t}`;
    case 'not gated':
      return `not gated: ${m.why ?? ''}`;
    case 'inconclusive': {
      if (m.detectable === undefined) return '⚠️ INCONCLUSIVE: needs at least 2 repetitions a side for an interval';
      const more = m.moreReps === undefined ? '' : m.moreReps > 1000 ? '; the change sits on the tolerance: more repetitions barely help' : `; about ${m.moreReps} more repetition(s) a side would settle it`;
      return `⚠️ INCONCLUSIVE: resolution ±${(m.resolution * 100).toFixed(1)}%, could only have seen ${pct(m.detectable)} or worse${more}`;
    }
  }
}

function fmtCellVerdict(v: Verdict): string {
  if (v === 'regression') return '❌ **REGRESSION**';
  if (v === 'improved') return '✅ improved';
  if (v === 'ok') return '✅ OK';
  if (v === 'inconclusive') return '⚠️ INCONCLUSIVE';
  if (v === 'unreliable (client-bound)' || v === 'failed' || v === 'baseline capped') return `⚠️ ${v}`;
  return v;
}

function renderCheck(o: CheckOptions, base: Results, cur: Results, out: CheckOutcome): string {
  const normalized = o.normalizeTo !== undefined;
  const tol = `${+(o.tolerance * 100).toFixed(2)}%`;
  const lines: string[] = ['## iomodels check', ''];
  const how = normalized ? ` Timing metrics are divided by ${cellKey(o.normalizeTo ?? { strategy: '', workload: '', connections: 0 })} of the same run.` : '';
  lines.push(
    `Baseline \`${sideLabel(o.baseline)}\` vs current \`${sideLabel(o.current)}\`. Per cell and metric: the median of each side's repetitions, and the change ` +
      `(ratio of geometric means) with its interval (Student t on the log values, spread pooled over both sides), drawn at the level Holm's procedure ` +
      `gives it across all ${out.comparisons.flatMap((c) => c.metrics).filter((m) => m.verdict !== 'not gated').length} gated metrics at once (family-wise α = ${o.alpha}). ` +
      `**REGRESSION**: the interval lies past ${tol} on the bad side; **OK**: it lies within ±${tol}; **INCONCLUSIVE**: neither. ` +
      `Throughput is gated unless half or more of the cell's repetitions were client-bound; server CPU per op always; syscalls and context switches per op ` +
      `(the anatomy) where both sides counted them, compared as count + ${COUNT_OFFSET} per op (rarer events are not what the tolerance is about).${how}`,
    '',
  );
  for (const [name, r] of [['baseline', base], ['current', cur]] as const) {
    if (!r.complete) lines.push(`> The ${name} run was interrupted: only the cells it finished are compared.`, '');
  }
  lines.push('| cell | metric | baseline | current | change [interval] | verdict |', '| --- | --- | ---: | ---: | ---: | --- |');
  for (const c of out.comparisons) {
    if (c.metrics.length === 0) {
      const s = c.baseline ?? c.current;
      const n = s === undefined ? '–' : `n=${s.values.length}`;
      lines.push(`| ${c.cell} | – | ${c.baseline === undefined ? '–' : n} | ${c.current === undefined ? '–' : n} | – | ${fmtCellVerdict(c.verdict)} |`);
      continue;
    }
    lines.push(`| ${c.cell} | | | | | ${fmtCellVerdict(c.verdict)} |`);
    for (const m of c.metrics) {
      const iv = Number.isFinite(m.lo) && Number.isFinite(m.hi) && m.verdict !== 'not gated' ? ` [${pct(m.lo)}, ${pct(m.hi)}]` : '';
      lines.push(`| | ${m.label} | ${fmtValues(m.baseline, m, normalized)} | ${fmtValues(m.current, m, normalized)} | ${pct(m.change)}${iv} | ${fmtMetricVerdict(m, o.tolerance)} |`);
    }
  }
  lines.push('');
  const compared = out.comparisons.filter((c) => c.baseline !== undefined && c.current !== undefined).length;
  lines.push(
    out.regressions > 0
      ? `**${out.regressions} regression(s)** in ${compared} compared cell(s): ${out.comparisons
          .filter((c) => c.verdict === 'regression')
          .map((c) => {
            const ms = c.metrics.filter((m) => m.verdict === 'regression').map((m) => m.label);
            return ms.length === 0 ? c.cell : `${c.cell} (${ms.join(', ')})`;
          })
          .join(', ')}.`
      : `**No regression** in ${compared} compared cell(s).`,
    '',
  );
  if (out.inconclusive > 0) {
    lines.push(
      `⚠️ **${out.inconclusive} metric(s) INCONCLUSIVE** in ${out.comparisons.filter((c) => c.metrics.some((m) => m.verdict === 'inconclusive')).length} cell(s): ` +
        `their repetitions cannot tell a change of ${tol} from none. They do not fail the gate; more repetitions would settle them ` +
        '(`iomodels compare` runs rounds until they are settled or its --budget is spent).',
      '',
    );
  }
  const noted = out.comparisons.filter((c) => c.notes.length > 0);
  if (noted.length > 0) {
    lines.push('Notes:', '');
    for (const c of noted) lines.push(`- ${c.cell}: ${c.notes.join('; ')}.`);
    lines.push('');
  }
  return lines.join('\n');
}
