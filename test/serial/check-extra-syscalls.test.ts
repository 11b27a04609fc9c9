/**
 * End to end: `check` catches a real, small server regression. A baseline
 * of http against a current run that makes one extra syscall (getpid) per
 * request: a small cost in time, lost in this machine's timing noise,
 * but one more kernel crossing per request in the anatomy's counts,
 * which move by a few percent. Three interleaved rounds a side (A B A B A B,
 * so drift hits both alike) must give a REGRESSION through syscalls per op,
 * exit 1, naming the cell. Counting, not timing: not flaky on a busy
 * machine. Needs perf (the /proc fallback counts no syscalls by name).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { Results } from '../../core/results.js';
import { checkRun, interleavedBenches } from '../helpers/bench.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-syscalls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const http = (extra: number): string[] => [
  '--strategies', 'libuv', '--workloads', 'http', '--connections', '10', '--duration', '1', '--warmup', '0.25', '--no-charts', '--extra-syscalls', String(extra),
];

test('http with one extra syscall per request against a baseline without: REGRESSION through syscalls per op from 3 rounds', (t) => {
  const [base, cur] = interleavedBenches(dir, 3, [
    { name: 'base', args: http(0) },
    { name: 'cur', args: http(1) },
  ]);
  const first = JSON.parse(readFileSync(base[0] ?? '', 'utf8')) as Results;
  if (first.cells[0]?.server.anatomy?.source !== 'perf') {
    t.skip(`the anatomy was not counted by perf here (${first.cells[0]?.server.anatomy?.note ?? 'no anatomy'})`);
    return;
  }
  const r = checkRun(base, cur);
  assert.equal(r.status, 1, `one syscall more per request must fail the gate; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, /\| \| getpid\/op \|.*REGRESSION/, `getpid per op is the regression:\n${r.stdout}`);
  assert.match(r.stdout, /regression\(s\).*libuv\/http\/10 \(.*getpid\/op/, 'the summary names the cell and the metric');
});
