/**
 * reports/stats.ts against known values: Student t quantiles from tables
 * (scipy.stats.t), closed forms, and Holm's procedure by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimate, halfWidth, holm, logChange, median, pAbove, quantile, repsToResolve, seededRandom, studentTCdf, studentTQuantile } from '../reports/stats.js';

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected} ± ${tol}, got ${actual}`);
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

describe('Student t', () => {
  it('CDF and quantiles at textbook points', () => {
    close(studentTCdf(2, 5), 0.9490302605850709, 1e-9, 'P(T5 ≤ 2) (scipy.stats.t.cdf)');
    close(studentTCdf(-1, 1), 0.25, 1e-12, 'Cauchy: P(T1 ≤ −1) = 1/4');
    close(studentTCdf(0, 3), 0.5, 1e-12, 'symmetric');
    close(studentTQuantile(0.975, 4), 2.7764451051977987, 1e-9, 't(0.975, 4)');
    close(studentTQuantile(0.975, 10), 2.2281388519649385, 1e-9, 't(0.975, 10)');
    close(studentTQuantile(0.995, 2), 9.9248432009182, 1e-8, 't(0.995, 2)');
    close(studentTQuantile(0.025, 4), -2.7764451051977987, 1e-9, 'lower tail by symmetry');
    close(studentTQuantile(0.975, 1e6), 1.959966, 1e-5, 'large df: the normal');
  });
});

describe('the log change and its interval', () => {
  it('a ratio of geometric means, pooled spread, df = n1 + n2 − 2', () => {
    const c = logChange([100, 100, 100], [120, 120, 120]);
    close(Math.exp(c.d), 1.2, 1e-12, 'ratio');
    assert.equal(c.se, 0, 'no spread');
    assert.equal(c.df, 4, 'df');
    const n = logChange([1, Math.E], [Math.E, Math.E ** 2]);
    close(n.d, 1, 1e-12, 'd');
    close(n.sd, Math.sqrt(0.5), 1e-12, 'pooled sd of the logs: ((0.5 + 0.5) / 2)^½');
    close(n.se, Math.sqrt(0.5) * Math.sqrt(1), 1e-12, 'se = sd·√(1/2 + 1/2)');
  });
  it('an offset reads zero counts as the offset; without one, zeros are left out', () => {
    const c = logChange([0, 0, 0], [1, 1, 1], 0.1);
    close(Math.exp(c.d), 11, 1e-9, '(1 + 0.1) / (0 + 0.1)');
    assert.equal(logChange([0, 1], [1, 1]).nBaseline, 1, 'a zero has no log');
  });
  it('halfWidth, pAbove and repsToResolve agree with each other', () => {
    const c = { d: 0.2, se: 0.05, df: 8 };
    const h = halfWidth(c, 0.01);
    close(pAbove(c, c.d - h), 0.01, 1e-9, 'the lower end of the interval is where p = alpha');
    assert.equal(halfWidth({ se: 1, df: 0 }, 0.05), Number.POSITIVE_INFINITY, 'no df, no interval');
    const n = repsToResolve(0.1, 0.1, 0.01);
    const enough = (k: number): boolean => studentTQuantile(0.99, 2 * k - 2) * 0.1 * Math.sqrt(2 / k) < 0.1;
    assert.ok(enough(n) && !enough(n - 1), `${n} is the fewest repetitions that resolve it`);
    assert.equal(repsToResolve(0.1, 0, 0.01), 1001, 'an estimate on the boundary never resolves');
  });
});

describe('Holm', () => {
  it('steps down from alpha/m and stops at the first failure, on a crafted table', () => {
    const r = holm([0.01, 0.04, 0.03, 0.005], 0.05);
    assert.deepEqual(r.rejected, [true, false, false, true], '0.005 < 0.05/4, 0.01 < 0.05/3, 0.03 ≥ 0.05/2 stops');
    close(r.level[3] ?? 0, 0.0125, 1e-15, 'smallest p held to alpha/4');
    close(r.level[0] ?? 0, 0.05 / 3, 1e-15, 'next to alpha/3');
    close(r.level[2] ?? 0, 0.025, 1e-15, 'the failing step');
    close(r.level[1] ?? 0, 0.025, 1e-15, 'after the failure: the failing step\'s level');
  });
  it('rejects no more than Bonferroni would miss and no fewer than it finds', () => {
    const ps = [0.001, 0.011, 0.02, 0.5];
    const h = holm(ps, 0.05);
    assert.deepEqual(h.rejected, [true, true, true, false], 'Holm: 0.001<0.0125, 0.011<0.0167, 0.02<0.025, 0.5≥0.05');
    assert.deepEqual(ps.map((p) => p < 0.05 / 4), [true, true, false, false], 'Bonferroni finds two');
    assert.deepEqual(holm([], 0.05), { rejected: [], level: [] }, 'an empty family');
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
