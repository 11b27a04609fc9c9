/**
 * The anatomy's charts: stacked bars, one bar per strategy at one setting
 * (a connection count, and the ends of an idle sweep). Syscalls per op
 * stacked by name, context switches per op (voluntary, involuntary), and
 * CPU per op (user, kernel). Pure functions of the results file, like the
 * line charts in charts.ts; render.ts draws them.
 */
import type { ChartConfiguration, ChartDataset, LegendItem } from 'chart.js';
import type { Results } from '../core/results.js';
import { anatomyRows, anatomySettings, fmtPerOp, settingText, type AnatomyRow, type AnatomySetting } from './anatomy.js';
import { axisNumber, GRID, sharedOptions, TEXT, workloadsOf } from './charts.js';
import { fmtIdle, machineLine, opUnitOf } from './format.js';
import { syscallColour } from './palette.js';
import type { Estimate } from './stats.js';

export type AnatomyKind = 'anatomy-syscalls' | 'anatomy-switches' | 'anatomy-cpu';

/** What one bar segment stands for: a strategy's row and the estimate stacked. */
export interface BarRef {
  row: AnatomyRow;
  /** The segment's name ("recvfrom", "voluntary", "kernel"). */
  part: string;
  est: Estimate;
}

export interface BarChartSpec {
  file: string;
  workload: string;
  kind: AnatomyKind;
  setting: AnatomySetting;
  caption: string;
  /** What a value is, for tables and tooltips: "syscalls per round trip". */
  valueName: string;
  config: ChartConfiguration<'bar'>;
  /** Strategies in bar order: the x axis's labels. */
  strategies: string[];
  /** Per dataset (a segment), per strategy: what it stands for (undefined: that strategy has none). */
  points: (BarRef | undefined)[][];
}

function fileSafe(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

interface Segment {
  part: string;
  colour: string;
  of: (r: AnatomyRow) => Estimate | undefined;
}

function barChart(
  results: Results,
  workload: string,
  s: AnatomySetting,
  rows: readonly AnatomyRow[],
  kind: AnatomyKind,
  segments: readonly Segment[],
  text: { title: string; caption: string; y: string; valueName: string },
): BarChartSpec | undefined {
  const strategies = rows.map((r) => r.group.strategy);
  const datasets: ChartDataset<'bar'>[] = [];
  const points: (BarRef | undefined)[][] = [];
  const legend: LegendItem[] = [];
  for (const seg of segments) {
    const refs = rows.map((row): BarRef | undefined => {
      const est = seg.of(row);
      return est === undefined || !Number.isFinite(est.median) ? undefined : { row, part: seg.part, est };
    });
    if (refs.every((r) => r === undefined || r.est.median === 0)) continue;
    legend.push({ text: seg.part, fillStyle: seg.colour, strokeStyle: seg.colour, lineWidth: 1, hidden: false, fontColor: TEXT, pointStyle: 'rect', datasetIndex: datasets.length });
    points.push(refs);
    datasets.push({ label: seg.part, data: refs.map((r) => r?.est.median ?? null), backgroundColor: seg.colour, borderColor: '#ffffff', borderWidth: 1, stack: 'op' });
  }
  if (datasets.length === 0) return undefined;
  const totals = rows.map((_, j) => points.reduce((acc, refs) => acc + (refs[j]?.est.median ?? 0), 0));
  const p = results.plan;
  const reps = `${p.repeat} repetition${p.repeat === 1 ? '' : 's'} (medians)`;
  const options = sharedOptions(`${workload}: ${text.title} ${settingText(s)}`, [`${p.durationSec} s counted per cell · ${reps} · ${rows.map((r) => r.source).includes('proc') ? 'perf, or /proc where marked' : 'counted by perf'}`, machineLine(results.machine)]);
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: { labels: strategies.map((st, i) => (rows[i]?.source === 'proc' ? `${st} (proc)` : st)), datasets },
    options: {
      ...options,
      plugins: {
        ...options.plugins,
        legend: { ...options.plugins.legend, labels: { ...options.plugins.legend.labels, generateLabels: () => legend } },
        barTotals: { labels: totals.map((t) => barValueText(kind, t)) },
      },
      scales: {
        x: { stacked: true, grid: { color: GRID }, ticks: { color: TEXT, font: { size: 16 } } },
        y: {
          stacked: true,
          beginAtZero: true,
          // Room above the tallest bar for its total.
          grace: '8%',
          title: { display: true, text: text.y, color: TEXT, font: { size: 17, weight: 'bold' } },
          grid: { color: GRID },
          ticks: { color: TEXT, font: { size: 15 }, callback: (v: string | number) => axisNumber(Number(v)) },
        },
      },
    },
  };
  const idle = s.idle > 0 ? `-idle${s.idle}` : '';
  return {
    file: `${fileSafe(workload)}-${kind}-c${s.connections}${idle}.png`,
    workload,
    kind,
    setting: s,
    caption: text.caption,
    valueName: text.valueName,
    config,
    strategies,
    points,
  };
}

/** The three anatomy charts of one setting. */
export function anatomyCharts(results: Results, workload: string, s: AnatomySetting): BarChartSpec[] {
  const rows = anatomyRows(results, workload, s).filter((r) => r.group.status !== 'failed');
  if (rows.length === 0) return [];
  const unit = opUnitOf(results, workload);
  const names: string[] = [];
  for (const r of rows) for (const n of r.byName.keys()) if (!names.includes(n) && n !== 'other') names.push(n);
  // Most-called first across the strategies, so the big segments sit at the bottom; "other" on top.
  const weight = (n: string): number => rows.reduce((acc, r) => acc + (r.byName.get(n)?.median ?? 0), 0);
  names.sort((a, b) => weight(b) - weight(a));
  if (rows.some((r) => r.byName.has('other'))) names.push('other');
  const perf = rows.some((r) => r.source === 'perf');
  const at = fmtIdle(s.idle);
  const out: (BarChartSpec | undefined)[] = [
    barChart(
      results,
      workload,
      s,
      rows,
      'anatomy-syscalls',
      names.map((n) => ({ part: n, colour: syscallColour(n), of: (r) => r.byName.get(n) })),
      {
        title: `syscalls per ${unit}`,
        caption: `Syscalls per ${unit} by name${at}, counted by the kernel on every thread of the server: which call waits (phase 1) and which copies (phase 2).${perf ? '' : ' /proc counts only read- and write-family calls (syscr, syscw).'}`,
        y: `syscalls per ${unit}`,
        valueName: `per ${unit}`,
      },
    ),
    barChart(
      results,
      workload,
      s,
      rows,
      'anatomy-switches',
      [
        { part: 'voluntary', colour: '#1f77b4', of: (r) => r.voluntary },
        { part: 'involuntary', colour: '#ff7f0e', of: (r) => r.involuntary },
      ],
      {
        title: `context switches per ${unit}`,
        caption: `Context switches per ${unit}${at}: voluntary (the thread waited) and involuntary (it was preempted). A thread per connection pays one to wake the thread that owns the socket.`,
        y: `context switches per ${unit}`,
        valueName: `per ${unit}`,
      },
    ),
    barChart(
      results,
      workload,
      s,
      rows,
      'anatomy-cpu',
      [
        { part: 'user', colour: '#2ca02c', of: (r) => r.user },
        { part: 'kernel', colour: '#d62728', of: (r) => r.kernel },
      ],
      {
        title: `server CPU per ${unit}: user and kernel`,
        caption: `Server CPU per ${unit}${at}, in µs: user space (the protocol, the FFI) against the kernel (the syscalls and what they do), the kernel's own accounting.`,
        y: `µs per ${unit}`,
        valueName: `µs per ${unit}`,
      },
    ),
  ];
  return out.filter((c): c is BarChartSpec => c !== undefined);
}

/** Every anatomy chart of a results file, in report order. */
export function planAnatomyCharts(results: Results): BarChartSpec[] {
  return workloadsOf(results).flatMap((w) => anatomySettings(results, w).flatMap((s) => anatomyCharts(results, w, s)));
}

/** A segment's value as text, for tables and tooltips. */
export function barValueText(kind: AnatomyKind, v: number): string {
  return kind === 'anatomy-cpu' ? (Number.isFinite(v) ? v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) : '–') : fmtPerOp(v);
}
