/**
 * End to end: `check` catches a real server slowdown. A baseline of http at
 * --work-us 0 against a current run at --work-us 200 (each request burns
 * 200 µs of server CPU) must be flagged, exit 1, naming the cell. The sides
 * are interleaved round by round, as in the A/A test, so machine drift hits
 * both alike. Bounded: 14 bench runs of one ~2 s cell.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { checkRun, interleavedBenches } from '../helpers/bench.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-ab-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** http with each request burning `workUs` µs of server CPU. */
const http = (workUs: number): string[] => ['--strategies', 'libuv', '--workloads', 'http', '--connections', '10', '--duration', '1', '--warmup', '0.25', '--work-us', String(workUs)];

test('http at --work-us 200 against a --work-us 0 baseline is flagged as a regression', () => {
  // Seven a side: a shared machine can starve one baseline run to a fraction
  // of its speed, and 7 v 7 still reaches p < 0.01 with one such outlier.
  const [base, cur] = interleavedBenches(dir, 7, [
    { name: 'base', args: http(0) },
    { name: 'cur', args: http(200) },
  ]);
  const r = checkRun(base, cur);
  assert.equal(r.status, 1, `a 200 µs/request slowdown must fail the gate; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, /\| libuv\/http\/10 \|.*regression/i, 'the regressed cell is named');
});
