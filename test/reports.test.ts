/**
 * reports/: a results fixture with repetitions, a failed, a capped and a
 * client-bound cell (real HDR histograms) → PNGs and report.md.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { ChartDataset } from 'chart.js';
import { compareResults } from '../reports/check.js';
import type { Cell, Results } from '../core/results.js';
import { encodeHistogram, newHistogram, recordUs, summarize } from '../core/latency.js';
import { groupCells, groupEstimate, idleSweeps } from '../reports/aggregate.js';
import { estimate, seededRandom } from '../reports/stats.js';
import { CHART_HEIGHT, CHART_WIDTH, niceLogCeil, niceLogFloor, percentileLabel, planCharts, type ChartSpec, type ErrorBar } from '../reports/charts.js';
import { renderReport } from '../reports/markdown.js';
import { strategyColour } from '../reports/palette.js';
import { renderChart } from '../reports/render.js';
import { writeReport } from '../reports/write.js';
import { testCell, testResults, windowCell } from './helpers/fixtures.js';
import { idleCell, idleResults, IDLE_STRATEGIES } from './helpers/idle-fixture.js';

const STRATEGIES = ['libuv', 'epoll', 'select', 'blocking'];
const CONNECTIONS = [10, 100, 1000];
const REPEAT = 3;

/** A cell with a real HDR histogram of `samples` latencies around `baseUs`. */
function cell(strategy: string, workload: string, connections: number, rep: number, over: Partial<Cell> = {}): Cell {
  const rand = seededRandom(connections * 131 + rep * 7 + strategy.length);
  const baseUs = 50 + connections * (1 + 0.3 * Math.max(0, STRATEGIES.indexOf(strategy)));
  const h = newHistogram();
  for (let i = 0; i < 5000; i++) recordUs(h, baseUs * (1 + 3 * rand() ** 8));
  const summary = summarize(h);
  const histogram = encodeHistogram(h);
  h.destroy();
  const ops = Math.round((20_000 + 1_000 * STRATEGIES.indexOf(strategy) + 500 * rep) * Math.log10(connections));
  return windowCell(strategy, connections, rep, ops, {
    workload,
    latencyUs: { ...summary, histogram },
    server: { cpuSeconds: 0.5, cpuUsPerOp: 5e5 / ops, cpuPercent: 50, peakRssBytes: (60 + connections / 10) * 2 ** 20, peakThreads: strategy === 'blocking' ? connections + 2 : 7, peakFds: connections + 20, counters: {}, killed: false },
    client: { cpuPercent: 40, driver: 'net' },
    ...over,
  });
}

function fixture(): Results {
  const cells: Cell[] = [];
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const n of CONNECTIONS) {
      for (const s of STRATEGIES) {
        let over: Partial<Cell> = {};
        if (s === 'blocking' && n === 1000) over = { status: 'failed', reason: 'thread pool exhausted: server stopped accepting', ops: 0, opsPerSec: 0 };
        if (s === 'select' && n === 1000) over = { status: 'capped', reason: 'FD_SETSIZE 1024: 978 of 1000 connections refused', established: 22 };
        if (s === 'epoll' && n === 10) over = { clientBound: true, client: { cpuPercent: 97, driver: 'net' } };
        cells.push(cell(s, 'echo', n, rep, over));
      }
    }
  }
  // Chat cells, as the chat workload writes them: extras, no registry entry needed.
  for (const n of [10, 100]) {
    for (const s of ['libuv', 'epoll']) {
      cells.push(cell(s, 'chat', n, 0, { extra: { deliveries: n * 1000, deliveriesPerSec: n * 1000, deliveryP99Us: 300 + n, deliveryP50Us: 80 + n } }));
    }
  }
  return testResults(cells, {
    strategies: STRATEGIES,
    workloads: ['echo', 'chat'],
    connections: CONNECTIONS,
    durationSec: 3,
    warmupSec: 1,
    repeat: REPEAT,
    serverCpus: '0',
    clientCpus: '1',
    protocol: {},
    maxServerRssBytes: 2 ** 31,
  });
}

/** Width and height from a PNG's IHDR, after checking the signature. */
function pngSize(buf: Buffer): { width: number; height: number } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'expected the 8-byte PNG signature');
  assert.equal(buf.subarray(12, 16).toString('latin1'), 'IHDR', 'expected IHDR as the first chunk');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

function chart(specs: readonly ChartSpec[], workload: string, kind: ChartSpec['kind']): ChartSpec {
  const c = specs.find((s) => s.workload === workload && s.kind === kind);
  assert.ok(c !== undefined, `expected a ${kind} chart for ${workload}; got ${specs.map((s) => s.file).join(', ')}`);
  return c;
}

function dataset(spec: ChartSpec, label: string): ChartDataset<'line'> {
  const d = spec.config.data.datasets.find((x) => x.label === label);
  assert.ok(d !== undefined, `expected dataset "${label}" in ${spec.file}; got ${spec.config.data.datasets.map((x) => x.label).join(', ')}`);
  return d;
}

/**
 * The rows of the table under `### heading` of `## workload` in report.md,
 * each as its trimmed columns, by its first column.
 */
function tableLines(md: string, workload: string, heading: string): string[][] {
  const lines = md.split('\n');
  const start = lines.indexOf(`## ${workload}`);
  assert.ok(start >= 0, `expected a section for ${workload}`);
  const at = lines.findIndex((l, i) => i > start && l.startsWith(`### ${heading}`));
  assert.ok(at > start, `expected "### ${heading}" in the ${workload} section`);
  const rows: string[][] = [];
  let i = lines.findIndex((l, j) => j > at && l.startsWith('|')) + 2;
  for (; lines[i]?.startsWith('|') === true; i++) rows.push((lines[i] ?? '').split('|').slice(1, -1).map((c) => c.trim()));
  return rows;
}

function tableRows(md: string, workload: string, heading: string): Map<string, string[]> {
  return new Map(tableLines(md, workload, heading).map((cols) => [cols[0] ?? '', cols]));
}

function throughputRow(md: string, workload: string, connections: string): string[] {
  const row = tableRows(md, workload, 'Throughput').get(connections);
  assert.ok(row !== undefined, `expected a ${workload} throughput row for ${connections} connections`);
  return row;
}

function xs(d: ChartDataset<'line'>): number[] {
  return (d.data as { x: number }[]).map((p) => p.x);
}

const results = fixture();
const specs = planCharts(results);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iomodels-reports-'));
after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('chart configs', () => {
  test('every workload gets its charts; chat gets deliveries and delivery latency', () => {
    const kinds = specs.map((s) => `${s.workload}/${s.kind}`);
    for (const k of ['echo/throughput', 'echo/latency', 'echo/hdr', 'echo/cpu', 'echo/rss', 'echo/threads', 'chat/deliveries', 'chat/delivery-latency']) {
      assert.ok(kinds.includes(k), `expected chart ${k}; got ${kinds.join(', ')}`);
    }
    assert.ok(!kinds.includes('echo/deliveries'), 'expected no deliveries chart for echo');
    assert.equal(new Set(specs.map((s) => s.file)).size, specs.length, 'expected unique file names');
  });

  test('a failed cell is a cross at its connection count; the strategy line has a gap there', () => {
    const t = chart(specs, 'echo', 'throughput');
    const failed = dataset(t, 'failed');
    assert.equal(failed.pointStyle, 'crossRot', 'expected failed cells drawn as crosses');
    assert.deepEqual(xs(failed), [1000], 'expected one failed marker, at 1000 connections');
    assert.deepEqual(failed.pointBorderColor, [strategyColour('blocking')], 'expected the cross in blocking\'s colour');
    const blocking = dataset(t, 'blocking');
    const at1000 = (blocking.data as { x: number; y: number }[]).find((p) => p.x === 1000);
    assert.ok(at1000 !== undefined && Number.isNaN(at1000.y), 'expected no blocking value (a gap) at 1000 connections');
  });

  test('a capped cell is a triangle, a client-bound cell is hollow', () => {
    for (const kind of ['throughput', 'latency', 'cpu'] as const) {
      const c = chart(specs, 'echo', kind);
      const select = dataset(c, kind === 'latency' ? 'select p99' : 'select');
      const i = xs(select).indexOf(1000);
      assert.ok(Array.isArray(select.pointStyle), 'expected per-point styles');
      assert.equal((select.pointStyle as string[])[i], 'triangle', `expected a triangle at select × 1000 in ${kind}`);
      assert.equal((select.pointStyle as string[])[0], 'circle', `expected a plain point at select × 10 in ${kind}`);
      const epoll = dataset(c, kind === 'latency' ? 'epoll p99' : 'epoll');
      const j = xs(epoll).indexOf(10);
      assert.equal((epoll.pointBackgroundColor as string[])[j], '#ffffff', `expected a hollow point at epoll × 10 in ${kind}`);
      assert.equal((epoll.pointBackgroundColor as string[])[xs(epoll).indexOf(100)], strategyColour('epoll'), 'expected a filled point at epoll × 100');
    }
  });

  test('the legend explains every marker present', () => {
    const t = chart(specs, 'echo', 'throughput');
    const gen = t.config.options?.plugins?.legend?.labels?.generateLabels;
    assert.ok(gen !== undefined, 'expected a legend generator');
    const items = (gen as () => { text: string; pointStyle?: unknown }[])();
    const texts = items.map((x) => x.text).join(' | ');
    for (const word of ['failed', 'capped', 'client-bound', 'libuv', 'epoll', 'select', 'blocking']) assert.ok(texts.includes(word), `expected "${word}" in the legend: ${texts}`);
  });

  test('repetitions give 95% CI error bars that bracket the plotted median', () => {
    const t = chart(specs, 'echo', 'throughput');
    const bars = (t.config.options?.plugins?.errorBars?.bars ?? []) as ErrorBar[];
    assert.ok(bars.length >= 8, `expected error bars for the repeated cells, got ${bars.length}`);
    for (const b of bars) {
      const d = t.config.data.datasets[b.dataset];
      const y = (d?.data[b.index] as { y: number } | undefined)?.y;
      assert.ok(y !== undefined && b.lo <= y && y <= b.hi, `expected lo ${b.lo} ≤ median ${String(y)} ≤ hi ${b.hi}`);
      assert.equal(b.colour, d?.borderColor, 'expected the bar in its line\'s colour');
    }
  });

  test('strategies are dodged apart by pixels, never by changing their data', () => {
    const t = chart(specs, 'echo', 'threads');
    const px = (t.config.options?.plugins?.dodge?.px ?? []) as number[];
    assert.equal(px.length, t.config.data.datasets.length, 'expected one offset per dataset');
    const strategyOffsets = t.config.data.datasets.flatMap((d, i) => (d.label === 'failed' ? [] : [px[i]]));
    assert.equal(new Set(strategyOffsets).size, strategyOffsets.length, `expected a distinct offset per strategy: ${strategyOffsets.join(', ')}`);
    for (const d of t.config.data.datasets) {
      for (const x of xs(d)) assert.ok(CONNECTIONS.includes(x), `expected true connection counts as x, got ${x}`);
    }
  });

  test('one fixed colour per strategy in every chart', () => {
    for (const s of specs) {
      for (const d of s.config.data.datasets) {
        const strategy = STRATEGIES.find((x) => d.label === x || d.label?.startsWith(`${x} `) === true);
        if (strategy !== undefined) assert.equal(d.borderColor, strategyColour(strategy), `expected ${strategy}'s colour in ${s.file}`);
      }
    }
    const colours = ['libuv', 'node-http', 'blocking', 'busypoll', 'select', 'poll', 'epoll', 'kqueue', 'sigio', 'io-uring', 'external'].map(strategyColour);
    assert.equal(new Set(colours).size, colours.length, 'expected distinct colours for the known strategies');
    assert.equal(strategyColour('my-new-one'), strategyColour('my-new-one'), 'expected a stable hashed colour');
    assert.match(strategyColour('my-new-one'), /^#[0-9a-f]{6}$/, 'expected #rrggbb');
  });

  test('axes: log connections, units named, title names workload, duration and machine', () => {
    for (const s of specs) {
      const scales = s.config.options?.scales ?? {};
      assert.equal(scales['x']?.type, 'logarithmic', `expected a log x axis in ${s.file}`);
      for (const [id, axis] of Object.entries(scales)) {
        const title = (axis as { title?: { text?: string } }).title?.text ?? '';
        assert.match(title, /\(.+\)/, `expected a unit in the ${id} axis title of ${s.file}: "${title}"`);
      }
      const plugins = s.config.options?.plugins;
      assert.ok(String(plugins?.title?.text).startsWith(`${s.workload}:`), `expected the workload in the title of ${s.file}`);
      const raw = plugins?.subtitle?.text;
      const sub = (Array.isArray(raw) ? raw : [raw]).join(' ');
      assert.ok(sub.includes('3 s measured') && sub.includes('Test CPU'), `expected duration and machine in the subtitle of ${s.file}: ${sub}`);
    }
  });

  test('the HDR chart is at the largest connection count and skips failed cells', () => {
    const h = chart(specs, 'echo', 'hdr');
    assert.equal(h.file, 'echo-hdr-c1000.png');
    const labels = h.config.data.datasets.map((d) => d.label ?? '');
    assert.ok(labels.some((l) => l.startsWith('select') && l.includes('capped')), `expected select flagged capped: ${labels.join(', ')}`);
    assert.ok(!labels.some((l) => l.startsWith('blocking')), 'expected no blocking curve (failed)');
    const libuv = h.config.data.datasets.find((d) => d.label?.startsWith('libuv') === true);
    const ys = (libuv?.data as { y: number }[]).map((p) => p.y);
    assert.ok(ys.every((y, i) => i === 0 || y >= (ys[i - 1] ?? 0)), 'expected latency non-decreasing with percentile');
    assert.equal(planCharts(results, { hdrConnections: 100 }).find((s) => s.kind === 'hdr')?.file, 'echo-hdr-c100.png', 'expected the asked-for connection count');
    assert.equal(percentileLabel(2), '50%');
    assert.equal(percentileLabel(10), '90%');
    assert.equal(percentileLabel(1000), '99.9%');
    assert.equal(percentileLabel(1e5), '99.999%');
  });
});

describe('aggregation', () => {
  test('median and a deterministic bootstrap CI around it', () => {
    const a = estimate([10, 12, 11, 30, 9]);
    assert.equal(a.median, 11);
    assert.ok(a.lo <= 11 && a.hi >= 11 && a.lo >= 9 && a.hi <= 30, `expected 9 ≤ lo ≤ 11 ≤ hi ≤ 30, got ${a.lo}..${a.hi}`);
    assert.deepEqual(estimate([10, 12, 11, 30, 9]), a, 'expected the same CI every time');
    assert.deepEqual(estimate([7]), { median: 7, lo: 7, hi: 7, n: 1 });
    assert.equal(estimate([]).n, 0);
    const g = groupCells(results.cells).find((x) => x.strategy === 'blocking' && x.connections === 1000);
    assert.equal(g?.status, 'failed');
    assert.equal(g.cells.length, REPEAT, 'expected every repetition in the group');
  });

  test('one group per (strategy, workload, connections, idle); absent idle is 0', () => {
    const r = testResults([
      testCell({ rep: 0 }),
      testCell({ rep: 1, idle: 0 }),
      testCell({ rep: 0, idle: 1000, opsPerSec: 10 }),
      testCell({ rep: 1, idle: 1000, opsPerSec: 12 }),
    ]);
    const groups = groupCells(r.cells);
    assert.deepEqual(groups.map((g) => [g.idle, g.cells.length]), [[0, 2], [1000, 2]], 'expected idle 0 (with the field absent or 0) and idle 1000 apart');
    const md = renderReport(r, { charts: false });
    const row10 = md.split('\n').find((l) => l.startsWith('| 10 |'));
    assert.ok(row10?.includes('1.00k') === true, `expected the per-connection table to show idle 0 only (1.00k ops/s), not a mix with the idle cells: ${String(row10)}`);
  });

  test('a report interval and a check interval of the same repetitions are identical', () => {
    const ops = [41_000, 39_500, 44_200, 40_100, 47_900, 38_800];
    const r = testResults(
      ops.map((v, rep) => testCell({ connections: 100, established: 100, rep, ops: v, opsPerSec: v })),
      { connections: [100], repeat: ops.length },
    );
    const g = groupCells(r.cells)[0];
    assert.ok(g !== undefined, 'expected one group');
    const reported = groupEstimate(g, (c) => c.opsPerSec);
    const bar = (chart(planCharts(r), 'echo', 'throughput').config.options?.plugins?.errorBars?.bars ?? [])[0];
    const gate = compareResults({ baseline: ['a.json'], current: ['b.json'], tolerance: 0.05, alpha: 0.01 }, r, r).comparisons[0]?.current?.ci;
    assert.ok(gate !== undefined && bar !== undefined, 'expected a check interval and a chart error bar');
    assert.ok(reported.hi > reported.lo, `expected a real interval, got ${reported.lo}..${reported.hi}`);
    assert.deepEqual({ lo: gate.lo, hi: gate.hi, median: gate.median }, { lo: reported.lo, hi: reported.hi, median: reported.median }, 'check and the report tables must give the same interval');
    assert.deepEqual({ lo: bar.lo, hi: bar.hi }, { lo: reported.lo, hi: reported.hi }, 'the chart\'s error bar must be that interval too');
  });

  test('nice log bounds', () => {
    assert.equal(niceLogFloor(73), 50);
    assert.equal(niceLogCeil(73), 100);
    assert.equal(niceLogCeil(40_000), 50_000);
    assert.equal(niceLogFloor(200), 200);
  });
});

/** One echo row at 100 connections: per strategy, its repetitions' ops/s and server CPU µs/op. */
interface RowCell {
  strategy: string;
  ops: number[];
  cpu?: number[];
  clientBound?: boolean;
  status?: Cell['status'];
}

function rowResults(row: RowCell[]): Results {
  const cells = row.flatMap((r) =>
    r.ops.map((ops, rep) =>
      testCell({
        strategy: r.strategy,
        connections: 100,
        established: 100,
        rep,
        ops,
        opsPerSec: ops,
        status: r.status ?? 'ok',
        clientBound: r.clientBound ?? false,
        client: { cpuPercent: r.clientBound === true ? 97 : 50, driver: 'net' },
        server: { cpuSeconds: 0.5, cpuUsPerOp: r.cpu?.[rep] ?? 10, cpuPercent: 50, peakRssBytes: 5e7, peakThreads: 7, peakFds: 120, counters: {}, killed: false },
      }),
    ),
  );
  return testResults(cells, { strategies: row.map((r) => r.strategy), connections: [100], repeat: Math.max(...row.map((r) => r.ops.length)) });
}

const spread = (v: number): number[] => [v * 0.99, v, v * 1.01, v * 0.995, v * 1.005];

describe('verdicts name servers, not the load generator or the noise', () => {
  test('overlapping 95% intervals are printed as a tie, never a bold winner', () => {
    const md = renderReport(
      rowResults([
        { strategy: 'epoll', ops: [100_000, 110_000, 104_000, 96_000, 102_000] },
        { strategy: 'poll', ops: [99_000, 108_000, 103_000, 95_000, 101_000] },
        { strategy: 'select', ops: [97_000, 107_000, 100_000, 94_000, 104_000] },
        { strategy: 'libuv', ops: spread(50_000) },
      ]),
      { charts: false },
    );
    const verdict = throughputRow(md, 'echo', '100')[1] ?? '';
    assert.equal(verdict, 'tie: epoll, poll, select', 'expected the three overlapping leaders as a tie, best median first, and libuv (clear below) out of it');
  });

  test('a clear, non-overlapping leader is bold', () => {
    const md = renderReport(rowResults([{ strategy: 'epoll', ops: spread(200_000) }, { strategy: 'poll', ops: spread(150_000) }, { strategy: 'libuv', ops: spread(100_000) }]), { charts: false });
    assert.equal(throughputRow(md, 'echo', '100')[1], '**epoll** 200.0k', 'expected epoll bold with its median');
  });

  test('one repetition names no winner, however far apart the numbers', () => {
    const md = renderReport(rowResults([{ strategy: 'epoll', ops: [200_000] }, { strategy: 'libuv', ops: [100_000] }]), { charts: false });
    const verdict = throughputRow(md, 'echo', '100')[1] ?? '';
    assert.equal(verdict, 'no winner: 1 repetition', 'expected no winner from one repetition');
  });

  test('client-bound cells are ranked by server CPU per op, and the verdict says so', () => {
    // epoll has the most throughput, but its load child was saturated: that number is the client's.
    // The same row twice: poll clearly cheaper per op than epoll, then within the noise of it.
    for (const [epollCpu, pollCpu, verdict, why] of [
      [8, 5, '**poll** 5.0 µs/op (client-bound: by server CPU/op)', 'expected poll, the cheapest per op, named by CPU per op'],
      [5, 5.01, 'tie: epoll, poll (client-bound: by server CPU/op)', 'expected overlapping CPU per op as a tie'],
    ] as const) {
      const md = renderReport(
        rowResults([
          { strategy: 'epoll', ops: spread(160_000), cpu: spread(epollCpu), clientBound: true },
          { strategy: 'poll', ops: spread(150_000), cpu: spread(pollCpu), clientBound: true },
          { strategy: 'libuv', ops: spread(100_000), cpu: spread(10) },
        ]),
        { charts: false },
      );
      assert.equal(throughputRow(md, 'echo', '100')[1], verdict, why);
    }
  });

  test('capped and failed cells are not ranked', () => {
    const md = renderReport(
      rowResults([
        { strategy: 'select', ops: spread(300_000), status: 'capped' },
        { strategy: 'blocking', ops: spread(400_000), status: 'failed' },
        { strategy: 'epoll', ops: spread(200_000) },
        { strategy: 'libuv', ops: spread(100_000) },
      ]),
      { charts: false },
    );
    assert.equal(throughputRow(md, 'echo', '100')[1], '**epoll** 200.0k', 'expected the best cell that served the whole load');
  });

  test('a ratio to libuv involving a client-bound cell is a ratio of server CPU per op, labelled so', () => {
    const md = renderReport(
      rowResults([
        { strategy: 'libuv', ops: spread(100_000), cpu: spread(10) },
        { strategy: 'epoll', ops: spread(150_000), cpu: spread(5), clientBound: true },
        { strategy: 'blocking', ops: spread(140_000), cpu: spread(20), clientBound: true },
        { strategy: 'poll', ops: spread(120_000), cpu: spread(8) },
      ]),
      { charts: false },
    );
    const [, , libuv, epoll, blocking, poll] = throughputRow(md, 'echo', '100');
    assert.equal(libuv, '100.0k (1.00×)', 'expected the reference at 1.00×');
    assert.equal(epoll, '150.0k (2.00× less CPU/op) ○', 'expected the CPU ratio (10/5), not the throughput ratio 1.50×');
    assert.equal(blocking, '140.0k (2.00× more CPU/op) ○', 'expected the CPU ratio the other way (20/10)');
    assert.equal(poll, '120.0k (1.20×)', 'expected a throughput ratio between two cells that measured their servers');
    assert.match(md, /the bracket compares server CPU per op instead/, 'expected the section text to explain the CPU ratio');
    const cbRef = renderReport(rowResults([{ strategy: 'libuv', ops: spread(100_000), cpu: spread(10), clientBound: true }, { strategy: 'poll', ops: spread(120_000), cpu: spread(8) }]), { charts: false });
    assert.equal(throughputRow(cbRef, 'echo', '100')[3], '120.0k (1.25× less CPU/op)', 'expected a CPU ratio when the reference is the client-bound side');
  });

  test('docs/sample/results.json: no bold winner where the top cells are client-bound, overlap, or have one repetition', () => {
    const sample = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'docs', 'sample', 'results.json'), 'utf8')) as Results;
    const md = renderReport(sample, { charts: false });
    let guarded = 0;
    for (const workload of new Set(sample.cells.map((c) => c.workload))) {
      const groups = groupCells(sample.cells).filter((g) => g.workload === workload && g.idle === 0 && g.status !== 'failed');
      for (const n of new Set(groups.map((g) => g.connections))) {
        const row = groups
          .filter((g) => g.connections === n)
          .map((g) => ({ g, e: groupEstimate(g, (c) => c.opsPerSec) }))
          .sort((a, b) => b.e.median - a.e.median);
        const [top, second] = row;
        assert.ok(top !== undefined, 'expected cells in the row');
        const unsure = top.g.clientBound || top.e.n < 2 || (second !== undefined && (second.g.clientBound || (second.e.lo <= top.e.hi && top.e.lo <= second.e.hi)));
        const verdict = throughputRow(md, workload, n.toLocaleString('en-US'))[1] ?? '';
        if (unsure) {
          guarded++;
          assert.ok(!verdict.includes('**'), `${workload} × ${n}: expected no bold winner (top cells client-bound, overlapping or unrepeated), got "${verdict}"`);
        }
      }
    }
    assert.ok(guarded > 0, 'expected the sample to hold rows the rule guards');
  });
});

describe('idle connections', () => {
  const idle = idleResults();
  const md = renderReport(idle);
  const idleSpecs = planCharts(idle);

  test('the idle table: a row per (connections, idle), ops/s and CPU per op per strategy, marks, and a verdict by the rules', () => {
    const rows = tableLines(md, 'echo', 'Idle connections');
    assert.deepEqual(
      rows.map((r) => `${r[0] ?? ''}/${r[1] ?? ''}`),
      ['10/0', '10/1,000', '10/10,000', '100/0', '100/1,000', '100/10,000'],
      'expected one row per active count × idle count, in order',
    );
    const col = (strategy: string): number => 3 + IDLE_STRATEGIES.indexOf(strategy);
    const at = (n: string, i: string): string[] => rows.find((r) => r[0] === n && r[1] === i) ?? [];
    assert.match(at('10', '10,000')[col('select')] ?? '', /^\S+ · \S+ µs\/op ▲$/, 'expected select capped (▲) at 10 + 10,000 (FD_SETSIZE)');
    assert.match(at('10', '1,000')[col('select')] ?? '', /^\S+ · \S+ µs\/op$/, 'expected select uncapped at 10 + 1,000');
    assert.match(at('100', '1,000')[col('select')] ?? '', /▲$/, 'expected select capped at 100 + 1,000');
    assert.equal(at('10', '0')[col('epoll')], '150.0k · 6.4 µs/op ○', 'expected median ops/s · server CPU µs/op, client-bound marked ○');
    // epoll and io-uring are client-bound with overlapping CPU per op in every row: a tie by CPU, never bold.
    for (const r of rows) assert.equal(r[2], 'tie: io-uring, epoll (client-bound: by server CPU/op)', `expected the verdict by the rules in row ${r.join(' | ')}`);
  });

  test('the idle section states what each model predicts, without figures', () => {
    const section = md.slice(md.indexOf('### Idle connections'), md.indexOf('| connections | idle |'));
    for (const words of ['every watched fd', 'FD_SETSIZE', 'ready list', 'completions', 'libuv', 'thread per connection', 'sigio', 'busypoll']) {
      assert.ok(section.includes(words), `expected "${words}" in the idle section's text`);
    }
    assert.doesNotMatch(section.replace('1024', '').replace('95%', ''), /\d/, 'expected no measured figure in the text (the table holds those)');
  });

  test('the per-connection tables and charts hold idle-0 cells only', () => {
    const row10 = throughputRow(md, 'echo', '10');
    assert.ok(!(row10[3] ?? '').includes('▲'), `expected blocking uncapped at idle 0 (capped only with idle connections): ${row10.join(' | ')}`);
    const t = chart(idleSpecs, 'echo', 'throughput');
    for (const d of t.config.data.datasets) {
      assert.deepEqual(xs(d), [10, 100], `expected one point per connection count in ${String(d.label)}, not one per idle count`);
      const styles = d.pointStyle as string[];
      assert.ok(!styles.includes('triangle'), `expected no capped (idle) cell in the per-connection chart: ${String(d.label)}`);
    }
  });

  test('idle charts: per swept active count, evenly spaced 0 / 1,000 / 10,000, palette colours, markers and error bars', () => {
    const files = idleSpecs.filter((c) => c.kind.startsWith('idle-')).map((c) => c.file);
    assert.deepEqual(files, ['echo-idle-throughput-c10.png', 'echo-idle-cpu-c10.png', 'echo-idle-throughput-c100.png', 'echo-idle-cpu-c100.png'], 'expected throughput and CPU charts per active count');
    assert.deepEqual(idleSweeps(groupCells(idle.cells)), [{ connections: 10, idle: [0, 1000, 10_000] }, { connections: 100, idle: [0, 1000, 10_000] }]);
    for (const file of files) {
      const spec = idleSpecs.find((c) => c.file === file);
      assert.ok(spec !== undefined);
      const x = spec.config.options?.scales?.['x'] as { type?: string; afterBuildTicks?: (a: { ticks: { value: number }[] }) => void; ticks?: { callback?: (v: number) => string } } | undefined;
      assert.equal(x?.type, 'linear', `expected evenly spaced slots (not a log axis, which cannot show 0) in ${file}`);
      const axis = { ticks: [] as { value: number }[] };
      x.afterBuildTicks?.(axis);
      assert.deepEqual(axis.ticks.map((t) => t.value), [0, 1, 2], `expected one evenly spaced tick per idle count in ${file}`);
      assert.deepEqual(axis.ticks.map((t) => x.ticks?.callback?.(t.value)), ['0', '1,000', '10,000'], `expected the ticks labelled with the idle counts in ${file}`);
      for (const d of spec.config.data.datasets) if (d.label !== 'failed') assert.equal(d.borderColor, strategyColour(d.label ?? ''), `expected ${String(d.label)}'s colour in ${file}`);
      const bars = (spec.config.options?.plugins?.errorBars?.bars ?? []) as ErrorBar[];
      assert.ok(bars.length > 0, `expected 95% CI error bars from the repetitions in ${file}`);
    }
    const cpu = chart(idleSpecs, 'echo', 'idle-cpu');
    const select = dataset(cpu, 'select');
    assert.deepEqual(select.pointStyle, ['circle', 'circle', 'triangle'], 'expected select capped (triangle) at 10,000 idle');
    const medians = [0, 1000, 10_000].map((n) => {
      const g = groupCells(idle.cells).find((x) => x.strategy === 'select' && x.connections === 10 && x.idle === n);
      assert.ok(g !== undefined);
      return groupEstimate(g, (c) => c.server.cpuUsPerOp).median;
    });
    assert.deepEqual((select.data as { y: number }[]).map((p) => p.y), medians, 'expected each point to be that idle count\'s median CPU per op');
    const epoll = dataset(cpu, 'epoll');
    assert.deepEqual(epoll.pointBackgroundColor, ['#ffffff', '#ffffff', '#ffffff'], 'expected client-bound cells hollow');
    assert.deepEqual(pngSize(renderChart(cpu.config)), { width: CHART_WIDTH, height: CHART_HEIGHT }, 'expected the idle chart to render');
  });

  test('everything that names a cell shows its idle connections when it has some', () => {
    assert.match(
      md,
      /- \*\*select × echo × 10 \(\+10,000 idle\)\*\* \(rep 0\): capped — refused: FD_SETSIZE.*idle connections: 10,000 asked, 1,004 established, 1,004 still open when the window closed/,
      'expected the capped line to name the idle count and say what became of the idle connections',
    );
    assert.doesNotMatch(md, /\*\*select × echo × 10\*\* \(rep 0\): capped/, 'expected no capped line without its idle count');
    const cells = md.slice(md.indexOf('## Cells'));
    assert.match(cells, /\| strategy \| workload \| conns \| idle \| rep \|/, 'expected an idle column in the Cells table');
    assert.match(cells, /\| select \| echo \| 10 \| 10,000 \(est\. 1,004, open 1,004\) \| 0 \|/, 'expected the idle count, with what was established and still open');
    assert.doesNotMatch(renderReport(results, { charts: false }), /\| idle \|/, 'expected no idle column in a run without idle connections');
    // A run measured only with idle connections: its per-connection charts and captions say so.
    const only = testResults([0, 1].map((rep) => idleCell('epoll', 10, 1000, rep)), { strategies: ['epoll'], connections: [10], idle: [1000], repeat: 2 });
    const specs1000 = planCharts(only);
    const t = chart(specs1000, 'echo', 'throughput');
    assert.equal(t.file, 'echo-throughput-idle1000.png', 'expected the idle count in the file name');
    assert.match(t.caption, /\(\+1,000 idle\)/, 'expected the idle count in the caption');
    assert.match(String(t.config.options?.plugins?.title?.text), /\(\+1,000 idle\)$/, 'expected the idle count in the title');
    assert.match(renderReport(only, { charts: false }), /Every cell below held 1,000 idle connections/, 'expected the workload section to say its cells held idle connections');
  });

  test('a Start-up table when cells carry server.startup, and none otherwise', () => {
    const rows = md.slice(md.indexOf('## Start-up'), md.indexOf('## Caps and faults')).split('\n').filter((l) => l.startsWith('| blocking |'));
    assert.equal(rows.length, 6, `expected one start-up row per blocking cell group: ${rows.join('\n')}`);
    assert.equal(rows[3], '| blocking | echo | 100 | 100 | 290 | 120 |', 'expected threads started, start-up ms and warm-up held ms (medians over repetitions)');
    assert.ok(rows.some((r) => r.startsWith('| blocking | echo | 100 (+10,000 idle) |')), 'expected the idle count in the start-up rows');
    assert.ok(md.includes('thread per connection'), 'expected the start-up text');
    assert.doesNotMatch(renderReport(results, { charts: false }), /## Start-up/, 'expected no start-up section without start-up figures');
    assert.doesNotMatch(renderReport(results, { charts: false }), /### Idle connections/, 'expected no idle section in a run without idle connections');
  });

  test('writeReport draws and embeds the idle charts in the idle section', async () => {
    const out = path.join(tmp, 'idle-out');
    const w = await writeReport(idle, out);
    assert.deepEqual(w.warnings, [], 'expected no warnings');
    const written = readFileSync(w.reportPath, 'utf8');
    const section = written.slice(written.indexOf('### Idle connections'));
    for (const f of ['echo-idle-throughput-c10.png', 'echo-idle-cpu-c10.png', 'echo-idle-throughput-c100.png', 'echo-idle-cpu-c100.png']) {
      assert.ok(section.includes(`](${f})`), `expected ${f} embedded in the idle section`);
      assert.deepEqual(pngSize(readFileSync(path.join(out, f))), { width: CHART_WIDTH, height: CHART_HEIGHT }, `expected ${f} drawn`);
    }
  });
});

describe('rendering and report.md', () => {
  test('every chart renders as a PNG of the expected size', () => {
    const buf = renderChart(chart(specs, 'echo', 'throughput').config);
    assert.deepEqual(pngSize(buf), { width: CHART_WIDTH, height: CHART_HEIGHT });
    assert.ok(buf.length > 10_000, `expected a drawn chart, not a blank image (${buf.length} bytes)`);
  });

  test('writeReport writes every chart the report names, as valid PNGs', async () => {
    const out = path.join(tmp, 'out');
    const w = await writeReport(results, out);
    assert.deepEqual(w.warnings, [], 'expected no warnings');
    assert.equal(w.charts.length, specs.length, 'expected one PNG per planned chart');
    const md = readFileSync(w.reportPath, 'utf8');
    const named = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1] ?? '');
    assert.deepEqual(named.sort(), specs.map((s) => s.file).sort(), 'expected report.md to embed exactly the planned charts');
    for (const f of named) {
      const file = path.join(out, f);
      assert.ok(existsSync(file), `expected ${f} on disk`);
      assert.deepEqual(pngSize(readFileSync(file)), { width: 1200, height: 700 }, `expected ${f} at 1200×700`);
    }
  });

  test('failed, capped and client-bound cells are shown as such in report.md', () => {
    const md = renderReport(results);
    assert.match(md, /\*\*blocking × echo × 1,000\*\* \(rep 0\): failed — thread pool exhausted/, 'expected the failed cell explained');
    assert.match(md, /\*\*select × echo × 1,000\*\* \(rep 0\): capped — FD_SETSIZE 1024.*22 of 1,000 connections established/, 'expected the capped cell explained');
    assert.match(md, /\*\*epoll × echo × 10\*\* \(rep 0\): ok — client-bound: load child at 97% CPU/, 'expected the client-bound cell explained');
    const row1000 = throughputRow(md, 'echo', '1,000').join(' | ');
    assert.ok(row1000.includes('✕ failed'), `expected ✕ failed in the 1,000 row: ${row1000}`);
    assert.ok(row1000.includes('▲'), `expected ▲ (capped) in the 1,000 row: ${row1000}`);
    const row10 = throughputRow(md, 'echo', '10').join(' | ');
    assert.ok(row10.includes('○'), `expected ○ (client-bound) in the 10 row: ${row10}`);
  });

  test('summary: verdict and ratios to libuv', () => {
    const md = renderReport(results);
    // At 100 connections the reps are libuv 40–42k, epoll 42–44k, select 44–46k, blocking 46–48k: the top two touch at 46k.
    const cols = throughputRow(md, 'echo', '100');
    assert.equal(cols[1], 'tie: blocking, select', `expected the overlapping top two as a tie: ${cols.join(' | ')}`);
    assert.ok(cols[2]?.includes('(1.00×)') === true, `expected libuv at 1.00×: ${cols.join(' | ')}`);
    assert.ok(cols[3]?.includes('(1.05×)') === true, `expected epoll at 43.0k/41.0k ≈ 1.05×: ${cols.join(' | ')}`);
  });

  test('a mid-run report names no charts', () => {
    const md = renderReport(results, { charts: false });
    assert.doesNotMatch(md, /\.png\)/, 'expected no chart links');
  });

  test('`iomodels report` re-renders from the JSON alone; a bad file is one line and exit 2', () => {
    const json = path.join(tmp, 'results.json');
    writeFileSync(json, JSON.stringify(results));
    const cli = path.join(import.meta.dirname, '..', 'harness', 'cli.js');
    const out = path.join(tmp, 'cli-out');
    const ok = spawnSync(process.execPath, [cli, 'report', json, '--out', out], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(ok.status, 0, `expected exit 0; stderr: ${ok.stderr}`);
    assert.ok(existsSync(path.join(out, 'report.md')) && existsSync(path.join(out, 'echo-throughput.png')), 'expected report.md and charts in --out');
    const bad = path.join(tmp, 'bad.json');
    writeFileSync(bad, '{"schemaVersion": 1, "cells": [');
    const r = spawnSync(process.execPath, [cli, 'report', bad], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, 'expected exit 2 on a corrupt file');
    assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line on stderr: ${r.stderr}`);
  });
});
