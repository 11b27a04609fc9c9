/**
 * `iomodels check` as users run it: the CLI as a child process on results
 * files written to a temp dir, and its pure half (compareResults) on crafted
 * results at both sides of each boundary. Exit codes are the contract: 0 no
 * regression (INCONCLUSIVE included), 1 regression, 2 unusable input (one
 * line naming the file).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Anatomy, Cell, Results } from '../core/results.js';
import { compareResults, COUNT_OFFSET, type CheckOutcome, type MetricComparison } from '../reports/check.js';
import { studentTQuantile } from '../reports/stats.js';
import { testCell, testResults } from './helpers/fixtures.js';
import { CLI } from './helpers/serve.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Group {
  strategy?: string;
  connections?: number;
  /** Throughput of each repetition. */
  ops: number[];
  clientBound?: boolean;
  failed?: boolean;
  /** Idle connections of the cell; undefined writes no field (a file from before idle existed). */
  idle?: number;
  /** Server CPU µs per op of each repetition (default 100). */
  cpu?: number[];
  /** Every repetition capped with this reason (the server refused or kept waiting part of the load). */
  capped?: string;
  /** Which repetitions were client-bound (overrides clientBound per rep). */
  clientBoundReps?: number[];
  /** The anatomy of each repetition: total syscalls per op, by name, context switches. */
  anatomy?: { syscalls: number[]; names?: Record<string, number[]>; ctx?: number[]; source?: 'perf' | 'proc' };
}

function anatomyOf(a: NonNullable<Group['anatomy']>, rep: number): Anatomy | undefined {
  const total = a.syscalls[rep];
  if (total === undefined) return undefined;
  const syscalls: Record<string, number> = {};
  for (const [name, vs] of Object.entries(a.names ?? {})) {
    const v = vs[rep];
    if (v !== undefined && v > 0) syscalls[name] = v;
  }
  return {
    source: a.source ?? 'perf',
    syscallsPerOp: total,
    syscalls,
    contextSwitchesPerOp: { voluntary: a.ctx?.[rep] ?? 1, involuntary: 0 },
    userUsPerOp: 5,
    kernelUsPerOp: 5,
    pageFaultsPerOp: 0,
    countedSec: 1,
  };
}

function cell(g: Group, rep: number, ops: number): Cell {
  const cb = g.clientBoundReps?.includes(rep) ?? g.clientBound ?? false;
  const anatomy = g.anatomy === undefined ? undefined : anatomyOf(g.anatomy, rep);
  return testCell({
    strategy: g.strategy ?? 'libuv',
    connections: g.connections ?? 100,
    established: g.connections ?? 100,
    rep,
    status: g.failed === true ? 'failed' : g.capped !== undefined ? 'capped' : 'ok',
    ...(g.failed === true ? { reason: 'server exited (code 1)' } : g.capped !== undefined ? { reason: g.capped } : {}),
    clientBound: cb,
    ops: Math.round(ops),
    opsPerSec: g.failed === true ? 0 : ops,
    client: { cpuPercent: cb ? 97 : 60, driver: 'net' },
    server: {
      cpuSeconds: 0.1,
      cpuUsPerOp: g.cpu?.[rep] ?? 100,
      cpuPercent: 10,
      peakRssBytes: 5e7,
      peakThreads: 7,
      peakFds: 20,
      counters: {},
      killed: false,
      ...(anatomy === undefined ? {} : { anatomy }),
    },
    ...(g.idle === undefined ? {} : { idle: g.idle }),
  });
}

function results(groups: Group[], protocol: Record<string, number> = { messageSize: 64 }): Results {
  const cells: Cell[] = [];
  const reps = Math.max(...groups.map((g) => g.ops.length));
  // Interleaved like bench: rep outermost.
  for (let rep = 0; rep < reps; rep++) {
    for (const g of groups) {
      const v = g.ops[rep];
      if (v !== undefined) cells.push(cell(g, rep, v));
    }
  }
  return testResults(cells, {
    strategies: [...new Set(groups.map((g) => g.strategy ?? 'libuv'))],
    connections: [100],
    warmupSec: 0.5,
    repeat: reps,
    serverCpus: '0',
    clientCpus: '1',
    protocol,
  });
}

let n = 0;
function file(content: Results | string): string {
  const p = path.join(dir, `r${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function check(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'check', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 with exactly one stderr line matching `re`. */
function assertUnusable(args: string[], re: RegExp): void {
  const r = check(args);
  assert.equal(r.code, 2, `${args.join(' ')}: expected exit 2, got ${r.code}; stdout ${r.stdout} stderr ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(r.stderr, re);
}

/** The cell's own row of the Markdown table (its verdict), by cell name. */
function row(stdout: string, cellName: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`| ${cellName} |`));
  assert.ok(line !== undefined, `expected a table row for ${cellName} in:\n${stdout}`);
  return line;
}

/** The row of one metric of a cell (the rows under the cell's own). */
function metricRow(stdout: string, cellName: string, label: string): string {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`| ${cellName} |`));
  assert.ok(at >= 0, `expected a table row for ${cellName} in:\n${stdout}`);
  for (let i = at + 1; i < lines.length && (lines[i] ?? '').startsWith('| |'); i++) {
    if ((lines[i] ?? '').startsWith(`| | ${label} |`)) return lines[i] ?? '';
  }
  assert.fail(`expected a ${label} row under ${cellName} in:\n${stdout}`);
}

/** compareResults on two crafted files: the pure gate, no CLI. */
function gate(b: Results, c: Results, over: { tolerance?: number; alpha?: number } = {}): CheckOutcome {
  return compareResults({ baseline: ['base.json'], current: ['cur.json'], tolerance: over.tolerance ?? 0.05, alpha: over.alpha ?? 0.05 }, b, c);
}

function metricOf(o: CheckOutcome, cellName: string, id: string): MetricComparison {
  const m = o.comparisons.find((c) => c.cell === cellName)?.metrics.find((x) => x.id === id);
  assert.ok(m !== undefined, `expected metric ${id} of ${cellName}; got ${JSON.stringify(o.comparisons.map((c) => [c.cell, c.metrics.map((x) => x.id)]))}`);
  return m;
}

const base5 = [10_000, 10_150, 9_900, 10_080, 9_950];
const low = (f: number): number[] => base5.map((v) => v * f);

/** Three repetitions around `center` whose logs are center·e^{0, +s, −s}: pooled log spread exactly s. */
const three = (center: number, s: number): number[] => [center, center * Math.exp(s), center * Math.exp(-s)];
/** An anatomy whose syscalls per op, read as count + COUNT_OFFSET as the gate does, are these. */
const counted = (syscalls: number[]): NonNullable<Group['anatomy']> => ({ syscalls: syscalls.map((v) => v - COUNT_OFFSET) });
const flat3 = [10_000, 10_000, 10_000];
/**
 * The half-width of a 3-against-3 log interval with spread s, at the level
 * Holm holds the smallest p of a family of `m` to (alpha/m).
 */
const half3 = (s: number, m: number, alpha = 0.05): number => studentTQuantile(1 - alpha / m, 4) * s * Math.sqrt(2 / 3);
const UP = Math.log(1.05);

describe('three verdicts, at both sides of each boundary (crafted files, 3 repetitions a side)', () => {
  // Four gated metrics per cell (throughput, CPU/op, syscalls/op, context switches/op): the one that moves has the smallest p, so Holm holds it to alpha/4.
  const base = (): Results => results([{ ops: flat3, anatomy: counted(three(4, 0.01)) }]);
  const cur = (ratio: number, s = 0.01): Results => results([{ ops: flat3, anatomy: counted(three(4 * ratio, s)) }]);
  const h = half3(0.01, 4);

  it('REGRESSION just past the boundary, INCONCLUSIVE just short of it', () => {
    const past = metricOf(gate(base(), cur(Math.exp(UP + 1.02 * h))), 'libuv/echo/100', 'syscalls');
    assert.equal(past.verdict, 'regression', `interval [${past.lo}, ${past.hi}] clears +5%`);
    assert.ok(past.lo > 0.05, 'its lower end is past the tolerance');
    const short = metricOf(gate(base(), cur(Math.exp(UP + 0.98 * h))), 'libuv/echo/100', 'syscalls');
    assert.equal(short.verdict, 'inconclusive', `interval [${short.lo}, ${short.hi}] touches +5%`);
    assert.ok(short.detectable !== undefined && short.detectable > 0.05, 'it says the smallest change it could have seen');
    assert.ok(short.moreReps !== undefined && short.moreReps >= 1, 'and about how many more repetitions would settle it');
  });

  it('OK just inside the band, INCONCLUSIVE just across it', () => {
    const inside = metricOf(gate(base(), cur(Math.exp(UP - 1.02 * h))), 'libuv/echo/100', 'syscalls');
    assert.equal(inside.verdict, 'ok', `interval [${inside.lo}, ${inside.hi}] inside ±5%`);
    const across = metricOf(gate(base(), cur(Math.exp(UP - 0.98 * h))), 'libuv/echo/100', 'syscalls');
    assert.equal(across.verdict, 'inconclusive', `interval [${across.lo}, ${across.hi}] reaches past +5%`);
  });

  it('without noise the tolerance itself is the boundary, both ways, for costs and for throughput', () => {
    const still = (syscalls: number): Results => results([{ ops: flat3, anatomy: counted([syscalls, syscalls, syscalls]) }]);
    // (counts read as count + COUNT_OFFSET: `counted` takes those.)
    assert.equal(metricOf(gate(still(4), still(4 * 1.051)), 'libuv/echo/100', 'syscalls').verdict, 'regression', '+5.1% syscalls');
    assert.equal(metricOf(gate(still(4), still(4 * 1.049)), 'libuv/echo/100', 'syscalls').verdict, 'ok', '+4.9% syscalls');
    assert.equal(metricOf(gate(still(4), still(4 * 0.949)), 'libuv/echo/100', 'syscalls').verdict, 'improved', '−5.1% syscalls');
    assert.equal(metricOf(gate(still(4), still(4 * 0.951)), 'libuv/echo/100', 'syscalls').verdict, 'ok', '−4.9% syscalls');
    const tp = (f: number): Results => results([{ ops: flat3.map((v) => v * f) }]);
    assert.equal(metricOf(gate(tp(1), tp(0.949)), 'libuv/echo/100', 'throughput').verdict, 'regression', '5.1% slower');
    assert.equal(metricOf(gate(tp(1), tp(0.951)), 'libuv/echo/100', 'throughput').verdict, 'ok', '4.9% slower');
    assert.equal(metricOf(gate(tp(1), tp(1.051)), 'libuv/echo/100', 'throughput').verdict, 'improved', '5.1% faster');
  });

  it('never OK when the resolution is worse than the tolerance: no change in noisy runs is INCONCLUSIVE', () => {
    const o = gate(base(), cur(1, 0.08));
    const m = metricOf(o, 'libuv/echo/100', 'syscalls');
    assert.equal(m.verdict, 'inconclusive', `no change, but ±${m.resolution} cannot rule out 5%`);
    assert.ok(m.resolution > 0.05, 'resolution worse than the tolerance');
    for (const c of o.comparisons) for (const x of c.metrics) if (x.verdict === 'ok') assert.ok(x.resolution <= 0.05 * 1.001, `${x.id} OK with resolution ${x.resolution}`);
  });

  it('one repetition a side has no interval: INCONCLUSIVE, exit 0, and says so', () => {
    const r = check(['--baseline', file(results([{ ops: [10_000] }])), '--current', file(results([{ ops: [5_000] }]))]);
    assert.equal(r.code, 0, 'no verdict is not a regression');
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'ops/s'), /INCONCLUSIVE: needs at least 2 repetitions a side/, 'verdict');
  });
});

describe('counted metrics (the anatomy)', () => {
  const names = (extra: Record<string, number[]> = {}): Record<string, number[]> => ({ recvfrom: [1, 1.01, 0.99], sendto: [1, 1, 1], epoll_wait: [1, 1.03, 0.97], ...extra });
  const noisy = [10_000, 11_500, 8_700];

  it('one extra syscall per op is a REGRESSION from 3 repetitions a side, through syscalls/op and by name, whatever throughput does', () => {
    const a = file(results([{ ops: noisy, anatomy: { syscalls: [3, 3.04, 2.96], names: names() } }]));
    const b = file(results([{ ops: [9_000, 11_000, 9_800], anatomy: { syscalls: [4, 4.04, 3.96], names: names({ getpid: [1, 1, 1] }) } }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 1, `exit 1; stdout:\n${r.stdout}`);
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'syscalls/op'), /REGRESSION/, 'the total');
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'getpid/op'), /REGRESSION/, 'the new name (0 where it was not counted)');
    assert.doesNotMatch(metricRow(r.stdout, 'libuv/echo/100', 'ops/s'), /REGRESSION/, 'throughput in its noise is no regression');
    assert.match(r.stdout, /1 regression\(s\).*libuv\/echo\/100 \(.*syscalls\/op/, 'the summary names the cell and the metric');
  });

  it('counts are compared only where both sides counted them the same way', () => {
    const perf = results([{ ops: flat3, anatomy: { syscalls: [3, 3, 3] } }]);
    const proc = results([{ ops: flat3, anatomy: { syscalls: [3, 3, 3], source: 'proc' } }]);
    const o = gate(perf, proc);
    assert.deepEqual(o.comparisons[0]?.metrics.map((m) => m.id), ['throughput', 'cpu'], 'perf against /proc: no counted metric');
    assert.match(o.markdown, /never the same way on both sides: counts not compared/, 'and the note says why');
    const none = gate(results([{ ops: flat3 }]), perf);
    assert.match(none.markdown, /anatomy was counted in 0 of 3 baseline/, 'a side without anatomy: not compared, said');
  });

  it('a repetition perf did not count is left out of the counts, not the whole cell', () => {
    const b = results([{ ops: [...flat3, 10_000], anatomy: { syscalls: [3, 3.01, 2.99, 3] } }]);
    const c = results([{ ops: [...flat3, 10_000], anatomy: { syscalls: [4, 4.01, 3.99, 4] } }]);
    const rep = c.cells.find((x) => x.rep === 1)?.server.anatomy;
    assert.ok(rep !== undefined);
    Object.assign(rep, { source: 'proc', syscallsPerOp: null, note: 'perf printed no counts' });
    const o = gate(b, c);
    const m = metricOf(o, 'libuv/echo/100', 'syscalls');
    assert.equal(m.current.length, 3, 'three perf-counted current repetitions');
    assert.equal(m.verdict, 'regression', 'still found');
    assert.match(o.markdown, /counts from the repetitions counted by perf: 4 of 4 baseline, 3 of 4 current/, 'the note says which');
  });

  it('the --normalize-to reference keeps its counts gated: they are not normalized', () => {
    const o = (syscalls: number[]): Results => results([{ ops: flat3, anatomy: { syscalls } }, { strategy: 'other', ops: flat3, anatomy: { syscalls: [3, 3, 3] } }]);
    const run = (cur: number[]): CheckOutcome =>
      compareResults({ baseline: ['b'], current: ['c'], tolerance: 0.05, alpha: 0.05, normalizeTo: { strategy: 'libuv', workload: 'echo', connections: 100 } }, o([3, 3.01, 2.99]), o(cur));
    const same = run([3, 3.01, 2.99]);
    assert.equal(same.comparisons.find((c) => c.cell === 'libuv/echo/100')?.verdict, 'reference', 'named the reference');
    assert.equal(metricOf(same, 'libuv/echo/100', 'syscalls').verdict, 'ok', 'its counts decided, not left without an interval');
    assert.equal(metricOf(same, 'libuv/echo/100', 'throughput').verdict, 'not gated', 'its timing is 1 by construction');
    const more = run([4, 4.01, 3.99]);
    assert.equal(more.comparisons.find((c) => c.cell === 'libuv/echo/100')?.verdict, 'regression', 'a count regression of the reference fails the gate');
  });

  it('context switches per op are gated: more is worse', () => {
    const o = gate(results([{ ops: flat3, anatomy: { syscalls: [3, 3, 3], ctx: [0.5, 0.51, 0.49] } }]), results([{ ops: flat3, anatomy: { syscalls: [3, 3, 3], ctx: [1, 1.02, 0.98] } }]));
    assert.equal(metricOf(o, 'libuv/echo/100', 'ctxsw').verdict, 'regression', 'twice the context switches');
  });
});

describe('Holm across every cell and metric gated at once', () => {
  // p = 0.01 unadjusted for each moving metric: below alpha alone, far above alpha/m for a table of 8 cells.
  const s = 0.01;
  const t99 = studentTQuantile(0.99, 4);
  const ratio = Math.exp(UP + t99 * s * Math.sqrt(2 / 3) * 1.0001);
  const strategies = Array.from({ length: 8 }, (_, i) => `s${i}`);

  it('eight cells each "significant" at 0.01 alone are not regressions together; one alone is', () => {
    const table = (f: number): Results => results(strategies.map((strategy) => ({ strategy, ops: flat3, anatomy: counted(three(4 * f, s)) })));
    const o = gate(table(1), table(ratio));
    for (const st of strategies) {
      const m = metricOf(o, `${st}/echo/100`, 'syscalls');
      assert.ok(m.p < 0.0101 && m.p > 0.0099, `unadjusted p ${m.p} ≈ 0.01`);
      assert.notEqual(m.verdict, 'regression', `${st}: not a regression once 32 metrics are gated together`);
      assert.ok(m.level <= 0.05 / 32 + 1e-12, `held to alpha/32, got ${m.level}`);
    }
    assert.equal(o.exitCode, 0, 'the table passes');
    const one = (f: number): Results => results([{ strategy: 's0', ops: flat3, anatomy: counted(three(4 * f, s)) }]);
    const alone = gate(one(1), one(ratio));
    assert.equal(metricOf(alone, 's0/echo/100', 'syscalls').verdict, 'regression', 'alone, 0.01 < 0.05/4');
  });

  it('a clear regression in one cell of the table is still found; the table\'s unchanged cells are not flagged', () => {
    const b = results(strategies.map((strategy) => ({ strategy, ops: flat3, anatomy: counted(three(4, s)) })));
    const c = results(strategies.map((strategy, i) => ({ strategy, ops: flat3, anatomy: counted(three(i === 3 ? 5 : 4, s)) })));
    const o = gate(b, c);
    assert.deepEqual(o.comparisons.filter((x) => x.verdict === 'regression').map((x) => x.cell), ['s3/echo/100'], 'only s3');
    assert.match(o.markdown, /Holm/, 'the table says how it was corrected');
  });
});

describe('the timing metric does not flip on one client-bound repetition', () => {
  const b5 = [10_000, 10_150, 9_900, 10_080, 9_950];
  const cpu5 = [100, 101, 99, 100.5, 99.5];
  const metrics = (o: CheckOutcome): string[] => (o.comparisons[0]?.metrics ?? []).map((m) => `${m.id}:${m.verdict === 'not gated' ? 'not gated' : 'gated'}`);

  it('one client-bound repetition on either side: the same metrics, the same verdicts', () => {
    const plain = gate(results([{ ops: b5, cpu: cpu5 }]), results([{ ops: b5.map((v) => v * 0.8), cpu: cpu5.map((v) => v * 1.25) }]));
    for (const [where, reps] of [['current', [2]], ['baseline', [0]]] as const) {
      const one = where === 'current'
        ? gate(results([{ ops: b5, cpu: cpu5 }]), results([{ ops: b5.map((v) => v * 0.8), cpu: cpu5.map((v) => v * 1.25), clientBoundReps: [...reps] }]))
        : gate(results([{ ops: b5, cpu: cpu5, clientBoundReps: [...reps] }]), results([{ ops: b5.map((v) => v * 0.8), cpu: cpu5.map((v) => v * 1.25) }]));
      assert.deepEqual(metrics(one), metrics(plain), `one client-bound ${where} repetition changes no metric's role`);
      assert.deepEqual(
        one.comparisons[0]?.metrics.map((m) => m.verdict),
        plain.comparisons[0]?.metrics.map((m) => m.verdict),
        'nor any verdict',
      );
      assert.equal(one.comparisons[0]?.metric, 'throughput', 'the cell is still drawn by throughput');
    }
    assert.deepEqual(metrics(plain), ['throughput:gated', 'cpu:gated'], 'both timing metrics are gated');
  });

  it('half or more of all repetitions client-bound: throughput is shown, not gated; CPU per op carries the cell', () => {
    const o = gate(results([{ ops: b5, cpu: cpu5, clientBoundReps: [0, 1] }]), results([{ ops: b5.map((v) => v * 0.7), cpu: cpu5, clientBoundReps: [1, 2, 4] }]));
    assert.deepEqual(metrics(o), ['throughput:not gated', 'cpu:gated'], '5 of 10 client-bound');
    assert.equal(o.comparisons[0]?.verdict, 'ok', 'the same CPU per op: the server did not get slower');
    assert.equal(o.comparisons[0]?.metric, 'cpu', 'drawn by CPU per op');
    assert.match(o.markdown, /client-bound in 5 of 10 repetitions/, 'the row says why');
  });
});

describe('check through the CLI', () => {
  it('identical samples exit 0 with an OK row', () => {
    const a = file(results([{ ops: base5 }]));
    const b = file(results([{ ops: base5 }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 0, `identical files must pass; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /OK/, 'verdict OK');
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'ops/s'), /OK: no change larger than 5%/, 'in the words of the gate');
    assert.match(r.stdout, /No regression/, 'summary line');
  });

  it('a 25% slowdown with low noise exits 1 and names the cell', () => {
    const a = file(results([{ ops: base5 }, { strategy: 'other', ops: base5 }]));
    const b = file(results([{ ops: low(0.75) }, { strategy: 'other', ops: base5 }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 1, `expected exit 1; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /REGRESSION/, 'slowed cell flagged');
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'ops/s'), /-25\.0%/, 'change shown');
    assert.doesNotMatch(row(r.stdout, 'other/echo/100'), /REGRESSION/, 'unchanged cell not flagged');
    assert.match(r.stdout, /1 regression\(s\).*libuv\/echo\/100/, 'summary names the cell');
  });

  it('more throughput is an improvement, never a regression', () => {
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: low(1.3) }]))]);
    assert.equal(r.code, 0, 'faster passes');
    assert.match(row(r.stdout, 'libuv/echo/100'), /improved/, 'verdict improved');
  });

  it('a slowdown inside the noise (±30%) is INCONCLUSIVE: exit 0, visible in the output and the step summary', () => {
    const noisy = [10_000, 13_000, 7_000, 12_000, 8_500];
    const noisyLow = [7_200, 10_400, 9_100, 6_800, 11_900];
    const summary = path.join(dir, 'summary-inconclusive.md');
    writeFileSync(summary, '');
    const r = check(['--baseline', file(results([{ ops: noisy }])), '--current', file(results([{ ops: noisyLow }]))], { GITHUB_STEP_SUMMARY: summary });
    assert.equal(r.code, 0, `not resolved is not a regression; stdout:\n${r.stdout}`);
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'ops/s'), /INCONCLUSIVE: resolution ±\d+\.\d%, could only have seen -\d+\.\d% or worse; about \d+ more repetition/, 'says what it could see');
    assert.match(readFileSync(summary, 'utf8'), /1 metric\(s\) INCONCLUSIVE/, 'the step summary shows it');
  });

  it('a clear slowdown below the tolerance is OK, and a REGRESSION with a smaller tolerance', () => {
    const a = file(results([{ ops: base5 }]));
    const b = file(results([{ ops: low(0.9) }]));
    assert.equal(check(['--baseline', a, '--current', b, '--tolerance', '15%']).code, 0, '10% slower within a 15% tolerance');
    assert.equal(check(['--baseline', a, '--current', b, '--tolerance', '0.05']).code, 1, '10% slower beyond a 5% tolerance');
  });

  it('a client-bound current run that spends more server CPU per op is a regression; less is an improvement', () => {
    const cpu5 = [100, 101, 99, 100.5, 99.5];
    const r = check(['--baseline', file(results([{ ops: base5, cpu: cpu5 }])), '--current', file(results([{ ops: base5, clientBound: true, cpu: cpu5.map((v) => v * 1.3) }]))]);
    assert.equal(r.code, 1, `30% more CPU per op at the client's pace: the server got slower; stdout:\n${r.stdout}`);
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'server CPU µs/op'), /\+30\.0%.*REGRESSION/, 'flagged on CPU per op');
    const better = check(['--baseline', file(results([{ ops: base5, cpu: cpu5 }])), '--current', file(results([{ ops: low(0.7), clientBound: true, cpu: cpu5.map((v) => v * 0.7) }]))]);
    assert.equal(better.code, 0, 'less CPU per op passes');
    assert.match(row(better.stdout, 'libuv/echo/100'), /improved/, 'less CPU per op is an improvement, whatever the client\'s throughput did');
    const within = check(['--baseline', file(results([{ ops: base5, cpu: cpu5 }])), '--current', file(results([{ ops: base5, clientBound: true, cpu: cpu5.map((v) => v * 1.03) }]))]);
    assert.equal(within.code, 0, `3% more CPU per op is inside a 5% tolerance; stdout:\n${within.stdout}`);
  });

  it('client-bound without a server CPU figure is unreliable: nothing measures the server', () => {
    const blind = check(['--baseline', file(results([{ ops: base5, clientBound: true }])), '--current', file(results([{ ops: low(0.5), clientBound: true, cpu: [0, 0, 0, 0, 0] }]))]);
    assert.equal(blind.code, 0, 'nothing to compare is not a regression');
    assert.match(row(blind.stdout, 'libuv/echo/100'), /unreliable \(client-bound\)/, 'verdict');
    assert.match(blind.stdout, /no server CPU figure in the current run/, 'the row says why');
  });

  it('normalized, CPU per op is divided by the reference cell\'s CPU per op of the same repetition', () => {
    const cpu5 = [100, 101, 99, 100.5, 99.5];
    const a = file(results([{ ops: base5, cpu: cpu5.map((v) => v / 2) }, { strategy: 'other', ops: base5, cpu: cpu5 }]));
    // A machine at half the speed: every server spends twice the CPU per op.
    const slow = file(results([{ ops: low(0.5), cpu: cpu5 }, { strategy: 'other', ops: low(0.5), cpu: cpu5.map((v) => v * 2) }]));
    assert.equal(check(['--baseline', a, '--current', slow]).code, 1, 'raw: twice the CPU per op');
    const norm = check(['--baseline', a, '--current', slow, '--normalize-to', 'libuv/echo/100']);
    assert.equal(norm.code, 0, `normalized by the reference: no regression; stdout:\n${norm.stdout}`);
    assert.match(metricRow(norm.stdout, 'other/echo/100', 'CPU/op ÷ ref'), /2\.000×/, 'other\'s CPU per op is twice the reference\'s on both sides');
    const worse = file(results([{ ops: low(0.5), cpu: cpu5 }, { strategy: 'other', ops: low(0.5), cpu: cpu5.map((v) => v * 3) }]));
    const r = check(['--baseline', a, '--current', worse, '--normalize-to', 'libuv/echo/100']);
    assert.equal(r.code, 1, `other spends 1.5× more CPU per op relative to the reference; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'other/echo/100'), /REGRESSION/, 'names the cell');
  });

  it('a cell capped only in the baseline measured another load: shown, not gated, whatever its drop', () => {
    const a = file(results([{ ops: base5, capped: 'starved: waited > 1 s for a thread ×81' }]));
    const b = file(results([{ ops: low(0.4) }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 0, `a drop against a capped baseline is not a regression; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /baseline capped/, 'verdict says why');
    assert.match(metricRow(r.stdout, 'libuv/echo/100', 'ops/s'), /-60\.0%/, 'the change is still shown');
    assert.match(r.stdout, /baseline was capped \(starved: waited > 1 s for a thread ×81\)/, 'the note quotes the cap');
  });

  it('a cell newly capped is a regression even when its throughput rose', () => {
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: low(1.3), capped: 'refused: FD_SETSIZE ×3' }]))]);
    assert.equal(r.code, 1, `newly capped must fail the gate; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /REGRESSION/);
    assert.match(r.stdout, /newly capped: refused: FD_SETSIZE ×3/, 'the note names the cap');
  });

  it('a cell capped in both runs is compared as measured', () => {
    const cap = 'refused: FD_SETSIZE ×3';
    const slower = check(['--baseline', file(results([{ ops: base5, capped: cap }])), '--current', file(results([{ ops: low(0.75), capped: cap }]))]);
    assert.equal(slower.code, 1, `a clear drop of a cell capped on both sides is a regression; stdout:\n${slower.stdout}`);
    const same = check(['--baseline', file(results([{ ops: base5, capped: cap }])), '--current', file(results([{ ops: base5, capped: cap }]))]);
    assert.equal(same.code, 0, 'the same capped numbers pass');
    assert.match(same.stdout, /capped in both runs/, 'and say so');
  });

  it('a failed cell is reported as failed, not as a verdict on its metrics', () => {
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: base5, failed: true }]))]);
    assert.equal(r.code, 0, 'failure is not a throughput regression');
    assert.match(row(r.stdout, 'libuv/echo/100'), /failed/, 'verdict failed');
    assert.match(r.stdout, /server exited \(code 1\)/, 'the reason is shown');
  });

  it('--normalize-to cancels a uniformly slower machine but still catches a real slowdown', () => {
    const a = file(results([{ ops: base5 }, { strategy: 'other', ops: low(0.5) }]));
    const slowMachine = file(results([{ ops: low(0.6) }, { strategy: 'other', ops: low(0.3) }]));
    assert.equal(check(['--baseline', a, '--current', slowMachine]).code, 1, 'raw: everything looks 40% slower');
    const norm = check(['--baseline', a, '--current', slowMachine, '--normalize-to', 'libuv/echo/100']);
    assert.equal(norm.code, 0, `normalized: no regression; stdout:\n${norm.stdout}`);
    assert.match(row(norm.stdout, 'libuv/echo/100'), /reference/, 'the reference row says so');
    const realDrop = file(results([{ ops: low(0.6) }, { strategy: 'other', ops: low(0.2) }]));
    const r = check(['--baseline', a, '--current', realDrop, '--normalize-to', 'libuv/echo/100']);
    assert.equal(r.code, 1, 'other dropped a third relative to the reference');
    assert.match(row(r.stdout, 'other/echo/100'), /REGRESSION/, 'names the cell');
  });

  it('appends the table to $GITHUB_STEP_SUMMARY', () => {
    const summary = path.join(dir, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: base5 }]))], { GITHUB_STEP_SUMMARY: summary });
    assert.equal(r.code, 0);
    const text = readFileSync(summary, 'utf8');
    assert.ok(text.startsWith('# earlier step\n'), 'appended, not overwritten');
    assert.match(text, /\| libuv\/echo\/100 \|/, 'the table is in the summary');
  });

  it('--png writes a 1200×700 PNG', () => {
    const png = path.join(dir, 'check.png');
    const r = check(['--baseline', file(results([{ ops: base5 }, { strategy: 'other', ops: base5 }])), '--current', file(results([{ ops: low(0.75) }, { strategy: 'other', ops: base5 }])), '--png', png]);
    assert.equal(r.code, 1, `regression still decides the exit code; stderr ${r.stderr}`);
    const bytes = readFileSync(png);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
    assert.equal(bytes.readUInt32BE(16), 1200, 'width');
    assert.equal(bytes.readUInt32BE(20), 700, 'height');
  });
});

describe('check keys cells by (strategy, workload, connections, idle)', () => {
  it('idle 0 keeps the old key, so an old baseline without idle fields still matches; idle > 0 gets its own key', () => {
    const old = file(results([{ ops: base5 }]));
    const withIdle = file(results([{ ops: base5, idle: 0 }, { ops: low(0.5), idle: 1000 }]));
    const r = check(['--baseline', old, '--current', withIdle]);
    assert.equal(r.code, 0, `idle=0 matches the old cell and is unchanged; the idle cell has no baseline; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /✅ OK/, 'the old key compares idle 0 with the old file');
    assert.match(row(r.stdout, 'libuv/echo/100/idle=1000'), /only in current/, 'the idle cell is a cell of its own, never pooled with idle 0');
  });

  it('cells that differ only in idle are compared with their own kind', () => {
    const a = file(results([{ ops: base5, idle: 0 }, { ops: base5, idle: 10_000 }]));
    const b = file(results([{ ops: base5, idle: 0 }, { ops: low(0.75), idle: 10_000 }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 1, `the idle cell slowed down; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100/idle=10000'), /REGRESSION/, 'the idle cell is flagged');
    assert.doesNotMatch(row(r.stdout, 'libuv/echo/100'), /REGRESSION/, 'idle 0 is not');
  });

  it('--normalize-to takes both key forms', () => {
    const a = file(results([{ ops: base5, idle: 1000 }, { strategy: 'other', ops: base5 }]));
    const slowMachine = file(results([{ ops: low(0.6), idle: 1000 }, { strategy: 'other', ops: low(0.6) }]));
    const r = check(['--baseline', a, '--current', slowMachine, '--normalize-to', 'libuv/echo/100/idle=1000']);
    assert.equal(r.code, 0, `normalized by the idle cell: no regression; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(row(r.stdout, 'libuv/echo/100/idle=1000'), /reference/, 'the idle reference row says so');
    assert.match(r.stdout, /divided by libuv\/echo\/100\/idle=1000 of the same run/, 'the header names the reference with its idle count');
    const plain = check(['--baseline', a, '--current', slowMachine, '--normalize-to', 'other/echo/100/idle=0']);
    assert.equal(plain.code, 0, `idle=0 names the plain cell; stderr: ${plain.stderr}`);
    assert.match(row(plain.stdout, 'other/echo/100'), /reference/, 'idle=0 is the three-part key');
  });
});

describe('check pools several files per side (interleaved A/B runs)', () => {
  it('five single-repetition runs per side give a verdict', () => {
    const a = base5.map((v) => file(results([{ ops: [v] }])));
    const same = base5.map((v) => file(results([{ ops: [v * 1.01] }])));
    const slow = base5.map((v) => file(results([{ ops: [v * 0.75] }])));
    const ok = check(['--baseline', ...a, '--current', ...same]);
    assert.equal(ok.code, 0, `pooled A/A passes; stdout:\n${ok.stdout}`);
    assert.match(metricRow(ok.stdout, 'libuv/echo/100', 'ops/s'), /\(n=5\).*\(n=5\)/, 'five pooled repetitions per side');
    const bad = check(['--baseline', ...a, '--current', ...slow]);
    assert.equal(bad.code, 1, 'pooled 25% slowdown fails');
    assert.match(row(bad.stdout, 'libuv/echo/100'), /REGRESSION/, 'names the cell');
  });
  it('a pooled file that measured something else is refused by name', () => {
    const a = file(results([{ ops: [10_000] }]));
    const odd = file(results([{ ops: [10_000] }], { messageSize: 512 }));
    assertUnusable(['--baseline', a, odd, '--current', a], new RegExp(`${path.basename(odd)}: plan.protocol/rate differ`));
  });
});

describe('check refuses unusable input (exit 2, one line naming the file)', () => {
  const good = file(results([{ ops: base5 }]));
  it('corrupt, empty, missing or foreign baseline', () => {
    const corrupt = file('{"schemaVersion": 1, "cells": [');
    assertUnusable(['--baseline', corrupt, '--current', good], new RegExp(`${corrupt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    const empty = file('');
    assertUnusable(['--baseline', empty, '--current', good], new RegExp(`${path.basename(empty)}: empty file`));
    assertUnusable(['--baseline', path.join(dir, 'nope.json'), '--current', good], /nope\.json: no such file/);
    assertUnusable(['--baseline', file('{"hello": 1}'), '--current', good], /schemaVersion undefined is not 1/);
    assertUnusable(['--baseline', good, '--current', file('[]')], /not a results object/);
  });
  it('a results file without cells', () => {
    const none = file(results([{ ops: [] }]));
    assertUnusable(['--baseline', none, '--current', good], new RegExp(`${path.basename(none)}: no cells`));
  });
  it('a cell with a wrong field', () => {
    const bad = results([{ ops: base5 }]);
    (bad.cells[0] as unknown as Record<string, unknown>)['status'] = 'great';
    assertUnusable(['--baseline', good, '--current', file(bad)], /cells\[0\]\.status/);
  });
  it('mismatched files: other message size, no cell in common', () => {
    const big = file(results([{ ops: base5 }], { messageSize: 4096 }));
    assertUnusable(['--baseline', good, '--current', big], new RegExp(`${path.basename(big)}: workload options plan.protocol .*4096.* differ`));
    const other = file(results([{ strategy: 'other', ops: base5 }]));
    assertUnusable(['--baseline', good, '--current', other], new RegExp(`${path.basename(other)}: no cell in common`));
  });
  it('a missing normalization reference', () => {
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'epoll/echo/100'], /reference cell epoll\/echo\/100 is unusable \(no such cell\)/);
  });
  it('bad flag values name the flag', () => {
    assertUnusable(['--baseline', good, '--current', good, '--tolerance', '5'], /--tolerance must be a percentage like 5%/);
    assertUnusable(['--baseline', good, '--current', good, '--tolerance', 'abc'], /--tolerance/);
    assertUnusable(['--baseline', good, '--current', good, '--tolerance', '150%'], /--tolerance/);
    assertUnusable(['--baseline', good, '--current', good, '--alpha', '0'], /--alpha must be a number between 0 and 1/);
    assertUnusable(['--baseline', good, '--current', good, '--alpha', '1.5'], /--alpha/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo'], /--normalize-to must be STRATEGY\/WORKLOAD\/CONNECTIONS/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/x'], /--normalize-to connections must be a positive integer/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/1000'], /--normalize-to must be STRATEGY\/WORKLOAD\/CONNECTIONS\[\/idle=N\]/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/idle=many'], /--normalize-to idle must be a whole number >= 0/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/idle=5/x'], /--normalize-to must be STRATEGY/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/idle=1000'], /reference cell libuv\/echo\/100\/idle=1000 is unusable \(no such cell\)/);
    assertUnusable(['--current', good], /baseline/);
  });
});
