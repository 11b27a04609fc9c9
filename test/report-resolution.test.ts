/**
 * Each table of the report states its resolution: the smallest difference
 * between strategies its repetitions can resolve, from the same statistics
 * as `check` (reports/stats.ts), and says so when one repetition cannot.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderSummaryTable } from '../reports/markdown.js';
import { studentTQuantile, tableResolution } from '../reports/stats.js';
import { testResults, windowCell } from './helpers/fixtures.js';

describe('the report states its resolution', () => {
  it('pooled over the table\'s cells, at 95%, for its repetitions', () => {
    const s = 0.1;
    // Logs of each cell at m, m + s, m − s: a pooled log spread of exactly s.
    const reps = (m: number): number[] => [m, m * Math.exp(s), m * Math.exp(-s)];
    const r = tableResolution([reps(1000), reps(3000)]);
    const expected = Math.exp(studentTQuantile(0.975, 4) * s * Math.sqrt(2 / 3)) - 1;
    assert.ok(r !== undefined && Math.abs(r.ratio - expected) < 1e-12, `±${r?.ratio} = ±${expected}`);
    assert.equal(r.reps, 3, 'three repetitions per cell');
    assert.equal(tableResolution([[1000], [2000]]), undefined, 'one repetition: no spread to pool');
  });

  it('the summary table says it, and says when it cannot', () => {
    const cells = [0, 1, 2].flatMap((rep) => [windowCell('libuv', 10, rep, [1000, 1100, 905][rep] ?? 0), windowCell('epoll', 10, rep, [2000, 2210, 1810][rep] ?? 0)]);
    const text = renderSummaryTable(testResults(cells, { strategies: ['libuv', 'epoll'], repeat: 3 }), 'echo');
    assert.match(text, /\*Resolution\*: from 3 repetitions per cell, this table tells strategies apart by throughput only when they differ by more than ±\d+%/, text);
    const one = renderSummaryTable(testResults([windowCell('libuv', 10, 0, 1000), windowCell('epoll', 10, 0, 2000)], { strategies: ['libuv', 'epoll'] }), 'echo');
    assert.match(one, /one repetition per cell, so this table cannot say which differences are noise/, one);
  });
});
