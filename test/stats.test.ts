/**
 * reports/stats.ts against known values. Reference numbers marked "scipy"
 * were computed with SciPy 1.17 (scipy.stats.mannwhitneyu,
 * permutation_test); others come from closed forms or from a brute-force
 * enumeration written here, a different method from the code's.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimate, mannWhitneyU, median, midranks, minOneSidedP, normalCdf, quantile, seededRandom } from '../reports/stats.js';

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected} ± ${tol}, got ${actual}`);
}

/** All size-k subsets of [0, n), for the brute-force permutation test. */
function* subsets(n: number, k: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc;
    return;
  }
  for (let i = start; i < n; i++) yield* subsets(n, k, i + 1, [...acc, i]);
}

describe('median and quantile', () => {
  it('median of odd and even samples', () => {
    assert.equal(median([3, 1, 2]), 2, 'median of 1,2,3 is 2');
    assert.equal(median([4, 1, 3, 2]), 2.5, 'median of 1..4 is 2.5');
    assert.ok(Number.isNaN(median([])), 'median of nothing is NaN');
  });
  it('quantile interpolates like numpy (type 7)', () => {
    // numpy.quantile([1,2,3,4,10], 0.9) = 7.6
    close(quantile([1, 2, 3, 4, 10], 0.9), 7.6, 1e-12, 'q0.9');
    assert.equal(quantile([5, 1], 0), 1, 'q0 is the minimum');
    assert.equal(quantile([5, 1], 1), 5, 'q1 is the maximum');
  });
});

describe('normal CDF', () => {
  it('normal CDF at textbook points', () => {
    close(normalCdf(1.959963985), 0.975, 2e-7, 'Φ(1.96)');
    close(normalCdf(-1), 0.15865525393145707, 2e-7, 'Φ(-1)');
    close(normalCdf(0), 0.5, 2e-7, 'Φ(0)');
  });
});

describe('Mann-Whitney U', () => {
  it('complete separation of 5 vs 5 gives p = 1/252 one-sided (textbook)', () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 'less');
    assert.equal(r.statistic, 0, 'U = 0 when every x is below every y');
    assert.equal(r.method, 'exact', 'small samples use the exact distribution');
    close(r.p, 1 / 252, 1e-12, 'p');
    close(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 'greater').p, 1, 1e-12, 'the other direction is p = 1');
  });
  it('exact p without ties matches scipy', () => {
    const a = [19.1, 20.3, 18.7, 21.0, 19.9, 20.5];
    const b = [21.4, 22.0, 20.9, 23.1, 22.5, 21.8, 22.2];
    const less = mannWhitneyU(a, b, 'less');
    assert.equal(less.statistic, 1, 'U of a');
    close(less.p, 0.0011655011655011655, 1e-12, 'one-sided p (scipy exact)');
    close(mannWhitneyU(a, b, 'two-sided').p, 0.002331002331002331, 1e-12, 'two-sided p (scipy exact)');
  });
  it('exact p with ties matches a brute-force permutation count and scipy.permutation_test', () => {
    const c = [1, 2, 2, 3, 3, 3, 4];
    const d = [2, 3, 4, 4, 5, 5];
    const r = mannWhitneyU(c, d, 'less');
    close(r.statistic, 8.5, 1e-12, 'U with ties');
    close(r.p, 0.05011655011655012, 1e-12, 'p (scipy permutation_test, exact)');
    // Independent method: enumerate every split of the pooled midranks.
    const ranks = midranks([...c, ...d]);
    const obs = c.reduce((s, _v, i) => s + (ranks[i] ?? 0), 0);
    let le = 0;
    let total = 0;
    for (const pick of subsets(ranks.length, c.length)) {
      const s = pick.reduce((acc, i) => acc + (ranks[i] ?? 0), 0);
      total++;
      if (s <= obs + 1e-9) le++;
    }
    close(r.p, le / total, 1e-12, 'p equals the enumerated permutation p');
  });
  it('large samples use the tie-corrected normal approximation (scipy asymptotic)', () => {
    const e = [120, 74, 104, 94, 95, 98, 80, 98, 91, 133, 102, 96, 97, 93, 89, 96, 105, 98, 110, 98, 100, 115, 105, 95, 98, 105, 119, 97, 98, 110, 91, 97, 109, 106, 101, 107, 72, 110, 90, 83];
    const f = [108, 112, 101, 94, 105, 104, 119, 112, 107, 116, 103, 96, 111, 111, 103, 97, 107, 80, 112, 110, 89, 106, 95, 113, 85, 96, 112, 117, 83, 100, 108, 99, 121, 93, 109];
    const r = mannWhitneyU(e, f, 'less');
    assert.equal(r.method, 'normal', '75 values are past the exact limit');
    assert.equal(r.statistic, 510, 'U');
    close(r.p, 0.022003936351261744, 2e-6, 'one-sided p');
    close(mannWhitneyU(e, f, 'two-sided').p, 0.04400787270252349, 4e-6, 'two-sided p');
  });
  it('identical samples are not significant', () => {
    const s = [100, 101, 99, 102, 98];
    assert.ok(mannWhitneyU(s, s, 'less').p > 0.5, 'p of a sample against itself is large');
  });
  it('minOneSidedP is 1/C(n1+n2, n1)', () => {
    close(minOneSidedP(5, 5), 1 / 252, 1e-15, '5 vs 5');
    close(minOneSidedP(3, 3), 1 / 20, 1e-15, '3 vs 3');
    assert.equal(minOneSidedP(1, 1), 0.5, '1 vs 1');
  });
});

describe('confidence intervals', () => {
  it('bootstrap CI is deterministic, ordered and contains the median', () => {
    const xs = [98, 103, 101, 97, 110, 99, 102];
    const a = estimate(xs);
    const b = estimate([...xs].reverse());
    assert.deepEqual(a, b, 'same values, same interval, whatever their order');
    assert.equal(a.median, 101, 'the point is the median');
    assert.equal(a.n, 7, 'n counts the values');
    assert.ok(a.lo <= median(xs) && median(xs) <= a.hi, `median ${median(xs)} within [${a.lo}, ${a.hi}]`);
    assert.ok(a.lo >= 97 && a.hi <= 110, 'inside the sample range');
  });
  it('bootstrap CI of the median covers the true median about 95% of the time', () => {
    // Coverage by simulation: 300 normal samples of 15, true median 100.
    const rnd = seededRandom(42);
    const normal = (): number => 100 + 10 * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    let covered = 0;
    const trials = 300;
    for (let t = 0; t < trials; t++) {
      const xs = Array.from({ length: 15 }, normal);
      const ci = estimate(xs);
      if (ci.lo <= 100 && 100 <= ci.hi) covered++;
    }
    const coverage = covered / trials;
    // Percentile bootstrap of a median is known to be slightly liberal at n = 15.
    assert.ok(coverage > 0.88 && coverage < 0.995, `coverage ${coverage} near 0.95`);
  });
  it('a single value gives a degenerate interval; non-finite values are left out', () => {
    assert.deepEqual(estimate([5]), { median: 5, lo: 5, hi: 5, n: 1 }, 'one value');
    assert.deepEqual(estimate([5, Number.NaN]), { median: 5, lo: 5, hi: 5, n: 1 }, 'NaN is not a value');
    const none = estimate([]);
    assert.ok(Number.isNaN(none.median) && none.n === 0, 'nothing gives NaN and n = 0');
  });
});
