/**
 * The one statistics implementation of the report, its charts and `check`:
 * medians and their 95% confidence interval (what a cell is drawn with),
 * and the interval of a change between two sets of repetitions that the
 * gate decides on and the report states its resolution with. CI runners are
 * noisy, so the gate must only speak when the repetitions say so, and say
 * so when they cannot.
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

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0] ?? 0;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] ?? 0) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
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
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast only on one side of the mean.
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(a, b, x)) / a : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df > 0). */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p (0 < p < 1), by bisection on the CDF: slow enough to be exact, fast enough for a table. */
export function studentTQuantile(p: number, df: number): number {
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p && hi < 1e12) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The change between two sets of repetitions, on the log scale: the
 * difference of the means of ln(value), i.e. the log of the ratio of their
 * geometric means. Logs make a change a ratio (noise on this machine is in
 * proportion to the value: a CV, not a fixed spread) and make "5% more" and
 * "5% less" the same distance from no change.
 *
 * The spread is pooled over both sides (Student's t, df = n1 + n2 − 2): both
 * sides are the same measurement of the same kind of server, so their log
 * spreads are alike, and pooling gives 3-against-3 repetitions twice the
 * degrees of freedom Welch's test would, where every degree counts.
 */
export interface LogChange {
  /** ln(geomean(current) / geomean(baseline)). */
  d: number;
  /** Standard error of d. */
  se: number;
  df: number;
  /** Pooled standard deviation of ln(value), one side's spread. */
  sd: number;
  nBaseline: number;
  nCurrent: number;
}

function meanVar(xs: readonly number[]): { mean: number; ss: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, ss: xs.reduce((a, b) => a + (b - mean) ** 2, 0) };
}

/**
 * The log change of `current` against `baseline`, each value read as
 * value + `offset` (counts that can be zero: see reports/check.ts).
 * Non-finite and non-positive values are left out. df is 0 when a side has
 * no value or both have one each: no interval can be given.
 */
export function logChange(baseline: readonly number[], current: readonly number[], offset = 0): LogChange {
  const ln = (xs: readonly number[]): number[] => xs.map((v) => v + offset).filter((v) => Number.isFinite(v) && v > 0).map(Math.log);
  const b = ln(baseline);
  const c = ln(current);
  if (b.length === 0 || c.length === 0) return { d: Number.NaN, se: Number.NaN, df: 0, sd: Number.NaN, nBaseline: b.length, nCurrent: c.length };
  const mb = meanVar(b);
  const mc = meanVar(c);
  const df = b.length + c.length - 2;
  const sd = df > 0 ? Math.sqrt((mb.ss + mc.ss) / df) : Number.NaN;
  return { d: mc.mean - mb.mean, se: sd * Math.sqrt(1 / b.length + 1 / c.length), df, sd, nBaseline: b.length, nCurrent: c.length };
}

/** Half-width, on the log scale, of the two-sided (1 − 2·alpha) interval of a log change; Infinity without degrees of freedom. */
export function halfWidth(c: Pick<LogChange, 'se' | 'df'>, alpha: number): number {
  if (c.df <= 0 || !Number.isFinite(c.se)) return Number.POSITIVE_INFINITY;
  return studentTQuantile(1 - alpha, c.df) * c.se;
}

/** One-sided p that the log change exceeds `bound` (H0: d ≤ bound). */
export function pAbove(c: Pick<LogChange, 'd' | 'se' | 'df'>, bound: number): number {
  if (c.df <= 0 || !Number.isFinite(c.d)) return 1;
  if (c.se === 0) return c.d > bound ? 0 : 1;
  return 1 - studentTCdf((c.d - bound) / c.se, c.df);
}

/**
 * Repetitions a side (equal on both) with which a log spread `sd` gives a
 * one-sided bound at level `alpha` within `gap` of the estimate: how many a
 * comparison whose estimate sits `gap` from a decision boundary needs to
 * settle it, if its spread stays what it was. Capped at `max` (more: no
 * realistic budget settles it).
 */
export function repsToResolve(sd: number, gap: number, alpha: number, max = 1000): number {
  if (!(gap > 0) || !Number.isFinite(sd)) return max + 1;
  if (sd === 0) return 2;
  const enough = (n: number): boolean => studentTQuantile(1 - alpha, 2 * n - 2) * sd * Math.sqrt(2 / n) < gap;
  let hi = 2;
  while (!enough(hi)) {
    if (hi > max) return max + 1;
    hi *= 2;
  }
  let lo = Math.max(2, hi / 2);
  if (enough(lo)) return lo;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Holm's step-down procedure over one family of one-sided p-values at
 * family-wise level `alpha`: the smallest p is tested at alpha/m, the next
 * at alpha/(m−1), …, until one fails; it and every later one are not
 * rejected. `level[i]` is the level hypothesis i was held to (the failing
 * step's level for every hypothesis from it on), so an interval drawn at
 * that level agrees with the decision.
 */
export function holm(ps: readonly number[], alpha: number): { rejected: boolean[]; level: number[] } {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const rejected = new Array<boolean>(m).fill(false);
  const level = new Array<number>(m).fill(alpha / Math.max(1, m));
  let stopped = false;
  let stopLevel = alpha / Math.max(1, m);
  order.forEach(([p, i], k) => {
    const lk = alpha / (m - k);
    if (!stopped && p < lk) {
      rejected[i] = true;
      level[i] = lk;
      return;
    }
    if (!stopped) {
      stopped = true;
      stopLevel = lk;
    }
    level[i] = stopLevel;
  });
  return { rejected, level };
}

/**
 * The smallest difference between two cells of a table its repetitions can
 * resolve: the half-width of a two-sided (1 − alpha) interval of the log
 * ratio of two cells with the table's typical repetitions, the spread
 * pooled over every cell with at least two values (each cell about its own
 * mean, on the log scale). Undefined where no cell has two values.
 */
export function tableResolution(cells: readonly (readonly number[])[], alpha = 0.05): { ratio: number; reps: number } | undefined {
  let ss = 0;
  let df = 0;
  const ns: number[] = [];
  for (const xs of cells) {
    const ln = xs.filter((v) => Number.isFinite(v) && v > 0).map(Math.log);
    if (ln.length === 0) continue;
    ns.push(ln.length);
    if (ln.length < 2) continue;
    const m = meanVar(ln);
    ss += m.ss;
    df += ln.length - 1;
  }
  if (df === 0) return undefined;
  const reps = Math.min(...ns);
  if (reps < 2) return undefined;
  const h = studentTQuantile(1 - alpha / 2, df) * Math.sqrt(ss / df) * Math.sqrt(2 / reps);
  return { ratio: Math.exp(h) - 1, reps };
}
