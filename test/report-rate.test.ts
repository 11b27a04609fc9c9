/** report.md shows the achieved open-loop rate against its target, and flags client-bound cells. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCellTable } from '../reports/markdown.js';
import { testCell as cell } from './helpers/fixtures.js';

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

test('a cell that completed no operation shows no latency or CPU per op, rather than zeros', () => {
  const served = cell({});
  const none = cell({ ops: 0, opsPerSec: 0, status: 'capped' });
  const rows = renderCellTable([served, none]).trim().split('\n');
  const cols = (row: string): string[] => row.split('|').map((x) => x.trim());
  const head = cols(rows[0] ?? '');
  const at = (row: string, name: string): string => cols(row)[head.indexOf(name)] ?? '';
  assert.notEqual(at(rows[2] ?? '', 'p50'), '–', 'a served cell shows its p50');
  for (const name of ['p50', 'p99', 'server CPU µs/op']) assert.equal(at(rows[3] ?? '', name), '–', `${name} of an empty cell`);
});
