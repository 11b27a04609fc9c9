/**
 * `iomodels check`: the CI regression gate. Compares the throughput of every
 * cell two results files share and fails (exit 1) only on a slowdown that
 * is both statistically significant over the repetitions (one-sided
 * Mann-Whitney U, exact for small samples) and larger than the tolerance.
 * Where the current run is client-bound its throughput is the load
 * generator's, so the server's CPU per op is compared instead, by the same
 * rule (more CPU per op is worse).
 * CI runners are noisy, so the gate must neither cry wolf (one unlucky
 * repetition) nor sleep through a real slowdown; with too few repetitions
 * to tell, it says so instead of guessing.
 */
import { cellKey, groupCells, type CellRef } from './aggregate.js';
import { fmtRate } from './format.js';
import { serverCpuPerOp, type RankMetric } from './verdict.js';
import { UsageError } from '../core/errors.js';
import type { Cell, Results } from '../core/results.js';
import { estimate, mannWhitneyU, median, minOneSidedP, type Estimate } from './stats.js';

export interface CheckOptions {
  /** Results files of the reference run(s); several are pooled (interleaved A/B runs). */
  baseline: readonly string[];
  /** Results files of the run(s) under test. */
  current: readonly string[];
  /** Smallest slowdown that counts, as a fraction (0.05 = 5%). */
  tolerance: number;
  /** Significance level of the one-sided test. */
  alpha: number;
  /** Divide every cell by this cell of the same file (machine-speed normalization). */
  normalizeTo?: CellRef;
  /** Write a comparison chart here. */
  png?: string;
}

export type Verdict =
  | 'ok'
  | 'improved'
  | 'regression'
  /** The current run is client-bound and its server's CPU was not measured (an external target without --target-pid): nothing to compare. */
  | 'unreliable (client-bound)'
  | 'insufficient repetitions'
  | 'failed'
  /** The baseline's server refused or kept waiting part of the load and the current one serves all of it: different loads, not gated. */
  | 'baseline capped'
  | 'reference'
  | 'only in baseline'
  | 'only in current';

/** What a cell is compared by: ops/s (lower is worse), or server CPU µs per op (higher is worse). */
export type Metric = RankMetric;

export interface Side {
  /** The comparison's metric per usable repetition (normalized when asked), in rep order. */
  values: number[];
  median: number;
  /** The same estimate the report draws for these repetitions. */
  ci: Estimate;
  /** Repetitions that failed and were left out. */
  failed: number;
  /** Repetitions that did not fail (values may hold fewer: a repetition without a server CPU figure has no CPU value). */
  usable: number;
  clientBound: boolean;
  /** Why the cell failed, when every repetition did. */
  reason?: string;
  /** Why a usable repetition was capped (the server refused or kept waiting part of the load), when one was. */
  capped?: string;
}

export interface Comparison {
  /** "strategy/workload/connections", "/idle=N" appended when N > 0 (cellKey). */
  cell: string;
  /** Both sides are compared by this: `cpu` when the current run is client-bound. */
  metric: Metric;
  baseline?: Side;
  current?: Side;
  /** Relative change of the median, current vs baseline (throughput −0.25: 25% slower; cpu +0.25: 25% more CPU per op). */
  change: number;
  /** One-sided p that current is worse (slower, or more CPU per op). */
  p: number;
  verdict: Verdict;
  notes: string[];
}

export interface CheckOutcome {
  comparisons: Comparison[];
  regressions: number;
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
 * regression the gate exists to catch (`--work-us` is how CI proves it).
 */
const SERVER_COST_KNOBS = new Set(['workUs']);

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
    clientBound: cells.some((c) => c.clientBound),
  };
  if (ok.length === 0) {
    const reason = cells.find((c) => c.reason !== undefined)?.reason;
    if (reason !== undefined) s.reason = reason;
  }
  const capped = ok.find((c) => c.status === 'capped');
  if (capped !== undefined) s.capped = capped.reason ?? 'capped';
  return s;
}

/** The fewest repetitions per side with which an exact one-sided test can reach p < alpha. */
export function repsNeeded(alpha: number): number {
  let n = 1;
  while (minOneSidedP(n, n) >= alpha && n < 1000) n++;
  return n;
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
  const bDiv = ref === undefined ? undefined : referenceDivisors(sideLabel(o.baseline), bg, ref);
  const cDiv = ref === undefined ? undefined : referenceDivisors(sideLabel(o.current), cg, ref);
  const refKey = ref === undefined ? undefined : cellKey(ref);

  const keys = [...bg.keys(), ...[...cg.keys()].filter((k) => !bg.has(k))];
  const comparisons: Comparison[] = [];
  for (const key of keys) {
    const bCells = bg.get(key);
    const cCells = cg.get(key);
    // A client-bound current run measured its load generator: both sides
    // are then compared by what their servers paid per op.
    const metric: Metric = cCells?.some((c) => usable(c) && c.clientBound) === true ? 'cpu' : 'throughput';
    const cmp: Comparison = { cell: key, metric, change: Number.NaN, p: Number.NaN, verdict: 'ok', notes: [] };
    if (bCells !== undefined) cmp.baseline = side(bCells, metric, bDiv);
    if (cCells !== undefined) cmp.current = side(cCells, metric, cDiv);
    comparisons.push(cmp);
    const b = cmp.baseline;
    const c = cmp.current;
    if (b === undefined || c === undefined) {
      cmp.verdict = b === undefined ? 'only in current' : 'only in baseline';
      continue;
    }
    for (const [name, s] of [['baseline', b], ['current', c]] as const) {
      if (s.failed > 0 && s.usable > 0) cmp.notes.push(`${s.failed} failed ${name} repetition(s) left out`);
    }
    if (b.usable === 0 || c.usable === 0) {
      cmp.verdict = 'failed';
      const which = b.usable === 0 && c.usable === 0 ? 'both runs' : b.usable === 0 ? 'the baseline' : 'the current run';
      cmp.notes.push(`every repetition failed in ${which}${(c.reason ?? b.reason) !== undefined ? `: ${c.reason ?? b.reason ?? ''}` : ''}`);
      continue;
    }
    if (metric === 'cpu') {
      cmp.notes.push('current run client-bound: its throughput is the load generator\'s, so server CPU µs/op is compared instead (higher is worse)');
    } else if (b.clientBound) {
      cmp.notes.push('baseline client-bound: its throughput is a floor for its server, so a drop below it is real');
    }
    if (b.values.length === 0 || c.values.length === 0) {
      cmp.verdict = 'unreliable (client-bound)';
      const which = b.values.length === 0 && c.values.length === 0 ? 'either run' : b.values.length === 0 ? 'the baseline' : 'the current run';
      cmp.notes.push(`no server CPU per op was measured in ${which} (an external target needs --target-pid), so there is nothing to compare`);
      continue;
    }
    cmp.change = c.median / b.median - 1;
    if (key === refKey) {
      cmp.verdict = 'reference';
      cmp.notes.push('normalization reference: 1 on both sides by construction');
      continue;
    }
    // A capped cell measured a server that served only part of the load, so
    // a capped side and a full side measured different loads. Newly capped
    // is a regression whatever the numbers say (fewer connections served can
    // even read faster); capped only in the baseline is not gated.
    if (b.capped !== undefined && c.capped === undefined) {
      cmp.verdict = 'baseline capped';
      cmp.notes.push(`the baseline was capped (${b.capped}) and the current run serves the whole load: they measured different loads, so the change is shown but not gated`);
      continue;
    }
    if (c.capped !== undefined && b.capped === undefined) {
      cmp.verdict = 'regression';
      cmp.notes.push(`newly capped: ${c.capped}; the baseline served this load in full`);
      continue;
    }
    if (c.capped !== undefined) cmp.notes.push(`capped in both runs (current: ${c.capped}): compared as measured`);
    // Throughput is worse lower, CPU per op worse higher: one rule, turned around.
    const worseSide = metric === 'cpu' ? 'greater' : 'less';
    const betterSide = metric === 'cpu' ? 'less' : 'greater';
    const worseBy = metric === 'cpu' ? cmp.change : -cmp.change;
    cmp.p = mannWhitneyU(c.values, b.values, worseSide).p;
    const pBetter = mannWhitneyU(c.values, b.values, betterSide).p;
    if (minOneSidedP(c.values.length, b.values.length) >= o.alpha) {
      cmp.verdict = 'insufficient repetitions';
      cmp.notes.push(
        `${b.values.length} vs ${c.values.length} repetitions cannot reach p < ${o.alpha} even if every current run were worse (run bench with --repeat ${repsNeeded(o.alpha)} or more)`,
      );
    } else if (worseBy > o.tolerance && cmp.p < o.alpha) {
      // A client-bound baseline is a floor for its server, so a throughput
      // drop below it is, if anything, understated: a real regression.
      cmp.verdict = 'regression';
    } else if (-worseBy > o.tolerance && pBetter < o.alpha) {
      cmp.verdict = 'improved';
    } else {
      cmp.verdict = 'ok';
      if (worseBy > o.tolerance) cmp.notes.push(`${metric === 'cpu' ? 'more CPU per op' : 'slower'} by more than the tolerance, but not significant (p ${fmtP(cmp.p)} ≥ ${o.alpha})`);
    }
  }
  const regressions = comparisons.filter((c) => c.verdict === 'regression').length;
  const outcome: CheckOutcome = { comparisons, regressions, markdown: '', exitCode: regressions > 0 ? 1 : 0 };
  outcome.markdown = renderCheck(o, base, cur, outcome);
  return outcome;
}

export function fmtP(p: number): string {
  if (!Number.isFinite(p)) return '–';
  if (p < 0.0001) return '<0.0001';
  return p < 0.01 ? p.toPrecision(2) : p.toFixed(3);
}

function fmtValue(v: number, normalized: boolean, metric: Metric): string {
  if (!Number.isFinite(v)) return '–';
  if (normalized) return `${v.toFixed(3)}×`;
  return metric === 'cpu' ? String(Number(v.toPrecision(3))) : fmtRate(v);
}

function fmtSide(s: Side | undefined, normalized: boolean, metric: Metric): string {
  if (s === undefined) return '–';
  if (s.usable === 0) return 'failed';
  if (s.values.length === 0) return 'no CPU figure';
  const ci = s.values.length > 1 ? ` [${fmtValue(s.ci.lo, normalized, metric)}, ${fmtValue(s.ci.hi, normalized, metric)}]` : '';
  const unit = metric === 'cpu' ? (normalized ? ' CPU/op' : ' µs/op') : '';
  return `${fmtValue(s.median, normalized, metric)}${ci}${unit} (n=${s.values.length})`;
}

function fmtVerdict(v: Verdict): string {
  if (v === 'regression') return '❌ **REGRESSION**';
  if (v === 'improved') return '✅ improved';
  if (v === 'ok') return '✅ ok';
  if (v === 'unreliable (client-bound)' || v === 'insufficient repetitions' || v === 'failed' || v === 'baseline capped') return `⚠️ ${v}`;
  return v;
}

function renderCheck(o: CheckOptions, base: Results, cur: Results, out: CheckOutcome): string {
  const normalized = o.normalizeTo !== undefined;
  const lines: string[] = ['## iomodels check', ''];
  const how = normalized ? `, each cell divided by ${cellKey(o.normalizeTo ?? { strategy: '', workload: '', connections: 0 })} of the same run` : '';
  lines.push(
    `Baseline \`${o.baseline.join(' ')}\` vs current \`${o.current.join(' ')}\`: throughput (ops/s${how}), median [95% bootstrap CI] over repetitions. ` +
      `A regression must be slower by more than ${+(o.tolerance * 100).toFixed(2)}% **and** significant (one-sided Mann-Whitney U, p < ${o.alpha}). ` +
      `Where the current run is client-bound its throughput is the load generator's, so the row compares server CPU µs per op instead ` +
      `(\`CPU/op\` in the change column), by the same rule with more CPU per op as the worse direction.`,
    '',
  );
  for (const [name, r] of [['baseline', base], ['current', cur]] as const) {
    if (!r.complete) lines.push(`> The ${name} run was interrupted: only the cells it finished are compared.`, '');
  }
  lines.push('| cell | baseline | current | change | p | verdict |', '| --- | ---: | ---: | ---: | ---: | --- |');
  for (const c of out.comparisons) {
    const change = Number.isFinite(c.change) ? `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%${c.metric === 'cpu' ? ' CPU/op' : ''}` : '–';
    lines.push(
      `| ${c.cell} | ${fmtSide(c.baseline, normalized, c.metric)} | ${fmtSide(c.current, normalized, c.metric)} | ${change} | ${fmtP(c.p)} | ${fmtVerdict(c.verdict)} |`,
    );
  }
  lines.push('');
  const compared = out.comparisons.filter((c) => c.baseline !== undefined && c.current !== undefined).length;
  lines.push(
    out.regressions > 0
      ? `**${out.regressions} regression(s)** in ${compared} compared cell(s): ${out.comparisons
          .filter((c) => c.verdict === 'regression')
          .map((c) => c.cell)
          .join(', ')}.`
      : `**No regression** in ${compared} compared cell(s).`,
    '',
  );
  const noted = out.comparisons.filter((c) => c.notes.length > 0);
  if (noted.length > 0) {
    lines.push('Notes:', '');
    for (const c of noted) lines.push(`- ${c.cell}: ${c.notes.join('; ')}.`);
    lines.push('');
  }
  if (out.comparisons.some((c) => c.verdict === 'insufficient repetitions')) {
    lines.push(
      `Too few repetitions for a verdict: with ${o.alpha} as the significance level the exact test needs at least ${repsNeeded(o.alpha)} repetitions per side ` +
        `(\`iomodels bench --repeat ${repsNeeded(o.alpha)}\`); such cells never fail the gate.`,
      '',
    );
  }
  return lines.join('\n');
}

