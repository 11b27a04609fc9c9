/** report.md shows the achieved open-loop rate against its target, and flags client-bound cells. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cell } from '../harness/results.js';
import { renderCellTable } from '../reports/markdown.js';

function cell(over: Partial<Cell>): Cell {
  return {
    strategy: 'libuv',
    workload: 'echo',
    connections: 10,
    established: 10,
    rep: 0,
    status: 'ok',
    clientBound: false,
    ops: 1000,
    opsPerSec: 1000,
    bytesPerSec: 128_000,
    windowSec: 1,
    latencyUs: { p50: 50, p90: 80, p99: 120, p999: 300, max: 900, mean: 60, count: 1000, histogram: '' },
    errors: {},
    server: { cpuSeconds: 0.1, cpuUsPerOp: 100, cpuPercent: 10, peakRssBytes: 5e7, peakThreads: 7, peakFds: 20, counters: {}, killed: false },
    client: { cpuPercent: 20, driver: 'net' },
    extra: {},
    startedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

test('open-loop cells get an achieved/target column', () => {
  const md = renderCellTable([cell({ opsPerSec: 1960, targetRate: 2000, achievedRatio: 0.98 }), cell({ opsPerSec: 700, targetRate: 2000, achievedRatio: 0.35 })]);
  assert.match(md.split('\n')[0] ?? '', /achieved\/target/, 'header has the column');
  assert.match(md, /\| 98% of 2\.00k \|/, 'first cell achieved 98% of its target');
  assert.match(md, /\| 35% of 2\.00k \|/, 'second cell fell behind');
});

test('closed-loop tables have no rate column; client-bound cells are flagged', () => {
  const md = renderCellTable([cell({ clientBound: true, client: { cpuPercent: 97, driver: 'net' } })]);
  assert.doesNotMatch(md, /achieved/, 'no open-loop column in a closed-loop table');
  assert.match(md, /client-bound/, 'status says client-bound');
});
