/**
 * Statistics for repeated measurements: medians, 95% confidence intervals
 * and two-sample tests. CI runners are noisy (±30% run to run here), so the
 * regression gate must only speak when the repetitions say so.
 *
 * Everything is deterministic: the bootstrap uses a seeded RNG, so the same
 * results files always give the same verdict and the same chart.
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

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Sample variance (n − 1 denominator); NaN below two values. */
export function variance(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return ss / (xs.length - 1);
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

export interface Interval {
  lo: number;
  hi: number;
}

export interface BootstrapOptions {
  /** Confidence level, default 0.95. */
  level?: number;
  /** Resamples, default 4000. */
  resamples?: number;
  /** RNG seed, default 1: the same sample always gives the same interval. */
  seed?: number;
}

/**
 * Percentile-bootstrap confidence interval of the median. With one value
 * the interval is that value (no spread can be shown); empty gives NaN.
 */
export function bootstrapMedianCI(xs: readonly number[], o: BootstrapOptions = {}): Interval {
  if (xs.length === 0) return { lo: Number.NaN, hi: Number.NaN };
  if (xs.length === 1) return { lo: xs[0] ?? Number.NaN, hi: xs[0] ?? Number.NaN };
  const level = o.level ?? 0.95;
  const b = o.resamples ?? 4000;
  const rnd = seededRandom(o.seed ?? 1);
  const n = xs.length;
  const meds = new Float64Array(b);
  const buf = new Float64Array(n);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < n; j++) buf[j] = xs[Math.floor(rnd() * n)] ?? 0;
    buf.sort();
    const mid = n >> 1;
    meds[i] = n % 2 === 1 ? (buf[mid] ?? 0) : ((buf[mid - 1] ?? 0) + (buf[mid] ?? 0)) / 2;
  }
  const sorted = Array.from(meds);
  return { lo: quantile(sorted, (1 - level) / 2), hi: quantile(sorted, 1 - (1 - level) / 2) };
}

// ---------------------------------------------------------------------------
// Student's t distribution, through the regularized incomplete beta function
// (Numerical Recipes §6.2–6.4).

/** ln Γ(x) for x > 0 (Lanczos as in Numerical Recipes 3rd ed., gammln; ~1e-15). */
const GAMMLN_COF = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 0.00003399464998481189, 0.00004652362892704858,
  -0.00009837447530487956, 0.0001580887032249125, -0.00021026444172410488, 0.00021743961811521265, -0.0001643181065367639,
  0.00008441822398385275, -0.000026190838401581408, 0.0000036899182659531625,
];

export function logGamma(x: number): number {
  let y = x;
  let tmp = x + 5.2421875;
  tmp = (x + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.9999999999999971;
  for (const c of GAMMLN_COF) ser += c / ++y;
  return tmp + Math.log((Math.sqrt(2 * Math.PI) * ser) / x);
}

/** Continued fraction for the incomplete beta (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on this side of the mean.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(a, b, x)) / a;
  return 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p (bisection on the CDF: slow but exact enough, and called rarely). */
export function studentTQuantile(p: number, df: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  let lo = -1e6;
  let hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
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
  /** The test statistic (U of x for Mann-Whitney, t for Welch). */
  statistic: number;
  /** p-value under the chosen alternative. */
  p: number;
  /** How p was obtained. */
  method: 'exact' | 'normal' | 't';
  /** Welch's degrees of freedom. */
  df?: number;
}

/**
 * Confidence interval of the geometric mean from a t interval on log values:
 * throughput is a rate, so its noise is multiplicative.
 */
export function logTInterval(xs: readonly number[], level = 0.95): Interval {
  const pos = xs.filter((x) => x > 0);
  if (pos.length < 2) return { lo: Number.NaN, hi: Number.NaN };
  const logs = pos.map(Math.log);
  const m = mean(logs);
  const se = Math.sqrt(variance(logs) / logs.length);
  const q = studentTQuantile(1 - (1 - level) / 2, logs.length - 1);
  return { lo: Math.exp(m - q * se), hi: Math.exp(m + q * se) };
}

/**
 * Welch's unequal-variance t test on log values (x against y). Under
 * "less", a small p says x's geometric mean is below y's.
 */
export function welchTTestLog(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  return welchTTest(x.map(Math.log), y.map(Math.log), alternative);
}

/** Welch's unequal-variance t test (Welch–Satterthwaite degrees of freedom). */
export function welchTTest(x: readonly number[], y: readonly number[], alternative: Alternative = 'two-sided'): TestResult {
  if (x.length < 2 || y.length < 2) return { statistic: Number.NaN, p: 1, method: 't', df: Number.NaN };
  const vx = variance(x) / x.length;
  const vy = variance(y) / y.length;
  const diff = mean(x) - mean(y);
  const se = Math.sqrt(vx + vy);
  if (se === 0) {
    // No spread at all: the means either differ or do not; nothing in between.
    const p = diff === 0 ? 1 : alternative === 'two-sided' ? 0 : (alternative === 'less') === diff < 0 ? 0 : 1;
    return { statistic: diff === 0 ? 0 : Math.sign(diff) * Number.POSITIVE_INFINITY, p, method: 't', df: x.length + y.length - 2 };
  }
  const t = diff / se;
  const df = (vx + vy) ** 2 / (vx ** 2 / (x.length - 1) + vy ** 2 / (y.length - 1));
  const p = alternative === 'less' ? studentTCdf(t, df) : alternative === 'greater' ? 1 - studentTCdf(t, df) : 2 * studentTCdf(-Math.abs(t), df);
  return { statistic: t, p: Math.min(1, p), method: 't', df };
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
export const EXACT_MAX_N = 60;

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
