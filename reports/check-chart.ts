/**
 * The `iomodels check --png` chart: baseline and current median throughput
 * per cell, side by side, with 95% CI error bars, so a reviewer sees at a
 * glance whether a flagged slowdown is outside the noise. Cells compared by
 * server CPU per op (client-bound current runs) get bars of their own on a
 * right-hand axis: two units never share one. Self-contained (Chart.js on
 * @napi-rs/canvas) so it does not depend on the report charts.
 */
import { writeFileSync } from 'node:fs';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Title, type ChartDataset, type LegendItem, type Plugin } from 'chart.js';
import type { Comparison, Side } from './check.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Title);

const WIDTH = 1200;
const HEIGHT = 700;
const COLORS = { baseline: '#8c9bb0', current: '#2f6fdf', cpuBaseline: '#c9b38f', cpuCurrent: '#c07a12', regression: '#d62828', bar: '#222222' };

/** Per dataset, per cell: the CI to draw (null: nothing to draw). */
type Bars = (readonly [number, number] | null)[][];

function ciOf(s: Side | undefined): readonly [number, number] | null {
  if (s === undefined || s.values.length < 2 || !Number.isFinite(s.ci.lo)) return null;
  return [s.ci.lo, s.ci.hi];
}

/** Chart.js draws no error bars of its own: a few lines per bar, after the bars. */
function errorBars(ctx: SKRSContext2D, bars: Bars): Plugin<'bar'> {
  return {
    id: 'iomodelsErrorBars',
    afterDatasetsDraw(chart) {
      ctx.save();
      ctx.strokeStyle = COLORS.bar;
      ctx.lineWidth = 2;
      bars.forEach((cis, di) => {
        const meta = chart.getDatasetMeta(di);
        const y = chart.scales[meta.yAxisID ?? 'y'];
        if (y === undefined) return;
        cis.forEach((ci, i) => {
          const el = meta.data[i];
          if (ci === null || el === undefined) return;
          const x = el.x;
          const top = y.getPixelForValue(ci[1]);
          const bottom = y.getPixelForValue(ci[0]);
          const cap = 8;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, bottom);
          ctx.moveTo(x - cap, top);
          ctx.lineTo(x + cap, top);
          ctx.moveTo(x - cap, bottom);
          ctx.lineTo(x + cap, bottom);
          ctx.stroke();
        });
      });
      ctx.restore();
    },
  };
}

/** PNGs are transparent otherwise, and unreadable in a dark viewer. */
function whiteBackground(ctx: SKRSContext2D): Plugin<'bar'> {
  return {
    id: 'iomodelsWhiteBackground',
    beforeDraw(chart) {
      ctx.save();
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
  };
}

/** Skia draws no text at all without a real font: take a common sans if the system has one. */
function fontFamily(): string {
  const families = new Set(GlobalFonts.families.map((f) => f.family));
  return ['DejaVu Sans', 'Liberation Sans', 'Noto Sans', 'Arial', 'Helvetica'].find((f) => families.has(f)) ?? GlobalFonts.families[0]?.family ?? 'sans-serif';
}

/** Draw the comparison of every cell measured on both sides into a PNG file. */
export async function renderCheckChart(comparisons: readonly Comparison[], file: string, o: { normalized: boolean }): Promise<void> {
  const shown = comparisons.filter((c) => c.baseline !== undefined && c.current !== undefined);
  const labels = shown.map((c) => {
    const by = c.metric === 'cpu' ? 'CPU/op, ' : '';
    const cb = c.metric !== 'cpu' && c.verdict !== 'unreliable (client-bound)' && c.baseline?.clientBound === true ? ', baseline client-bound' : '';
    return c.verdict === 'regression' ? `${c.cell} (${by}✗ REGRESSION)` : `${c.cell} (${by}${c.verdict}${cb})`;
  });
  const med = (c: Comparison, s: Side | undefined, metric: Comparison['metric']): number | null =>
    c.metric === metric && s !== undefined && Number.isFinite(s.median) ? s.median : null;
  const ci = (c: Comparison, s: Side | undefined, metric: Comparison['metric']): readonly [number, number] | null => (c.metric === metric ? ciOf(s) : null);
  const anyCpu = shown.some((c) => c.metric === 'cpu');
  const anyThroughput = shown.some((c) => c.metric === 'throughput');
  const canvas = createCanvas(WIDTH, HEIGHT);
  const ctx = canvas.getContext('2d');
  const datasets: ChartDataset<'bar', (number | null)[]>[] = [];
  const bars: Bars = [];
  const legend: LegendItem[] = [];
  const upper: Record<'y' | 'y2', number> = { y: 0, y2: 0 };
  for (const metric of ['throughput', 'cpu'] as const) {
    if (metric === 'throughput' ? !anyThroughput : !anyCpu) continue;
    const axis = metric === 'cpu' ? 'y2' : 'y';
    const what = metric === 'cpu' ? 'server CPU/op' : 'throughput';
    for (const which of ['baseline', 'current'] as const) {
      const sideOf = (c: Comparison): Side | undefined => (which === 'baseline' ? c.baseline : c.current);
      const colour = metric === 'cpu' ? (which === 'baseline' ? COLORS.cpuBaseline : COLORS.cpuCurrent) : which === 'baseline' ? COLORS.baseline : COLORS.current;
      legend.push({ text: `${which} ${what} (median, 95% CI)`, fillStyle: colour, strokeStyle: colour, lineWidth: 0, hidden: false, datasetIndex: datasets.length });
      datasets.push({
        label: `${which} ${what} (median, 95% CI)`,
        data: shown.map((c) => med(c, sideOf(c), metric)),
        backgroundColor: which === 'current' ? shown.map((c) => (c.verdict === 'regression' ? COLORS.regression : colour)) : colour,
        yAxisID: axis,
      });
      const cis = shown.map((c) => ci(c, sideOf(c), metric));
      bars.push(cis);
      upper[axis] = Math.max(upper[axis], ...cis.map((x) => (x === null ? 0 : x[1])), ...shown.map((c) => med(c, sideOf(c), metric) ?? 0));
    }
  }
  if (shown.some((c) => c.verdict === 'regression')) legend.push({ text: 'regression', fillStyle: COLORS.regression, strokeStyle: COLORS.regression, lineWidth: 0, hidden: false });
  Chart.defaults.font.family = fontFamily();
  Chart.defaults.font.size = 16;
  Chart.defaults.color = '#222222';
  const yTitle = o.normalized ? 'throughput ÷ reference cell' : 'throughput (ops/s)';
  const y2Title = o.normalized ? 'server CPU/op ÷ reference cell (client-bound rows)' : 'server CPU per op (µs, client-bound rows)';
  // @napi-rs/canvas implements the 2D context surface Chart.js draws with (Chart.js runs on its BasicPlatform: no DOM).
  const chart = new Chart(ctx, {
    type: 'bar',
    data: { labels, datasets },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      // A cell has bars of one metric only: the other metric's slots close up.
      skipNull: true,
      layout: { padding: 20 },
      plugins: {
        title: { display: true, text: `iomodels check: ${anyCpu ? 'throughput or server CPU per op' : 'throughput'}, baseline vs current`, font: { size: 22, weight: 'bold' } },
        // Legend swatches in each series' own colour: a current bar that is a regression is red, its series is not.
        legend: { position: 'top', labels: { generateLabels: () => legend } },
      },
      scales: {
        x: { ticks: { font: { size: 15 } } },
        // The error bars must fit: each axis scales to its highest CI end, not its highest median.
        ...(anyThroughput ? { y: { position: 'left', beginAtZero: true, title: { display: true, text: yTitle, font: { size: 17 } }, suggestedMax: upper.y * 1.05 } } : {}),
        ...(anyCpu
          ? { y2: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: !anyThroughput }, title: { display: true, text: y2Title, font: { size: 17 } }, suggestedMax: upper.y2 * 1.05 } }
          : {}),
      },
    },
    plugins: [whiteBackground(ctx), errorBars(ctx, bars)],
  });
  const png = await canvas.encode('png');
  chart.destroy();
  writeFileSync(file, png);
}
