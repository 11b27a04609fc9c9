/**
 * End to end: `check` catches a real server slowdown. A baseline of http at
 * --work-us 0 against a current run at --work-us 200 (each request burns
 * 200 µs of server CPU) must be flagged, exit 1, naming the cell. The sides
 * are interleaved round by round, as in the A/A test, so machine drift hits
 * both alike. Bounded: 14 bench runs of one ~2 s cell.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CLI } from '../helpers/serve.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-ab-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function bench(out: string, workUs: number): void {
  const r = spawnSync(
    process.execPath,
    [CLI, 'bench', '--strategies', 'libuv', '--workloads', 'http', '--connections', '10', '--duration', '1', '--warmup', '0.25', '--work-us', String(workUs), '--out', out],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, `bench into ${out} exited ${r.status}: ${r.stderr}`);
}

test('http at --work-us 200 against a --work-us 0 baseline is flagged as a regression', () => {
  const base: string[] = [];
  const cur: string[] = [];
  // Seven a side: a shared machine can starve one baseline run to a fraction
  // of its speed, and 7 v 7 still reaches p < 0.01 with one such outlier.
  for (let i = 0; i < 7; i++) {
    for (const [side, list, workUs] of [['base', base, 0], ['cur', cur, 200]] as const) {
      const out = path.join(dir, `${side}${i}`);
      bench(out, workUs);
      list.push(path.join(out, 'results.json'));
    }
  }
  const r = spawnSync(process.execPath, [CLI, 'check', '--baseline', ...base, '--current', ...cur], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
  assert.equal(r.status, 1, `a 200 µs/request slowdown must fail the gate; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, /\| libuv\/http\/10 \|.*regression/i, 'the regressed cell is named');
});
