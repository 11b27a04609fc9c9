/**
 * `iomodels compare` for real, on one checkout: it stops on its own once the
 * gate is settled, and on a tiny budget after one round. The planted
 * regression is one extra syscall (getpid) per request: a change the
 * anatomy's counts show from three rounds, whatever the machine's load
 * does to timing. Bounded: at most a few rounds of one ~2 s cell a side.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Results } from '../../core/results.js';
import { CLI } from '../helpers/serve.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-compare-serial-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CELL = ['--strategies', 'libuv', '--workloads', 'http', '--connections', '10', '--duration', '0.5', '--warmup', '0.25'];

function compare(out: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'compare', ...CELL, ...args, '--out', out], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('compare on this machine', () => {
  test('stops on its own within 3 rounds when one extra syscall per request is planted: REGRESSION, exit 1', (t) => {
    const out = path.join(dir, 'syscall');
    const r = compare(out, ['--current-args', '--extra-syscalls 1', '--budget', '4m']);
    const first = JSON.parse(readFileSync(path.join(out, 'round-01', 'base', 'results.json'), 'utf8')) as Results;
    if (first.cells[0]?.server.anatomy?.source !== 'perf') {
      t.skip(`the anatomy was not counted by perf here (${first.cells[0]?.server.anatomy?.note ?? 'no anatomy'})`);
      return;
    }
    assert.equal(r.code, 1, `a regression exits 1; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stdout, /^3 round\(s\) .*stopped: every compared cell has a REGRESSION/m, `stopped after 3 rounds, settled:\n${r.stdout}`);
    assert.match(r.stdout, /\| \| getpid\/op \|.*REGRESSION/, 'through syscalls per op');
    assert.match(r.stdout, /head: this checkout with `--extra-syscalls 1`/, 'the header names the knob');
    for (const f of ['round-01/base', 'round-01/head', 'round-03/base', 'round-03/head']) {
      assert.ok(existsSync(path.join(out, f, 'results.json')), `${f}/results.json written`);
      assert.ok(!existsSync(path.join(out, f, 'report.html')), `${f}: rounds skip the charts`);
    }
    assert.ok(!existsSync(path.join(out, 'round-04')), 'no fourth round');
    assert.equal(readFileSync(path.join(out, 'compare.md'), 'utf8').trim(), r.stdout.trim(), 'compare.md is the table printed');
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('round ')).length, 3, 'a progress line per round');
  });

  test('on a tiny budget: one round, INCONCLUSIVE, exit 0', () => {
    const out = path.join(dir, 'tiny');
    const r = compare(out, ['--budget', '1s']);
    assert.equal(r.code, 0, `unresolved is not a regression; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stdout, /^1 round\(s\) .*would not fit the budget of 1\.0s/m, r.stdout);
    assert.match(r.stdout, /INCONCLUSIVE: needs at least 2 repetitions a side/, 'one repetition a side has no interval');
    assert.ok(!existsSync(path.join(out, 'round-02')), 'no second round');
  });
});
