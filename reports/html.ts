/**
 * report.html from results.json: a pure function, like report.md. One
 * self-contained page: the text and tables of report.md (the same renderer,
 * converted), every chart as a live Chart.js chart with tooltips and a
 * legend that toggles strategies, a table under each chart, and a view of
 * every metric at one connection count.
 *
 * The page must work with nothing but itself: Chart.js and the page's
 * script are inlined (the caller reads them from disk: write.ts), the
 * results are embedded as JSON, and a Content-Security-Policy forbids any
 * fetch. Tables are static HTML, so with JavaScript off every number is
 * still there; the charts are an enhancement on top.
 *
 * Chart configurations come from planCharts, the same ones the PNGs are
 * drawn from. Their callbacks cannot travel as JSON, so what they compute
 * (tick labels, legend entries) is computed here, by calling them.
 */
import type { ChartConfiguration, LegendItem } from 'chart.js';
import type { MicroResults } from '../core/micro.js';
import type { Results } from '../core/results.js';
import { baseIdle, groupCells, groupEstimate, type CellGroup } from './aggregate.js';
import type { PageChart, PageData, PageDataId, PageLegendItem, PageTicks, PageTip } from './browser/page-data.js';
import { planCharts, workloadsOf, type ChartKind, type ChartSpec, type PointRef } from './charts.js';
import { fmtBytes, fmtCount, fmtCpuPerOp, fmtIdle, fmtRate, fmtUs } from './format.js';
import { renderReport } from './markdown.js';
import { barValueText, planAnatomyCharts, type BarChartSpec } from './anatomy-charts.js';
import { escapeHtml, inlineHtml, markdownToHtml, slug } from './markdown-html.js';
import { fmtNs, MICRO_CHART_FILE, microWaitChart } from './micro.js';
import { strategyColour } from './palette.js';
import { serverCpuPerOp } from './verdict.js';

export interface HtmlAssets {
  /** Chart.js's UMD build (dist/chart.umd.js of the installed package). */
  chartJs: string;
  /** The page's compiled script (reports/browser/report-page.ts). */
  pageScript: string;
}

export interface HtmlOptions {
  /** Charts to show (default: planCharts of the results). */
  charts?: readonly ChartSpec[];
  /** The anatomy's bar charts (default: planAnatomyCharts of the results). */
  anatomyCharts?: readonly BarChartSpec[];
}

const DATA_ID: PageDataId = 'iomodels-charts';

/** JSON that is safe inside <script type="application/json">: no "<" can close the element or open a comment. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A script's source, safe inside <script>: "</script" and "<!--" are spelled so the HTML parser never sees them. */
export function inlineScript(source: string): string {
  return source
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '')
    .replace(/<\/(script)/gi, '<\\/$1')
    .replace(/<!--/g, '\\x3C!--');
}

// ---------------------------------------------------------------------------
// Values as text

/** The metric a chart plots, formatted for a reader. */
function valueText(kind: ChartKind, v: number, unit: string): string {
  if (!Number.isFinite(v)) return '–';
  switch (kind) {
    case 'throughput':
    case 'idle-throughput':
    case 'deliveries':
      return `${fmtRate(v)} ${unit}`;
    case 'latency':
    case 'delivery-latency':
    case 'hdr':
      return fmtUs(v);
    case 'cpu':
    case 'idle-cpu':
      return `${v.toFixed(v >= 100 ? 0 : 1)} µs`;
    case 'rss':
      return `${v.toFixed(1)} MiB`;
    case 'threads':
      return fmtCount(Math.round(v));
  }
}

/** A 95% interval in the chart's unit, the unit said once: "41.0k – 43.0k round trips/s". */
function rangeText(kind: ChartKind, lo: number, hi: number, unit: string): string {
  if (kind === 'throughput' || kind === 'idle-throughput' || kind === 'deliveries') return `${fmtRate(lo)} – ${fmtRate(hi)} ${unit}`;
  return `${valueText(kind, lo, unit)} – ${valueText(kind, hi, unit)}`;
}

/** "throughput (round trips/s)" → name "throughput", unit "round trips/s". */
function axisParts(title: string): { name: string; unit: string } {
  const m = /^(.*?) \((.*)\)$/.exec(title);
  if (m === null) return { name: title, unit: '' };
  return { name: m[1] ?? title, unit: (m[2] ?? '').replace(/, log scale$/, '') };
}

function cellName(g: CellGroup): string {
  return `${g.strategy} × ${g.workload} × ${fmtCount(g.connections)}${fmtIdle(g.idle)}`;
}

/** Each distinct reason of a group's cells, with the repetitions that gave it. */
function reasons(g: CellGroup): string[] {
  const byReason = new Map<string, number[]>();
  for (const c of g.cells) {
    if (c.reason === undefined || c.reason === '') continue;
    const reps = byReason.get(c.reason) ?? [];
    reps.push(c.rep);
    byReason.set(c.reason, reps);
  }
  const many = g.cells.length > 1;
  return [...byReason].map(([r, reps]) => (many ? `${r} (rep ${reps.join(', ')})` : r));
}

/** The lines every tooltip of a cell group carries: latency, marks, reasons. */
function groupNotes(g: CellGroup): string[] {
  const lines: string[] = [];
  if (g.status !== 'failed') {
    const p50 = groupEstimate(g, (c) => (c.latencyUs.count > 0 ? c.latencyUs.p50 : undefined)).median;
    const p99 = groupEstimate(g, (c) => (c.latencyUs.count > 0 ? c.latencyUs.p99 : undefined)).median;
    lines.push(`p50 ${fmtUs(p50)} · p99 ${fmtUs(p99)}`);
  }
  const why = reasons(g);
  if (g.status === 'failed') lines.push(`✕ failed: ${why.join('; ') || 'no usable repetition'}`);
  if (g.status === 'capped') lines.push(`▲ capped: ${why.join('; ') || 'the server refused part of the load'}`);
  else if (g.status === 'ok' && why.length > 0) lines.push(`note: ${why.join('; ')}`);
  if (g.clientBound) {
    const cpu = Math.max(...g.usable.filter((c) => c.clientBound).map((c) => c.client.cpuPercent));
    lines.push(`○ client-bound: load child at ${cpu.toFixed(0)}% CPU, so this measured the load generator (a floor for the server)`);
  }
  return lines;
}

function estimateLines(kind: ChartKind, name: string, unit: string, ref: PointRef): string[] {
  const e = ref.est;
  if (e === undefined || ref.group.status === 'failed') return [`${name}: no value`];
  const reps = `${e.n} repetition${e.n === 1 ? '' : 's'}`;
  return [`${name}: ${valueText(kind, e.median, unit)}`, e.n >= 2 ? `95% CI ${rangeText(kind, e.lo, e.hi, unit)} (${reps})` : `${reps}: no interval`];
}

// ---------------------------------------------------------------------------
// Charts as JSON

type Scale = Record<string, unknown>;
type Pt = { x: number; y: number | null };

function isFn(v: unknown): v is (...args: unknown[]) => unknown {
  return typeof v === 'function';
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function tidy(x: number): number {
  return Number(x.toPrecision(12));
}

/** 0 to at least `hi` in 1-2-2.5-5 steps: the ticks Chart.js would pick, fixed here so their labels can be written now. */
export function linearTicks(hi: number): number[] {
  const top = hi > 0 ? hi : 1;
  const rough = top / 6;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= rough * (1 - 1e-9)) ?? 10) * mag;
  const n = Math.max(1, Math.ceil(top / step - 1e-9));
  return Array.from({ length: n + 1 }, (_, i) => tidy(i * step));
}

/** Every 1, 2, 5 × 10^k in [lo, hi]: the ticks a log axis labels. */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  if (!(lo > 0) || !(hi >= lo)) return out;
  for (let k = Math.floor(Math.log10(lo)) - 1; k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const v = tidy(m * 10 ** k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

function tickLabels(scale: Scale, values: readonly number[]): string[] {
  const cb = asRecord(scale['ticks'])['callback'];
  if (!isFn(cb)) return values.map((v) => String(v));
  const ticks = values.map((value) => ({ value }));
  return values.map((v, i) => {
    const r = cb(v, i, ticks);
    if (Array.isArray(r)) return r.map(String).join(' ');
    return typeof r === 'string' || typeof r === 'number' ? String(r) : '';
  });
}

/**
 * A scale's ticks and labels, fixed: the builder's own afterBuildTicks
 * where it has one, 1-2-5 steps on a log axis, nice steps from 0 on a
 * linear one. `extent` is the largest value the axis must show.
 */
function portableTicks(scale: Scale, extent: number): PageTicks {
  let values: number[];
  const after = scale['afterBuildTicks'];
  if (isFn(after)) {
    const stub: { ticks: { value: number }[] } = { ticks: [] };
    after(stub);
    values = stub.ticks.map((t) => t.value);
  } else if (scale['type'] === 'logarithmic') {
    const lo = num(scale['min']) ?? 1;
    const hi = num(scale['max']) ?? Math.max(lo * 10, extent);
    values = logTicks(lo, hi);
  } else {
    values = linearTicks(Math.max(extent, num(scale['suggestedMax']) ?? 0));
  }
  return { values, labels: tickLabels(scale, values) };
}

function legendItem(item: LegendItem): PageLegendItem {
  const colour = (c: unknown, fallback: string): string => (typeof c === 'string' ? c : fallback);
  return {
    text: item.text,
    fillStyle: colour(item.fillStyle, '#555555'),
    strokeStyle: colour(item.strokeStyle, '#555555'),
    lineWidth: item.lineWidth ?? 2,
    ...(Array.isArray(item.lineDash) ? { lineDash: [...item.lineDash] } : {}),
    pointStyle: typeof item.pointStyle === 'string' ? item.pointStyle : 'circle',
    ...(item.datasetIndex === undefined ? {} : { datasetIndex: item.datasetIndex }),
  };
}

/**
 * A JSON config's options as the page wants them: sized by its box, not
 * animated, on a white page, with its own HTML tooltip. Returns the options
 * and their plugins, for the caller's own changes.
 */
function pageOptions(options: unknown): { o: Record<string, unknown>; p: Record<string, unknown> } {
  const o = asRecord(options);
  delete o['devicePixelRatio'];
  o['responsive'] = true;
  o['maintainAspectRatio'] = false;
  o['animation'] = false;
  const p = asRecord(o['plugins']);
  delete p['background'];
  delete p['tooltip'];
  return { o, p };
}

/** The config as JSON, with what its callbacks computed written out. */
function portable(config: ChartConfiguration<'line'>, id: string): Omit<PageChart, 'strategies' | 'tips' | 'tipShared'> {
  const options = asRecord(config.options);
  const plugins = asRecord(options['plugins']);
  const scales = asRecord(options['scales']);
  const bars = (asRecord(plugins['errorBars'])['bars'] ?? []) as PageChart['errorBars'];
  const dodge = (asRecord(plugins['dodge'])['px'] ?? []) as number[];
  const gen = asRecord(asRecord(plugins['legend'])['labels'])['generateLabels'];
  const legend = isFn(gen) ? (gen() as LegendItem[]).map(legendItem) : [];

  const ticks: Record<string, PageTicks> = {};
  for (const [axis, raw] of Object.entries(scales)) {
    const scale = asRecord(raw);
    let extent = 0;
    for (const d of config.data.datasets) {
      const onAxis = axis.startsWith('x') || (d.yAxisID ?? 'y') === axis;
      if (!onAxis) continue;
      for (const p of d.data as Pt[]) {
        const v = axis.startsWith('x') ? p.x : p.y;
        if (typeof v === 'number' && Number.isFinite(v)) extent = Math.max(extent, v);
      }
    }
    if (!axis.startsWith('x')) for (const b of bars) if ((config.data.datasets[b.dataset]?.yAxisID ?? 'y') === axis) extent = Math.max(extent, b.hi);
    ticks[axis] = portableTicks(scale, extent);
  }

  // JSON drops the callbacks and turns NaN gaps into null, which Chart.js also draws as gaps.
  const json = JSON.parse(JSON.stringify(config)) as ChartConfiguration<'line'>;
  // Six digits are more than a pixel can show, and HDR curves have hundreds of points.
  for (const d of json.data.datasets) {
    d.data = (d.data as Pt[]).map((p) => ({ x: Number(p.x.toPrecision(6)), y: typeof p.y === 'number' ? Number(p.y.toPrecision(6)) : null }));
  }
  const { o, p } = pageOptions(json.options);
  // The page draws error bars and dodge itself.
  delete p['errorBars'];
  delete p['dodge'];
  // The figure's own heading carries title and subtitle as text.
  for (const k of ['title', 'subtitle']) asRecord(p[k])['display'] = false;
  for (const [axis, t] of Object.entries(ticks)) {
    const s = asRecord(asRecord(o['scales'])[axis]);
    const { values } = t;
    if (s['type'] !== 'logarithmic' && values.length > 0 && !isFn(asRecord(scales[axis])['afterBuildTicks'])) {
      s['min'] = values[0];
      s['max'] = values[values.length - 1];
    }
  }
  return { id, config: json, ticks, legend, errorBars: bars, dodge };
}

/** The strategy a dataset draws: its label is the strategy, or the strategy and a suffix. */
function datasetStrategy(label: string, refs: readonly (PointRef | undefined)[]): string {
  const s = refs.find((r) => r !== undefined)?.group.strategy;
  return s !== undefined && (label === s || label.startsWith(`${s} `)) ? s : '';
}

interface Built {
  page: PageChart;
  title: string;
  subtitle: string;
  table: string;
}

function textOf(v: unknown): string {
  return Array.isArray(v) ? v.map(String).join(' · ') : typeof v === 'string' ? v : '';
}

/** Percentiles the HDR table lists, as 1/(1-p) (Infinity: the maximum). */
const HDR_ROWS: readonly [string, number][] = [
  ['p50', 2],
  ['p90', 10],
  ['p99', 100],
  ['p99.9', 1000],
  ['p99.99', 10_000],
  ['max', Number.POSITIVE_INFINITY],
];

function percentileText(x: number): string {
  const p = (1 - 1 / x) * 100;
  const digits = Math.min(4, Math.max(0, Math.ceil(Math.log10(x)) - 2));
  return `p${p.toFixed(digits)}`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[], numeric: (col: number) => boolean): string {
  const cls = (i: number): string => (numeric(i) ? ' class="num"' : '');
  return (
    `<div class="table-wrap"><table>\n<thead><tr>${head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead>\n` +
    `<tbody>\n${rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n')}\n</tbody></table></div>`
  );
}

function buildChart(spec: ChartSpec, id: string): Built {
  const base = portable(spec.config, id);
  const datasets = spec.config.data.datasets;
  const scales = asRecord(asRecord(spec.config.options)['scales']);
  const yTitle = textOf(asRecord(asRecord(scales['y'])['title'])['text']);
  const { name, unit } = axisParts(yTitle);
  const rateUnit = spec.kind === 'deliveries' ? 'deliveries/s' : unit;
  const strategies = datasets.map((d, i) => datasetStrategy(d.label ?? '', spec.points[i] ?? []));
  const tipShared: PageTip[] = datasets.map((_, i) => {
    const g = spec.points[i]?.find((r) => r !== undefined)?.group;
    // An HDR curve is one cell group: its title and marks are said once.
    return spec.kind === 'hdr' && g !== undefined ? { title: cellName(g), lines: groupNotes(g).slice(1) } : { lines: [] };
  });
  const tips: (PageTip | null)[][] = datasets.map((d, i) => {
    const refs = spec.points[i] ?? [];
    const suffix = (d.label ?? '').slice(strategies[i]?.length ?? 0).trim();
    const series = suffix === '' ? name : `${suffix} ${name}`;
    return (d.data as Pt[]).map((pt, j): PageTip | null => {
      const ref = refs[j];
      if (ref === undefined) return null;
      const g = ref.group;
      if (spec.kind === 'hdr') {
        const y = typeof pt.y === 'number' ? pt.y : Number.NaN;
        const last = j === d.data.length - 1;
        return { lines: [`${last ? 'max' : percentileText(pt.x)}: ${fmtUs(y)}`] };
      }
      return { title: cellName(g), lines: [...estimateLines(spec.kind, series, rateUnit, ref), ...groupNotes(g)] };
    });
  });

  // The table under the chart: the same points, as text.
  const cols = datasets.map((d, i) => ({ d, i })).filter(({ i }) => strategies[i] !== '');
  let tableHtml: string;
  if (spec.kind === 'hdr') {
    const rows = HDR_ROWS.map(([label, x]) => [
      label,
      ...cols.map(({ d }) => {
        const pts = d.data as Pt[];
        let y: number | null = null;
        for (const p of pts) if (p.x <= x * (1 + 1e-9)) y = p.y;
        return typeof y === 'number' ? fmtUs(y) : '–';
      }),
    ]);
    tableHtml = table(['percentile', ...cols.map(({ d }) => d.label ?? '')], rows, (c) => c > 0);
  } else {
    const isIdle = spec.kind === 'idle-throughput' || spec.kind === 'idle-cpu';
    const xs = [...new Set(cols.flatMap(({ d }) => (d.data as Pt[]).map((p) => p.x)))].sort((a, b) => a - b);
    const rows = xs.map((x) => {
      let rowLabel = String(x);
      const cells = cols.map(({ d, i }) => {
        const j = (d.data as Pt[]).findIndex((p) => p.x === x);
        const ref = spec.points[i]?.[j];
        if (ref === undefined) return '–';
        rowLabel = fmtCount(isIdle ? ref.group.idle : ref.group.connections);
        const g = ref.group;
        if (g.status === 'failed' || ref.est === undefined) return '✕ failed';
        const e = ref.est;
        const ci = e.n >= 2 ? ` [${rangeText(spec.kind, e.lo, e.hi, rateUnit)}]` : '';
        return `${valueText(spec.kind, e.median, rateUnit)}${ci}${g.status === 'capped' ? ' ▲' : ''}${g.clientBound ? ' ○' : ''}`;
      });
      return [rowLabel, ...cells];
    });
    tableHtml = table([isIdle ? 'idle connections' : 'connections', ...cols.map(({ d }) => d.label ?? '')], rows, (c) => c > 0);
  }
  const plugins = asRecord(asRecord(spec.config.options)['plugins']);
  return {
    page: { ...base, strategies, tips, tipShared },
    title: textOf(asRecord(plugins['title'])['text']),
    subtitle: textOf(asRecord(plugins['subtitle'])['text']),
    table: tableHtml,
  };
}

function buildMicro(m: MicroResults, id: string): Built {
  const config = microWaitChart(m);
  const base = portable(config, id);
  const datasets = config.data.datasets;
  const strategies = datasets.map((d) => d.label ?? '');
  const tips = datasets.map((d) =>
    (d.data as Pt[]).map((p): PageTip => {
      const w = m.wait.find((x) => x.mechanism === d.label && x.fds === p.x);
      return {
        title: `${d.label ?? ''}, ${fmtCount(p.x)} watched fds`,
        lines: [`${fmtNs(typeof p.y === 'number' ? p.y : Number.NaN)} per wait call`, ...(w === undefined ? [] : [`±${w.rme.toFixed(1)}% (tinybench relative margin of error)`])],
      };
    }),
  );
  const plugins = asRecord(asRecord(config.options)['plugins']);
  return {
    page: { ...base, strategies, tips, tipShared: datasets.map(() => ({ lines: [] })) },
    title: textOf(asRecord(plugins['title'])['text']),
    subtitle: textOf(asRecord(plugins['subtitle'])['text']),
    // The section's own table, right below, lists the same points.
    table: '',
  };
}

/**
 * An anatomy chart: stacked bars, one per strategy. Its datasets are parts
 * of an op (syscall names, kinds of switch), not strategies, so the
 * strategy switches leave it alone; its tooltip names the strategy's cell.
 */
function buildBar(spec: BarChartSpec, id: string): Built {
  const options = asRecord(spec.config.options);
  const plugins = asRecord(options['plugins']);
  const gen = asRecord(asRecord(plugins['legend'])['labels'])['generateLabels'];
  const legend = isFn(gen) ? (gen() as LegendItem[]).map(legendItem) : [];
  const totals = spec.strategies.map((_, j) => spec.points.reduce((acc, refs) => acc + (refs[j]?.est.median ?? 0), 0));
  const yScale = asRecord(asRecord(options['scales'])['y']);
  const ticks: Record<string, PageTicks> = { y: portableTicks(yScale, Math.max(0, ...totals)) };
  const json = JSON.parse(JSON.stringify(spec.config)) as ChartConfiguration<'bar'>;
  const { o, p } = pageOptions(json.options);
  // The page writes the totals itself (PageChart.barTotals).
  delete p['barTotals'];
  for (const k of ['title', 'subtitle']) asRecord(p[k])['display'] = false;
  const ys = asRecord(asRecord(o['scales'])['y']);
  const values = ticks['y']?.values ?? [];
  if (values.length > 0) {
    ys['min'] = values[0];
    ys['max'] = values[values.length - 1];
  }
  const value = (v: number): string => `${barValueText(spec.kind, v)} ${spec.valueName}`;
  const tips = spec.points.map((refs) =>
    refs.map((ref, j): PageTip | null => {
      if (ref === undefined) return null;
      const e = ref.est;
      const ci = e.n >= 2 && e.hi > e.lo ? [`95% CI ${barValueText(spec.kind, e.lo)} – ${barValueText(spec.kind, e.hi)} (${e.n} repetitions)`] : [];
      return { title: cellName(ref.row.group), lines: [`${ref.part}: ${value(e.median)}`, ...ci, `all parts: ${value(totals[j] ?? Number.NaN)}`, `counted by ${ref.row.source}`] };
    }),
  );
  const rows = spec.strategies.map((st, j) => [st, ...spec.points.map((refs) => (refs[j] === undefined ? '–' : barValueText(spec.kind, refs[j].est.median))), barValueText(spec.kind, totals[j] ?? Number.NaN)]);
  const head = ['strategy', ...spec.points.map((refs) => refs.find((r) => r !== undefined)?.part ?? ''), 'all'];
  const page: PageChart = {
    id,
    config: json,
    ticks,
    legend,
    strategies: spec.points.map(() => ''),
    tips,
    tipShared: spec.points.map(() => ({ lines: [] })),
    errorBars: [],
    dodge: [],
    barTotals: (spec.config.options?.plugins?.barTotals?.labels ?? []).map((l) => l ?? ''),
  };
  return {
    page,
    title: textOf(asRecord(plugins['title'])['text']),
    subtitle: textOf(asRecord(plugins['subtitle'])['text']),
    table: table(head, rows, (c) => c > 0),
  };
}

function figure(b: Built, caption: string | undefined): string {
  const id = escapeHtml(b.page.id);
  const tableBlock = b.table === '' ? '' : `\n<details class="data" open><summary>Table</summary>\n${b.table}\n</details>`;
  return (
    `<figure class="chart" id="fig-${id}">\n` +
    `<figcaption><strong>${escapeHtml(b.title)}</strong>${caption === undefined ? '' : ` <span>${inlineHtml(caption)}</span>`}<br><small>${escapeHtml(b.subtitle)}</small></figcaption>\n` +
    `<div class="canvas-box"><canvas id="${id}" role="img" aria-label="${escapeHtml(b.title)}"></canvas><div class="tip" role="status" hidden></div></div>` +
    `${tableBlock}\n</figure>`
  );
}

// ---------------------------------------------------------------------------
// Every metric at one connection count

function compareTable(groups: readonly CellGroup[], strategies: readonly string[]): string {
  const rows = strategies.flatMap((s) => {
    const g = groups.find((x) => x.strategy === s);
    if (g === undefined) return [];
    if (g.status === 'failed') return [[s, '✕ failed', '–', '–', '–', '–', '–', '–', reasons(g).join('; ')]];
    const est = (f: Parameters<typeof groupEstimate>[1]): ReturnType<typeof groupEstimate> => groupEstimate(g, f);
    const ops = est((c) => c.opsPerSec);
    const ci = ops.n >= 2 ? ` [${fmtRate(ops.lo)} – ${fmtRate(ops.hi)}]` : '';
    const notes = [g.status === 'capped' ? '▲ capped' : '', g.clientBound ? '○ client-bound' : '', ...reasons(g)].filter((x) => x !== '');
    return [
      [
        s,
        `${fmtRate(ops.median)}${ci}`,
        fmtCpuPerOp(est(serverCpuPerOp).median),
        fmtUs(est((c) => (c.latencyUs.count > 0 ? c.latencyUs.p50 : undefined)).median),
        fmtUs(est((c) => (c.latencyUs.count > 0 ? c.latencyUs.p99 : undefined)).median),
        fmtBytes(est((c) => c.server.peakRssBytes).median),
        fmtCount(Math.round(est((c) => c.server.peakThreads).median)),
        `${est((c) => c.client.cpuPercent).median.toFixed(0)}%`,
        notes.join('; '),
      ],
    ];
  });
  return table(['strategy', 'ops/s [95% CI]', 'server CPU', 'p50', 'p99', 'RSS', 'threads', 'client CPU', 'marks'], rows, (c) => c >= 1 && c <= 7);
}

function compareSection(results: Results, workload: string, headingId: string): string {
  const all = groupCells(results.cells).filter((g) => g.workload === workload);
  const idle = baseIdle(all);
  const groups = all.filter((g) => g.idle === idle);
  const present = new Set(groups.map((g) => g.strategy));
  const strategies = [...results.plan.strategies.filter((s) => present.has(s)), ...[...present].filter((s) => !results.plan.strategies.includes(s)).sort()];
  const counts = [...new Set(groups.map((g) => g.connections))].sort((a, b) => a - b);
  if (counts.length === 0) return '';
  const id = `${headingId}-at-one-count`;
  const options = counts.map((n, i) => `<option value="${n}"${i === counts.length - 1 ? ' selected' : ''}>${fmtCount(n)}</option>`).join('');
  const tables = counts
    .map((n) => `<div class="compare-at" data-connections="${n}">\n<h4>${fmtCount(n)} connections${escapeHtml(fmtIdle(idle))}</h4>\n${compareTable(groups.filter((g) => g.connections === n), strategies)}\n</div>`)
    .join('\n');
  return (
    `<section class="compare" id="${escapeHtml(id)}">\n<h3>Every metric at one connection count</h3>\n` +
    `<p>Throughput, server CPU per op, latency, memory and threads side by side (medians over repetitions; the 95% interval in brackets). ▲ capped, ○ client-bound, ✕ failed.</p>\n` +
    `<p class="js-only"><label>Connections <select class="compare-pick">${options}</select></label></p>\n${tables}\n</section>`
  );
}

// ---------------------------------------------------------------------------
// The page

const STYLE = `
:root { --fg: #222; --muted: #555; --line: #ddd; --bg: #fff; --accent: #1f77b4; --mark: #f4f4f4; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header.top { position: sticky; top: 0; z-index: 5; background: #fafafa; border-bottom: 1px solid var(--line); padding: .4rem 1rem; }
header.top nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; font-size: 14px; }
header.top a { color: var(--accent); text-decoration: none; }
.toggles { display: flex; flex-wrap: wrap; gap: .3rem; margin-top: .35rem; }
.toggles button { font: inherit; font-size: 13px; border: 2px solid var(--c); background: var(--c); color: #fff; border-radius: 1rem; padding: .05rem .6rem; cursor: pointer; }
.toggles button[aria-pressed="false"] { background: #fff; color: var(--muted); text-decoration: line-through; }
main { max-width: 1180px; margin: 0 auto; padding: .5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: .6rem 0; }
h2 { font-size: 1.35rem; margin-top: 2rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; scroll-margin-top: 5.5rem; }
h3 { font-size: 1.1rem; margin-top: 1.5rem; scroll-margin-top: 5.5rem; }
h4 { font-size: 1rem; margin: .8rem 0 .3rem; }
code { background: var(--mark); padding: 0 .2em; border-radius: 3px; font-size: .92em; }
blockquote { margin: 1rem 0; padding: .3rem 1rem; border-left: 4px solid #e6a100; background: #fff8e6; }
.table-wrap { overflow-x: auto; margin: .5rem 0 1rem; }
table { border-collapse: collapse; font-size: 13.5px; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--mark); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fbfbfb; }
figure.chart { margin: 1.5rem 0; padding: .6rem; border: 1px solid var(--line); border-radius: 6px; }
figcaption { margin-bottom: .4rem; }
figcaption small { color: var(--muted); }
.canvas-box { position: relative; height: min(62vh, 460px); }
/* Without the page's script there is nothing to draw or pick: only the tables show. */
html:not(.js) .canvas-box, html:not(.js) .js-only, html.js .no-js { display: none !important; }
.no-js { background: #fff8e6; padding: .4rem .8rem; }
.tip { position: absolute; z-index: 3; pointer-events: none; max-width: min(24rem, 92%); background: rgba(255,255,255,.97); border: 1px solid #999; border-radius: 4px; box-shadow: 0 2px 8px rgba(0,0,0,.18); padding: .35rem .55rem; font-size: 13px; line-height: 1.35; }
.tip strong { display: block; margin-bottom: .15rem; }
details.data summary { cursor: pointer; color: var(--accent); font-size: 14px; }
.compare { border-left: 4px solid var(--line); padding-left: .8rem; }
@media (max-width: 640px) {
  body { font-size: 14px; }
  main { padding: .3rem .5rem 2rem; }
  .canvas-box { height: 420px; }
  /* A phone has no height to spare for a sticky bar. */
  header.top { position: static; }
  figure.chart { padding: .3rem; margin: 1rem -.2rem; }
  h2 { scroll-margin-top: 8rem; }
}
`;

export function renderHtml(results: Results, assets: HtmlAssets, opts: HtmlOptions = {}): string {
  const charts = opts.charts ?? planCharts(results);
  const bars = opts.anatomyCharts ?? planAnatomyCharts(results);
  const md = renderReport(results, { charts, anatomyCharts: bars, ...(results.micro === undefined ? {} : { microChart: MICRO_CHART_FILE }) });
  const built = new Map<string, Built>();
  for (const spec of charts) built.set(spec.file, buildChart(spec, `chart-${slug(spec.file.replace(/\.png$/, ''))}`));
  for (const spec of bars) built.set(spec.file, buildBar(spec, `chart-${slug(spec.file.replace(/\.png$/, ''))}`));
  if (results.micro !== undefined) built.set(MICRO_CHART_FILE, buildMicro(results.micro, 'chart-micro-wait'));

  const workloads = new Set(workloadsOf(results));
  const nav: { id: string; text: string }[] = [];
  const body = markdownToHtml(md, {
    image: (_alt, src, caption) => {
      const b = built.get(src);
      if (b === undefined) return { html: '', usedCaption: false };
      return { html: figure(b, caption), usedCaption: true };
    },
    afterHeading: (level, text, id) => {
      if (level !== 2) return '';
      nav.push({ id, text });
      return workloads.has(text) ? compareSection(results, text, id) : '';
    },
  });

  const data: PageData = { charts: [...built.values()].map((b) => b.page) };
  const strategies = [...new Set(data.charts.flatMap((c) => c.strategies).filter((s) => s !== ''))];
  const toggles = strategies
    .map((s) => `<button type="button" aria-pressed="true" data-strategy="${escapeHtml(s)}" style="--c: ${strategyColour(s)}">${escapeHtml(s)}</button>`)
    .join('');
  const title = `iomodels report — ${results.startedAt}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="iomodels ${escapeHtml(results.tool.version)}">
<title>${escapeHtml(title)}</title>
<script>document.documentElement.classList.add('js')</script>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
<nav aria-label="sections">${nav.map((n) => `<a href="#${escapeHtml(n.id)}">${escapeHtml(n.text)}</a>`).join('')}<a class="js-only" id="download-results" href="#" download="results.json">results.json</a></nav>
<div class="toggles js-only" role="group" aria-label="strategies shown in every chart">${toggles}</div>
</header>
<main>
<p class="no-js"><strong>JavaScript is off:</strong> the charts are not drawn, but every number is in the tables.</p>
${body}
</main>
<script type="application/json" id="iomodels-results">${scriptJson(results)}</script>
<script type="application/json" id="${DATA_ID}">${scriptJson(data)}</script>
<script>${inlineScript(assets.chartJs)}</script>
<script type="module">${inlineScript(assets.pageScript)}</script>
</body>
</html>
`;
}
