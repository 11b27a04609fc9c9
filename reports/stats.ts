/**
 * The one statistics implementation of the report, its charts and `check`:
 * medians, their 95% confidence interval, and the two-sample test the gate
 * uses. CI runners are noisy, so the gate must only speak when the
 * repetitions say so, and a report must never show an interval other than
 * the one the gate decided on.
 *
 * Everything is deterministic: the bootstrap uses a fixed seed, so the same
 * results files always give the same verdict, the same table and the same chart.
 */

/** Median; NaN for an empty sample. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Quantile with linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const a = s[lo] ?? Number.NaN;
  const b = s[Math.min(lo + 1, s.length - 1)] ?? Number.NaN;
  return a + (h - lo) * (b - a);
}

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). Good enough to resample; not for secrets. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bootstrap resamples of every interval, report and gate alike. */
const RESAMPLES = 4000;
/** One seed for every interval, so the same repetitions always give the same interval. */
const SEED = 1;
const LEVEL = 0.95;

/** A median over repetitions and its 95% confidence interval. */
export interface Estimate {
  median: number;
  /** 95% percentile-bootstrap interval of the median; both equal the median when n < 2 (no spread can be shown). */
  lo: number;
  hi: number;
  /** Values the estimate rests on (finite ones only). */
  n: number;
}

/**
 * Median and a 95% percentile-bootstrap interval of the median, with a
 * fixed resample count and seed. Non-finite values are left out; none
 * left gives NaN and n = 0.
 */
export function estimate(values: readonly number[]): Estimate {
  // Sorted first, so the interval depends on the values alone, never on the
  // order their repetitions were listed in (pooled files renumber them).
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = xs.length;
  if (n === 0) return { median: Number.NaN, lo: Number.NaN, hi: Number.NaN, n: 0 };
  const m = median(xs);
  if (n === 1) return { median: m, lo: m, hi: m, n };
  const rnd = seededRandom(SEED);
  const meds = new Float64Array(RESAMPLES);
  const buf = new Float64Array(n);
  for (let i = 0; i < RESAMPLES; i++) {
    for (let j = 0; j < n; j++) buf[j] = xs[Math.floor(rnd() * n)] ?? 0;
    buf.sort();
    const mid = n >> 1;
    meds[i] = n % 2 === 1 ? (buf[mid] ?? 0) : ((buf[mid - 1] ?? 0) + (buf[mid] ?? 0)) / 2;
  }
  const sorted = Array.from(meds);
  return { median: m, lo: quantile(sorted, (1 - LEVEL) / 2), hi: quantile(sorted, 1 - (1 - LEVEL) / 2), n };
}

/** The two intervals share at least one value: the repetitions cannot tell them apart. */
export function overlaps(a: Pick<Estimate, 'lo' | 'hi'>, b: Pick<Estimate, 'lo' | 'hi'>): boolean {
  return a.lo <= b.hi && b.lo <= a.hi;
}

/** Standard normal CDF (erfc via the Numerical Recipes Chebyshev fit, |error| < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Which way the alternative hypothesis points, for sample x against sample y. */
export type Alternative = 'less' | 'greater' | 'two-sided';

export interface TestResult {
  /** U of x. */
  statistic: number;
  /** p-value under the chosen alternative. */
  p: number;
  /** How p was obtained. */
  method: 'exact' | 'normal';
}

/** Midranks (1-based) of the values, ties sharing their average rank. */
export function midranks(values: readonly number[]): number[] {
  const idx = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length).fill(0);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]?.[0] === idx[i]?.[0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]?.[1] ?? 0] = r;
    i = j + 1;
  }
  return ranks;
}

/** Pooled sizes up to this get the exact permutation distribution. */
const EXACT_MAX_N = 60;

/**
 * Mann-Whitney U test of x against y. U counts pairs with x above y (ties
 * one half); under "less", a small p says x tends to be smaller than y.
 *
 * For pooled n ≤ EXACT_MAX_N, p comes from the exact permutation
 * distribution of the rank sum (counted by dynamic programming over the
 * pooled midranks, so ties are handled exactly, not approximated). Larger
 * samples use the normal approximation with tie and continuity corrections.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { statistic: Number.NaN, p: 1, method: 'exact' };
  const ranks = midranks([...x, ...y]);
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += ranks[i] ?? 0;
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  if (n <= EXACT_MAX_N) {
    // Doubled midranks are integers; count subsets of size n1 by their sum.
    const r2 = ranks.map((r) => Math.round(2 * r));
    const maxSum = r2.reduce((a, b) => a + b, 0);
    // ways[k][s]: subsets of size k with doubled rank sum s (floats: only ratios matter).
    const ways: Float64Array[] = [];
    for (let k = 0; k <= n1; k++) ways.push(new Float64Array(maxSum + 1));
    const w0 = ways[0];
    if (w0 !== undefined) w0[0] = 1;
    for (const r of r2) {
      for (let k = Math.min(n1, n) - 1; k >= 0; k--) {
        const from = ways[k];
        const to = ways[k + 1];
        if (from === undefined || to === undefined) continue;
        for (let s = maxSum - r; s >= 0; s--) {
          const f = from[s] ?? 0;
          if (f !== 0) to[s + r] = (to[s + r] ?? 0) + f;
        }
      }
    }
    const dist = ways[n1] ?? new Float64Array(0);
    let total = 0;
    for (const c of dist) total += c;
    const obs = Math.round(2 * r1);
    let le = 0;
    let ge = 0;
    for (let s = 0; s <= maxSum; s++) {
      const c = dist[s] ?? 0;
      if (s <= obs) le += c;
      if (s >= obs) ge += c;
    }
    const pLess = le / total;
    const pGreater = ge / total;
    const p = alternative === 'less' ? pLess : alternative === 'greater' ? pGreater : Math.min(1, 2 * Math.min(pLess, pGreater));
    return { statistic: u, p, method: 'exact' };
  }
  // Normal approximation with tie correction of the variance.
  const counts = new Map<number, number>();
  for (const r of ranks) counts.set(r, (counts.get(r) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of counts.values()) tieTerm += t * t * t - t;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { statistic: u, p: 1, method: 'normal' };
  const pLess = normalCdf((u - mu + 0.5) / sigma);
  const pGreater = 1 - normalCdf((u - mu - 0.5) / sigma);
  const p = alternative === 'less' ? pLess : alternative === 'greater' ? pGreater : Math.min(1, 2 * Math.min(pLess, pGreater));
  return { statistic: u, p: Math.min(1, p), method: 'normal' };
}

/**
 * The smallest one-sided p the exact Mann-Whitney test can give with these
 * sample sizes (complete separation): 1 / C(n1 + n2, n1). If it is not below
 * alpha, no amount of slowdown can be shown with so few repetitions.
 */
export function minOneSidedP(n1: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 1;
  let c = 1;
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return 1 / c;
}
