/**
 * `iomodels compare`'s round loop with a stand-in bench that writes crafted
 * results files: when it stops (resolved, settled, budget), the ABBA order,
 * what it writes, and its exit code. The clock is the test's, so the
 * budget is exercised without waiting. Real rounds are in
 * test/serial/compare.test.ts. Also: bad input exits 2 with one line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Results } from '../core/results.js';
import { durationSec, runCompare, splitArgs, type BenchRunner, type CompareOptions, type SideName } from '../harness/compare.js';
import { testCell, testResults } from './helpers/fixtures.js';
import { CLI } from './helpers/serve.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-compare-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One repetition of libuv/echo/100 with these syscalls per op and throughput. */
function oneRep(syscalls: number, ops: number): Results {
  const cell = testCell({
    connections: 100,
    established: 100,
    opsPerSec: ops,
    server: {
      cpuSeconds: 0.1,
      cpuUsPerOp: 100,
      cpuPercent: 10,
      peakRssBytes: 5e7,
      peakThreads: 7,
      peakFds: 20,
      counters: {},
      killed: false,
      anatomy: { source: 'perf', syscallsPerOp: syscalls, syscalls: {}, contextSwitchesPerOp: { voluntary: 0.01, involuntary: 0 }, userUsPerOp: 50, kernelUsPerOp: 50, pageFaultsPerOp: 0, countedSec: 1 },
    },
  });
  return testResults([cell], { connections: [100] });
}

/** A bench stand-in: each call writes `make(side, call)` and advances the clock by `sec`. */
function fake(make: (side: SideName, round: number) => Results, clock: { t: number }, sec = 10): { bench: BenchRunner; calls: SideName[] } {
  const calls: SideName[] = [];
  const count: Record<SideName, number> = { base: 0, head: 0 };
  const bench: BenchRunner = (side, _s, args, out) => {
    assert.ok(args.includes('--repeat') && args[args.indexOf('--repeat') + 1] === '1', 'one repetition a round');
    calls.push(side);
    count[side]++;
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'results.json'), JSON.stringify(make(side, count[side])));
    clock.t += sec * 1000;
    return Promise.resolve({ code: 0, stderr: '' });
  };
  return { bench, calls };
}

let n = 0;
function options(over: Partial<CompareOptions> = {}): CompareOptions {
  return {
    base: { args: [] },
    head: { args: [] },
    benchArgs: ['--profile', 'ci'],
    budgetSec: 600,
    minRounds: 3,
    maxRounds: 50,
    out: path.join(dir, `run${n++}`),
    tolerance: 0.05,
    alpha: 0.05,
    log: () => undefined,
    ...over,
  };
}

/** Throughput that never settles: ±30% around 10k, different every round. */
const noisy = (round: number): number => 10_000 * (1 + 0.3 * Math.sin(round * 2.1));

describe('compare stops', () => {
  it('on resolution: every metric OK after the minimum rounds, in ABBA order', async () => {
    const clock = { t: 0 };
    const { bench, calls } = fake(() => oneRep(2, 10_000), clock);
    const r = await runCompare(options(), bench, () => clock.t);
    assert.equal(r.stop, 'resolved', `stopped because resolved; ${r.markdown}`);
    assert.equal(r.rounds, 3, 'after the three rounds it must run');
    assert.deepEqual(calls, ['base', 'head', 'head', 'base', 'base', 'head'], 'ABBA');
    assert.equal(r.exitCode, 0, 'no regression');
    assert.match(r.markdown, /stopped: every gated metric is resolved/, 'says why it stopped');
  });

  it('when every cell has a regression: more rounds cannot turn it green (exit 1)', async () => {
    const clock = { t: 0 };
    const { bench } = fake((side, round) => oneRep(side === 'head' ? 3 : 2, noisy(round)), clock);
    const r = await runCompare(options(), bench, () => clock.t);
    assert.equal(r.stop, 'settled', r.markdown);
    assert.equal(r.rounds, 3, 'within 3 rounds');
    assert.equal(r.exitCode, 1, 'a regression exits 1');
    assert.match(r.markdown, /REGRESSION.*syscalls\/op|syscalls\/op.*REGRESSION/s, 'through syscalls per op');
  });

  it('on the budget, with a tiny budget: the round that would not fit is not started', async () => {
    const clock = { t: 0 };
    const { bench, calls } = fake((_side, round) => oneRep(2, noisy(round)), clock);
    const o = options({ budgetSec: durationSec('--budget', '45s') });
    const r = await runCompare(o, bench, () => clock.t);
    assert.equal(r.stop, 'budget', r.markdown);
    // Rounds of 20 s: after two (40 s) a third would end at 60 s.
    assert.equal(r.rounds, 2, 'two rounds fit 45 s');
    assert.equal(calls.length, 4, 'no bench started past the budget');
    assert.equal(r.exitCode, 0, 'unresolved is not a regression');
    assert.match(r.markdown, /would not fit the budget of 45\.0s/, 'says so');
    assert.match(r.markdown, /INCONCLUSIVE/, 'and what is unresolved');
    for (const f of ['round-01/base/results.json', 'round-02/head/results.json', 'compare.md']) assert.ok(existsSync(path.join(o.out, f)), `${f} written`);
    assert.equal(readFileSync(path.join(o.out, 'compare.md'), 'utf8').trim(), r.markdown.trim(), 'compare.md holds the final table');
  });

  it('one round always runs, however small the budget', async () => {
    const clock = { t: 0 };
    const { bench } = fake(() => oneRep(2, 10_000), clock);
    const r = await runCompare(options({ budgetSec: 1 }), bench, () => clock.t);
    assert.equal(r.rounds, 1, 'one round');
    assert.equal(r.stop, 'budget');
  });
});

describe('compare input', () => {
  it('splits --current-args like a shell, quotes grouping', () => {
    assert.deepEqual(splitArgs('--x', ` --work-us 3  --header 'X-A: b c' ""`), ['--work-us', '3', '--header', 'X-A: b c', '']);
    assert.throws(() => splitArgs('--current-args', '--header "x'), /--current-args has an unbalanced "/);
  });
  it('reads durations', () => {
    assert.equal(durationSec('--budget', '10m'), 600);
    assert.equal(durationSec('--budget', '1h30m'), 5400);
    assert.equal(durationSec('--budget', '90'), 90);
    assert.equal(durationSec('--budget', '2.5s'), 2.5);
    for (const bad of ['', 'x', '0', '10 m', '-1m']) assert.throws(() => durationSec('--budget', bad), /--budget must be a duration/, bad);
  });
  it('bad flags exit 2 with one line naming them, before any round', () => {
    for (const [args, re] of [
      [['--budget', 'soon'], /--budget must be a duration/],
      [['--baseline', path.join(dir, 'nope')], /--baseline .*nope: no such directory/],
      [['--current', dir], /--current .*: no dist\/harness\/cli\.js/],
      [['--current-args', '--work-us "3'], /--current-args has an unbalanced/],
      [['--min-rounds', '0'], /--min-rounds/],
      [['--min-rounds', '5', '--max-rounds', '4'], /--max-rounds 4 is below --min-rounds 5/],
      [['--tolerance', '5'], /--tolerance/],
    ] as const) {
      const r = spawnSync(process.execPath, [CLI, 'compare', ...args, '--out', path.join(dir, 'never')], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: exit 2, got ${r.status}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
