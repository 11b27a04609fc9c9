/**
 * Chart configurations from results.json: pure functions, no canvas. Each
 * builder returns a Chart.js config plus the file name it will be written
 * to, so report.md can name the charts without drawing them, and tests can
 * check what a chart will show (markers, error bars) without reading pixels.
 */
import type { ChartConfiguration, ChartDataset, ChartType, LegendItem, Scale, ScaleOptions, Tick } from 'chart.js';
import type { Cell, Results } from '../core/results.js';
import { decodeHistogram, newHistogram } from '../core/latency.js';
import { baseIdle, groupCells, groupEstimate, idleSweeps, type CellGroup } from './aggregate.js';
import type { Estimate } from './stats.js';
import { fmtIdle, fmtRate, fmtUs, machineLine, opUnitOf } from './format.js';
import { strategyColour } from './palette.js';

export const CHART_WIDTH = 1200;
export const CHART_HEIGHT = 700;

/** One vertical error bar: the 95% CI of the point `index` of dataset `dataset`. */
export interface ErrorBar {
  dataset: number;
  index: number;
  lo: number;
  hi: number;
  colour: string;
}

export interface ErrorBarsOptions {
  bars: ErrorBar[];
}

export interface BackgroundOptions {
  colour: string;
}

/**
 * Horizontal pixel offset per dataset: the data keep their true x, only the
 * drawing moves aside (ggplot's position_dodge), so equal values stay visible.
 */
export interface DodgeOptions {
  px: number[];
}

declare module 'chart.js' {
  // The interface's type parameter is part of the merged declaration.
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface PluginOptionsByType<TType extends ChartType> {
    errorBars?: ErrorBarsOptions;
    background?: BackgroundOptions;
    dodge?: DodgeOptions;
    barTotals?: BarTotalsOptions;
  }
}

/** Stacked bars: the text written above each bar (its total), by bar index. */
export interface BarTotalsOptions {
  labels: string[];
}

export type ChartKind = 'throughput' | 'latency' | 'hdr' | 'cpu' | 'rss' | 'threads' | 'deliveries' | 'delivery-latency' | 'idle-throughput' | 'idle-cpu';

export interface ChartSpec {
  /** File name inside the output directory. */
  file: string;
  workload: string;
  kind: ChartKind;
  /** Short caption for report.md. */
  caption: string;
  config: ChartConfiguration<'line'>;
  /**
   * What each point stands for, parallel to `config.data.datasets[i].data`:
   * the cell group it was drawn from and the estimate it plots (undefined
   * where a point is not a measurement). The interactive report reads its
   * tooltips and tables from here rather than from the pixels' labels.
   */
  points: (PointRef | undefined)[][];
}

/** The cells behind one drawn point. */
export interface PointRef {
  group: CellGroup;
  /** The plotted median and its 95% interval (absent: a failed cell, or an HDR curve, which plots no estimate). */
  est?: Estimate;
}

export interface ChartPlanOptions {
  /** Connection count for the HDR distribution chart (default: the largest measured). */
  hdrConnections?: number;
}

type LineDataset = ChartDataset<'line'>;
type Pt = { x: number; y: number };

/**
 * The point shapes we draw: Chart.js's PointStyle also admits images, whose
 * DOM types do not exist under Node.
 */
export type Shape = 'circle' | 'crossRot' | 'triangle' | 'line';

/** Marker meanings, shared by every chart and by report.md. */
export const MARKERS = {
  failed: { pointStyle: 'crossRot' as Shape, text: 'failed (no value)' },
  capped: { pointStyle: 'triangle' as Shape, text: 'capped' },
  clientBound: { pointStyle: 'circle' as Shape, text: 'client-bound (hollow)' },
} as const;

export const TEXT = '#222222';
export const GRID = '#e3e3e3';
const MARKER_GREY = '#555555';

function fileSafe(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}

function plural(unit: string): string {
  return unit.endsWith('s') ? unit : `${unit}s`;
}

/** Everything the builders of one workload share. */
interface WorkloadView {
  results: Results;
  workload: string;
  /** The groups the per-connection charts show: one idle count only (baseIdle). */
  groups: CellGroup[];
  /** That idle count (0 unless the workload was measured with idle connections only). */
  idle: number;
  /** Every group of the workload, every idle count: what the idle charts show. */
  all: CellGroup[];
  strategies: string[];
  connections: number[];
  subtitle: string[];
}

function workloadView(results: Results, workload: string, groups: CellGroup[]): WorkloadView {
  const all = groups.filter((g) => g.workload === workload);
  const idle = baseIdle(all);
  const mine = all.filter((g) => g.idle === idle);
  const present = new Set(all.map((g) => g.strategy));
  const strategies = [...results.plan.strategies.filter((s) => present.has(s)), ...[...present].filter((s) => !results.plan.strategies.includes(s)).sort()];
  const connections = [...new Set(mine.map((g) => g.connections))].sort((a, b) => a - b);
  const p = results.plan;
  const loop = p.rate > 0 ? `open loop at ${fmtRate(p.rate)} ops/s` : 'closed loop';
  const reps = `${p.repeat} repetition${p.repeat === 1 ? '' : 's'}`;
  return {
    results,
    workload,
    groups: mine,
    idle,
    all,
    strategies,
    connections,
    subtitle: [`${p.durationSec} s measured per cell after ${p.warmupSec} s warm-up · ${reps} · ${loop}`, machineLine(results.machine)],
  };
}

function findGroup(v: WorkloadView, strategy: string, connections: number): CellGroup | undefined {
  return v.groups.find((g) => g.strategy === strategy && g.connections === connections);
}

/** "-idle1000" in the file names of charts drawn at idle connections, so they never collide with idle-0 charts. */
function idleFile(idle: number): string {
  return idle > 0 ? `-idle${idle}` : '';
}

/** What a metric chart is drawn against: its x values, the cell at each, the axis. */
interface XDomain {
  xs: readonly number[];
  group: (strategy: string, x: number) => CellGroup | undefined;
  axis: ScaleOptions<'logarithmic'> | ScaleOptions<'linear'>;
}

function connectionsDomain(v: WorkloadView): XDomain {
  return { xs: v.connections, group: (s, n) => findGroup(v, s, n), axis: connectionsAxis(v.connections) };
}

/**
 * x: idle connections, one evenly spaced slot per measured count. A log axis
 * cannot show 0 and a linear one would crush 0 and 1,000 together beside
 * 10,000, so the counts are categories: the slot's index is its x, its
 * label the count.
 */
function idleDomain(v: WorkloadView, connections: number, idle: readonly number[]): XDomain {
  const ticks = idle.map((_, i) => i);
  return {
    xs: ticks,
    group: (s, i) => v.all.find((g) => g.strategy === s && g.connections === connections && g.idle === idle[i]),
    axis: {
      type: 'linear',
      min: -0.5,
      max: idle.length - 0.5,
      title: axisTitle('idle connections beside the active ones (count; evenly spaced, not to scale)'),
      grid: { color: GRID },
      afterBuildTicks: (axis: Scale) => {
        axis.ticks = ticks.map((value): Tick => ({ value }));
      },
      ticks: { color: TEXT, font: { size: 15 }, callback: (value: string | number) => idle[Number(value)]?.toLocaleString('en-US') ?? '' },
    },
  };
}

/** Base options every chart shares: fixed size, no animation, readable fonts. */
export function baseOptions(title: string, subtitle: string[]): NonNullable<ChartConfiguration<'line'>['options']> {
  return sharedOptions(title, subtitle);
}

/** The same options for any chart type (the anatomy's bars use them too). */
export function sharedOptions(title: string, subtitle: string[]) {
  return {
    responsive: false,
    animation: false as const,
    devicePixelRatio: 1,
    color: TEXT,
    layout: { padding: { left: 16, right: 24, top: 8, bottom: 12 } },
    plugins: {
      background: { colour: '#ffffff' },
      title: { display: true, text: title, color: TEXT, font: { size: 24, weight: 'bold' as const }, padding: { top: 6, bottom: 4 } },
      subtitle: { display: true, text: subtitle, color: '#444444', font: { size: 15 }, padding: { bottom: 10 } },
      legend: { position: 'bottom' as const, labels: { color: TEXT, font: { size: 15 }, usePointStyle: true, pointStyleWidth: 36, boxHeight: 10, padding: 14 } },
      tooltip: { enabled: false },
    },
  };
}

function axisTitle(text: string): { display: true; text: string; color: string; font: { size: number; weight: 'bold' } } {
  return { display: true, text, color: TEXT, font: { size: 17, weight: 'bold' } };
}

/** x: connections on a log axis, ticked exactly at the measured counts. */
function connectionsAxis(connections: readonly number[]): ScaleOptions<'logarithmic'> {
  const lo = connections[0] ?? 1;
  const hi = connections[connections.length - 1] ?? 1;
  const ticks = [...connections];
  return {
    type: 'logarithmic',
    min: lo / (hi > lo ? 1.5 : 2),
    max: hi * (hi > lo ? 1.5 : 2),
    title: axisTitle('connections (count, log scale)'),
    grid: { color: GRID },
    afterBuildTicks: (axis: Scale) => {
      axis.ticks = ticks.map((value): Tick => ({ value }));
    },
    ticks: { color: TEXT, font: { size: 15 }, callback: (value: string | number) => Number(value).toLocaleString('en-US') },
  };
}

/** Label only 1, 2 and 5 × 10^k on a log axis so labels never collide. */
function logTickLabel(format: (v: number) => string): (value: string | number) => string {
  return (value) => {
    const v = Number(value);
    if (!(v > 0)) return '';
    const mant = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
    return [1, 2, 5].some((m) => Math.abs(mant - m) < 1e-6) ? format(v) : '';
  };
}

interface YAxis {
  title: string;
  log: boolean;
  format: (v: number) => string;
  /** Log axes: bounds on 1-2-5 steps so both ends carry a label (set by the builder). */
  min?: number;
  max?: number;
  /** Linear axes: stretch to show every error bar whole. */
  suggestedMax?: number;
}

const STEPS_125 = [1, 2, 5, 10];

/** The largest 1, 2 or 5 × 10^k at or below v (v > 0). */
export function niceLogFloor(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  let best = e;
  for (const m of STEPS_125) if (m * e <= v * (1 + 1e-9)) best = m * e;
  return best;
}

/** The smallest 1, 2 or 5 × 10^k at or above v (v > 0). */
export function niceLogCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of STEPS_125) if (m * e >= v * (1 - 1e-9)) return m * e;
  return 10 * e;
}

/** Fit a log axis to the values it shows, leaving room for failed crosses below. */
function fitLogAxis(a: YAxis, values: readonly number[], roomBelow: boolean): number {
  const pos = values.filter((x) => x > 0 && Number.isFinite(x));
  const lo = pos.length > 0 ? Math.min(...pos) : 1;
  const hi = pos.length > 0 ? Math.max(...pos) : 10;
  a.max = niceLogCeil(hi);
  // Failed cells have no value: their crosses sit on the bottom edge, one
  // 1-2-5 step below every real measurement, where they cannot be read as one.
  const floor = niceLogFloor(lo);
  const cross = roomBelow ? niceLogFloor(floor * 0.99) : floor;
  a.min = cross;
  return cross;
}

function yAxisOptions(a: YAxis, position: 'left' | 'right', drawGrid: boolean): ScaleOptions<'linear'> | ScaleOptions<'logarithmic'> {
  const common = {
    position,
    title: axisTitle(a.title),
    grid: { color: GRID, drawOnChartArea: drawGrid },
  };
  if (a.log) {
    return {
      ...common,
      type: 'logarithmic',
      ...(a.min === undefined ? {} : { min: a.min }),
      ...(a.max === undefined ? {} : { max: a.max }),
      ticks: { color: TEXT, font: { size: 15 }, autoSkip: false, callback: logTickLabel(a.format) },
    };
  }
  return {
    ...common,
    type: 'linear',
    beginAtZero: true,
    ...(a.suggestedMax === undefined ? {} : { suggestedMax: a.suggestedMax }),
    ticks: { color: TEXT, font: { size: 15 }, callback: (v: string | number) => a.format(Number(v)) },
  };
}

interface Series {
  metric: (c: Cell) => number | undefined;
  /** Appended to the strategy name in the legend ("p99"). */
  suffix: string;
  dash: number[];
  axis: 'y' | 'y2';
}

interface MetricChart {
  kind: ChartKind;
  /** File name, when not `workload-kind.png` (the idle charts, one per active-connection count). */
  file?: string;
  title: string;
  caption: string;
  y: YAxis;
  y2?: YAxis;
  series: Series[];
  errorBars: boolean;
}

function legendLine(text: string, colour: string, dash: number[], datasetIndex?: number): LegendItem {
  return {
    text,
    fillStyle: colour,
    strokeStyle: colour,
    lineWidth: 3,
    lineDash: dash,
    pointStyle: 'line',
    hidden: false,
    fontColor: TEXT,
    ...(datasetIndex === undefined ? {} : { datasetIndex }),
  };
}

function legendMarker(text: string, pointStyle: Shape, fill: string): LegendItem {
  return { text, fillStyle: fill, strokeStyle: MARKER_GREY, lineWidth: 2, pointStyle, hidden: false, fontColor: TEXT };
}

/** Legend entries explaining the special-cell markers present in `seen`. */
function markerLegend(seen: { failed: boolean; capped: boolean; clientBound: boolean }): LegendItem[] {
  const items: LegendItem[] = [];
  if (seen.failed) items.push(legendMarker(MARKERS.failed.text, MARKERS.failed.pointStyle, MARKER_GREY));
  if (seen.capped) items.push(legendMarker(MARKERS.capped.text, MARKERS.capped.pointStyle, MARKER_GREY));
  if (seen.clientBound) items.push(legendMarker(MARKERS.clientBound.text, MARKERS.clientBound.pointStyle, '#ffffff'));
  return items;
}

/**
 * One line per strategy (and per series) of a per-cell metric, against
 * connections unless another x domain is given (idle connections).
 */
function metricChart(v: WorkloadView, m: MetricChart, domain: XDomain = connectionsDomain(v)): ChartSpec | undefined {
  const datasets: LineDataset[] = [];
  const points: (PointRef | undefined)[][] = [];
  const bars: ErrorBar[] = [];
  const dodge: number[] = [];
  const legend: LegendItem[] = [];
  const failed: { x: number; colour: string; group: CellGroup }[] = [];
  const seen = { failed: false, capped: false, clientBound: false };
  const positive: Record<'y' | 'y2', number[]> = { y: [], y2: [] };

  for (const [rank, strategy] of v.strategies.entries()) {
    const colour = strategyColour(strategy);
    // Strategies often measure the same (threads, RSS): each is drawn a few
    // pixels aside from the others, so coinciding points stay visible.
    const shift = (rank - (v.strategies.length - 1) / 2) * Math.min(6, 30 / v.strategies.length);
    for (const s of m.series) {
      const axis = s.axis === 'y2' ? m.y2 : m.y;
      if (axis === undefined) continue;
      const data: Pt[] = [];
      const refs: PointRef[] = [];
      const styles: Shape[] = [];
      const radii: number[] = [];
      const fills: string[] = [];
      let any = false;
      for (const n of domain.xs) {
        const g = domain.group(strategy, n);
        if (g === undefined) continue;
        if (g.status === 'failed') {
          if (s === m.series[0]) failed.push({ x: n, colour, group: g });
          seen.failed = true;
          data.push({ x: n, y: NaN });
          refs.push({ group: g });
          styles.push('circle');
          radii.push(0);
          fills.push(colour);
          continue;
        }
        const e = groupEstimate(g, s.metric);
        const y = Number.isFinite(e.median) && (!axis.log || e.median > 0) ? e.median : NaN;
        if (!Number.isNaN(y)) {
          any = true;
          positive[s.axis].push(y);
          if (m.errorBars && e.n >= 2 && e.hi > e.lo) {
            bars.push({ dataset: datasets.length, index: data.length, lo: e.lo, hi: e.hi, colour });
            positive[s.axis].push(e.lo, e.hi);
          }
        }
        data.push({ x: n, y });
        refs.push({ group: g, est: e });
        styles.push(g.status === 'capped' ? MARKERS.capped.pointStyle : 'circle');
        radii.push(g.status === 'capped' ? 9 : 6);
        fills.push(g.clientBound ? '#ffffff' : colour);
        if (g.status === 'capped') seen.capped = true;
        if (g.clientBound) seen.clientBound = true;
      }
      if (!any) continue;
      const label = s.suffix === '' ? strategy : `${strategy} ${s.suffix}`;
      legend.push(legendLine(label, colour, s.dash, datasets.length));
      dodge.push(shift);
      points.push(refs);
      datasets.push({
        label,
        data,
        yAxisID: s.axis,
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: 3,
        borderDash: s.dash,
        pointStyle: styles,
        pointRadius: radii,
        pointBackgroundColor: fills,
        pointBorderColor: colour,
        pointBorderWidth: 2.5,
        spanGaps: false,
        clip: 12,
      });
    }
  }
  if (datasets.length === 0 && failed.length === 0) return undefined;

  // Failed cells have no value: their crosses sit on the bottom edge of
  // the first y axis (0 on a linear one).
  const floor = m.y.log ? fitLogAxis(m.y, positive.y, failed.length > 0) : 0;
  if (m.y2?.log === true) fitLogAxis(m.y2, positive.y2, false);
  if (!m.y.log && positive.y.length > 0) m.y.suggestedMax = Math.max(...positive.y);
  if (m.y2 !== undefined && !m.y2.log && positive.y2.length > 0) m.y2.suggestedMax = Math.max(...positive.y2);
  if (failed.length > 0) {
    dodge.push(0);
    points.push(failed.map((f) => ({ group: f.group })));
    datasets.push({
      label: 'failed',
      data: failed.map((f) => ({ x: f.x, y: floor })),
      yAxisID: 'y',
      showLine: false,
      borderColor: MARKER_GREY,
      backgroundColor: MARKER_GREY,
      pointStyle: MARKERS.failed.pointStyle,
      pointRadius: 11,
      pointBorderWidth: 4,
      pointBorderColor: failed.map((f) => f.colour),
      clip: 14,
    });
  }
  legend.push(...markerLegend(seen));

  const options = baseOptions(`${v.workload}: ${m.title}${m.file === undefined ? fmtIdle(v.idle) : ''}`, v.subtitle);
  options.scales = {
    x: domain.axis,
    y: yAxisOptions(m.y, 'left', true),
    ...(m.y2 === undefined ? {} : { y2: yAxisOptions(m.y2, 'right', false) }),
  };
  const plugins = options.plugins;
  if (plugins?.legend?.labels !== undefined) plugins.legend.labels.generateLabels = () => legend;
  if (plugins !== undefined) {
    plugins.errorBars = { bars };
    plugins.dodge = { px: dodge };
  }
  return {
    file: m.file ?? `${fileSafe(v.workload)}-${m.kind}${idleFile(v.idle)}.png`,
    workload: v.workload,
    kind: m.kind,
    caption: m.file === undefined && v.idle > 0 ? `${m.caption} All cells${fmtIdle(v.idle)}.` : m.caption,
    config: { type: 'line', data: { datasets }, options },
    points,
  };
}

/** A number as a short axis label: 40k, 1.5M, 12, 0.5. */
export function axisNumber(v: number): string {
  const short = (x: number): string => String(Number(x.toPrecision(3)));
  if (Math.abs(v) >= 1e6) return `${short(v / 1e6)}M`;
  if (Math.abs(v) >= 1e3) return `${short(v / 1e3)}k`;
  return short(v);
}

/** A value in µs as a short axis label. */
function usLabel(v: number): string {
  return fmtUs(v).replace(/\.0 /, ' ');
}

/** One line per strategy of one metric (no p50/p99 pair). */
function oneMetricChart(v: WorkloadView, m: Omit<MetricChart, 'series'>, metric: Series['metric'], domain?: XDomain): ChartSpec | undefined {
  return metricChart(v, { ...m, series: [{ metric, suffix: '', dash: [], axis: 'y' }] }, domain);
}

const opsPerSec: Series['metric'] = (c) => c.opsPerSec;
/** A cell that completed nothing has no CPU per op (not 0). */
const cpuPerOp: Series['metric'] = (c) => (c.ops > 0 ? c.server.cpuUsPerOp : undefined);

function throughputChart(v: WorkloadView): ChartSpec | undefined {
  const unit = plural(opUnitOf(v.results, v.workload));
  const ci = v.results.plan.repeat > 1 ? ', bars: 95% CI' : '';
  const caption = `Throughput (${unit}/s, median of repetitions${ci}) against concurrent connections.`;
  const y = { title: `throughput (${unit}/s)`, log: false, format: axisNumber };
  return oneMetricChart(v, { kind: 'throughput', title: 'throughput vs connections', caption, y, errorBars: true }, opsPerSec);
}

function latencyChart(v: WorkloadView): ChartSpec | undefined {
  return metricChart(v, {
    kind: 'latency',
    title: 'p50 and p99 latency vs connections',
    caption: 'Latency per operation: p99 solid, p50 dashed (median of repetitions; bars: 95% CI).',
    y: { title: 'latency (µs, log scale)', log: true, format: usLabel },
    series: [
      { metric: (c) => (c.latencyUs.count > 0 ? c.latencyUs.p99 : undefined), suffix: 'p99', dash: [], axis: 'y' },
      { metric: (c) => (c.latencyUs.count > 0 ? c.latencyUs.p50 : undefined), suffix: 'p50', dash: [8, 6], axis: 'y' },
    ],
    errorBars: true,
  });
}

function cpuChart(v: WorkloadView): ChartSpec | undefined {
  const unit = opUnitOf(v.results, v.workload);
  const caption = `Server CPU time (user + system) per ${unit}, in µs: lower is more efficient.`;
  const y = { title: `server CPU per ${unit} (µs, log scale)`, log: true, format: axisNumber };
  return oneMetricChart(v, { kind: 'cpu', title: `server CPU per ${unit} vs connections`, caption, y, errorBars: true }, cpuPerOp);
}

// Memory and threads get a chart each: on two y axes of one chart their
// lines cross and coincide, and a reader cannot tell which axis a line uses.
function rssChart(v: WorkloadView): ChartSpec | undefined {
  const caption = 'Server peak resident memory (RSS, MiB) during the measured window.';
  const y = { title: 'server peak RSS (MiB)', log: false, format: axisNumber };
  return oneMetricChart(v, { kind: 'rss', title: 'server memory vs connections', caption, y, errorBars: false }, (c) => c.server.peakRssBytes / (1 << 20));
}

function threadsChart(v: WorkloadView): ChartSpec | undefined {
  const caption = 'Server peak thread count (from /proc): a thread per connection shows here.';
  const y = { title: 'server peak threads (count)', log: false, format: (x: number) => (Number.isInteger(x) ? String(x) : '') };
  return oneMetricChart(v, { kind: 'threads', title: 'server threads vs connections', caption, y, errorBars: false }, (c) => c.server.peakThreads);
}

/** extra keys that look like a latency percentile ("deliveryP99Us", "p50"), by percentile. */
function extraLatencyKeys(cells: readonly Cell[], pct: 'p50' | 'p99'): string[] {
  const keys = new Set<string>();
  for (const c of cells) for (const k of Object.keys(c.extra)) if (k.toLowerCase().includes(pct)) keys.add(k);
  return [...keys].sort();
}

function extraNumber(c: Cell, key: string): number | undefined {
  const x = c.extra[key];
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/** Chat only: deliveries/s (every message × every receiver) and delivery latency, when the cells carry them. */
function chatCharts(v: WorkloadView): ChartSpec[] {
  const cells = v.groups.flatMap((g) => g.cells);
  const out: ChartSpec[] = [];
  if (cells.some((c) => extraNumber(c, 'deliveriesPerSec') !== undefined)) {
    const caption = 'Chat fan-out: messages delivered to receivers per second (one sent message reaches every other member).';
    const y = { title: 'deliveries/s (messages received by clients)', log: false, format: axisNumber };
    const d = oneMetricChart(v, { kind: 'deliveries', title: 'deliveries/s vs connections', caption, y, errorBars: true }, (c) => extraNumber(c, 'deliveriesPerSec'));
    if (d !== undefined) out.push(d);
  }
  const p99 = extraLatencyKeys(cells, 'p99')[0];
  const p50 = extraLatencyKeys(cells, 'p50')[0];
  const series: Series[] = [];
  if (p99 !== undefined) series.push({ metric: (c) => extraNumber(c, p99), suffix: 'p99', dash: [], axis: 'y' });
  if (p50 !== undefined) series.push({ metric: (c) => extraNumber(c, p50), suffix: 'p50', dash: [8, 6], axis: 'y' });
  if (series.length > 0) {
    const d = metricChart(v, {
      kind: 'delivery-latency',
      title: 'delivery latency vs connections',
      caption: `Chat delivery latency, from send to receipt by another member (${[p99, p50].filter((k) => k !== undefined).join(', ')}; p99 solid, p50 dashed).`,
      y: { title: 'delivery latency (µs, log scale)', log: true, format: usLabel },
      series,
      errorBars: true,
    });
    if (d !== undefined) out.push(d);
  }
  return out;
}

/** Per active-connection count swept over idle: throughput and server CPU per op against idle connections. */
function idleCharts(v: WorkloadView): ChartSpec[] {
  const unit = opUnitOf(v.results, v.workload);
  const reps = v.results.plan.repeat;
  const out: ChartSpec[] = [];
  for (const sweep of idleSweeps(v.all)) {
    const n = sweep.connections.toLocaleString('en-US');
    const domain = idleDomain(v, sweep.connections, sweep.idle);
    const file = (what: string): string => `${fileSafe(v.workload)}-idle-${what}-c${sweep.connections}.png`;
    const tCaption = `Throughput (${plural(unit)}/s, median of repetitions${reps > 1 ? ', bars: 95% CI' : ''}) at ${n} active connections, against the idle connections held open beside them.`;
    const tY = { title: `throughput (${plural(unit)}/s)`, log: false, format: axisNumber };
    const t = oneMetricChart(v, { kind: 'idle-throughput', file: file('throughput'), title: `throughput vs idle connections at ${n} active`, caption: tCaption, y: tY, errorBars: true }, opsPerSec, domain);
    const cCaption = `Server CPU time (user + system) per ${unit}, in µs, at ${n} active connections against the idle connections beside them: a model that scans every watched fd pays for the idle ones here.`;
    const cY = { title: `server CPU per ${unit} (µs, log scale)`, log: true, format: axisNumber };
    const c = oneMetricChart(v, { kind: 'idle-cpu', file: file('cpu'), title: `server CPU per ${unit} vs idle connections at ${n} active`, caption: cCaption, y: cY, errorBars: true }, cpuPerOp, domain);
    if (t !== undefined) out.push(t);
    if (c !== undefined) out.push(c);
  }
  return out;
}

/** The percentile labels of the 1/(1-p) axis: x = 10^k ↔ p = 1 - 10^-k. */
export function percentileLabel(x: number): string {
  if (x <= 1) return '0%';
  const p = (1 - 1 / x) * 100;
  const digits = Math.max(0, Math.round(Math.log10(x)) - 2);
  return `${p.toFixed(digits)}%`;
}

function hdrTicks(max: number): number[] {
  const ticks = [1, 2];
  for (let x = 10; x <= max * 1.0001; x *= 10) ticks.push(x);
  return ticks;
}

/** The connection count the HDR chart shows: asked for, or the largest with a histogram. */
function hdrConnections(v: WorkloadView, asked: number | undefined): number | undefined {
  const withHist = v.groups.filter((g) => g.usable.some((c) => c.latencyUs.count > 0 && c.latencyUs.histogram !== '')).map((g) => g.connections);
  if (asked !== undefined) return withHist.includes(asked) ? asked : undefined;
  return withHist.length === 0 ? undefined : Math.max(...withHist);
}

function hdrChart(v: WorkloadView, asked: number | undefined): ChartSpec | undefined {
  const n = hdrConnections(v, asked);
  if (n === undefined) return undefined;
  const datasets: LineDataset[] = [];
  const points: PointRef[][] = [];
  const legend: LegendItem[] = [];
  let maxX = 10;
  const notes: string[] = [];
  for (const strategy of v.strategies) {
    const g = findGroup(v, strategy, n);
    if (g === undefined) continue;
    if (g.status === 'failed') {
      notes.push(`${strategy}: failed, no histogram`);
      continue;
    }
    // Repetitions are merged into one histogram: percentiles are never averaged.
    const h = newHistogram();
    for (const c of g.usable) {
      if (c.latencyUs.histogram === '') continue;
      try {
        h.add(decodeHistogram(c.latencyUs.histogram));
      } catch {
        notes.push(`${strategy} rep ${c.rep}: unreadable histogram`);
      }
    }
    const count = h.totalCount;
    if (count === 0) continue;
    // Beyond 1/(1-p) = count every percentile is the maximum: stop there.
    const top = Math.min(1e6, count);
    maxX = Math.max(maxX, 10 ** Math.ceil(Math.log10(top)));
    const data: Pt[] = [];
    const steps = 240;
    for (let i = 0; i <= steps; i++) {
      const x = top ** (i / steps);
      data.push({ x, y: Math.max(1, h.getValueAtPercentile((1 - 1 / x) * 100)) });
    }
    data.push({ x: Math.max(top, 1.0001), y: Math.max(1, h.maxValue) });
    const colour = strategyColour(strategy);
    const flags = [g.status === 'capped' ? 'capped' : '', g.clientBound ? 'client-bound' : ''].filter((f) => f !== '');
    const label = `${strategy} (${fmtRate(count)} samples${flags.length > 0 ? `; ${flags.join(', ')}` : ''})`;
    legend.push(legendLine(label, colour, g.clientBound ? [8, 6] : [], datasets.length));
    points.push(data.map(() => ({ group: g })));
    datasets.push({
      label,
      data,
      borderColor: colour,
      backgroundColor: colour,
      borderWidth: 3,
      borderDash: g.clientBound ? [8, 6] : [],
      pointRadius: 0,
      stepped: 'after',
      clip: 4,
    });
    h.destroy();
  }
  if (datasets.length === 0) return undefined;
  for (const note of notes) legend.push(legendMarker(note, MARKERS.failed.pointStyle, MARKER_GREY));
  const ticks = hdrTicks(maxX);
  const yAxis: YAxis = { title: 'latency (µs, log scale)', log: true, format: usLabel };
  fitLogAxis(yAxis, datasets.flatMap((d) => (d.data as Pt[]).map((p) => p.y)), false);
  const options = baseOptions(`${v.workload}: latency percentile distribution at ${n.toLocaleString('en-US')} connections${fmtIdle(v.idle)}`, v.subtitle);
  options.scales = {
    x: {
      type: 'logarithmic',
      min: 1,
      max: maxX,
      title: axisTitle('percentile (log scale of 1/(1−p))'),
      grid: { color: GRID },
      afterBuildTicks: (axis: Scale) => {
        axis.ticks = ticks.map((value): Tick => ({ value }));
      },
      ticks: { color: TEXT, font: { size: 15 }, callback: (value: string | number) => percentileLabel(Number(value)) },
    },
    y: yAxisOptions(yAxis, 'left', true),
  };
  const plugins = options.plugins;
  if (plugins?.legend?.labels !== undefined) plugins.legend.labels.generateLabels = () => legend;
  return {
    file: `${fileSafe(v.workload)}-hdr-c${n}${idleFile(v.idle)}.png`,
    workload: v.workload,
    kind: 'hdr',
    caption: `Latency at every percentile at ${n.toLocaleString('en-US')} connections${fmtIdle(v.idle)} (all repetitions' HDR histograms merged; dashed: client-bound).`,
    config: { type: 'line', data: { datasets }, options },
    points,
  };
}

/** Workloads in plan order, then any others the cells name. */
export function workloadsOf(results: Results): string[] {
  const present = new Set(results.cells.map((c) => c.workload));
  return [...results.plan.workloads.filter((w) => present.has(w)), ...[...present].filter((w) => !results.plan.workloads.includes(w)).sort()];
}

/** Every chart of a results file, in report order. */
export function planCharts(results: Results, opts: ChartPlanOptions = {}): ChartSpec[] {
  const groups = groupCells(results.cells);
  const out: ChartSpec[] = [];
  for (const workload of workloadsOf(results)) {
    const v = workloadView(results, workload, groups);
    const perConnection = [throughputChart(v), latencyChart(v), hdrChart(v, opts.hdrConnections), cpuChart(v), rssChart(v), threadsChart(v), ...(workload === 'chat' ? chatCharts(v) : [])];
    for (const spec of [...perConnection, ...idleCharts(v)]) {
      if (spec !== undefined) out.push(spec);
    }
  }
  return out;
}
