/**
 * Chart.js configs → PNG bytes, server-side on @napi-rs/canvas (a Skia
 * binding with prebuilt binaries: no cairo, no node-gyp). Chart.js runs on
 * its BasicPlatform here: no DOM, so responsive sizing and animation are
 * off and the canvas size is the image size.
 */
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js';
import { CHART_HEIGHT, CHART_WIDTH, TEXT, type BackgroundOptions, type BarTotalsOptions, type DodgeOptions, type ErrorBarsOptions } from './charts.js';

Chart.register(...registerables);

/** Fonts tried in order; Skia draws no text at all without a real font. */
const PREFERRED_FONTS = ['DejaVu Sans', 'Liberation Sans', 'Noto Sans', 'Arial', 'Helvetica', 'FreeSans'];

function pickFont(): string | undefined {
  const families = new Set(GlobalFonts.families.map((f) => f.family));
  const hit = PREFERRED_FONTS.find((f) => families.has(f));
  if (hit !== undefined) return hit;
  return GlobalFonts.families[0]?.family;
}

const FONT = pickFont();
if (FONT !== undefined) Chart.defaults.font.family = FONT;

/** The font family charts use, or undefined when the system has none (labels would be blank). */
export function chartFont(): string | undefined {
  return FONT;
}

/**
 * The context Chart.js hands plugins is typed as the DOM's
 * CanvasRenderingContext2D, which does not exist under Node; it is the
 * @napi-rs/canvas context we created.
 */
function context(chart: { ctx: unknown }): SKRSContext2D {
  const ctx: unknown = chart.ctx;
  return ctx as SKRSContext2D;
}

/** A white page: PNGs are otherwise transparent and unreadable on dark viewers. */
function backgroundPlugin<T extends 'line' | 'bar'>(): Plugin<T, BackgroundOptions> {
  return {
    id: 'background',
    defaults: { colour: '#ffffff' },
    beforeDraw(chart, _args, opts) {
      const ctx = context(chart);
      const { width, height } = chart;
      ctx.save();
      ctx.fillStyle = opts.colour;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };
}
const background = backgroundPlugin<'line'>();

/** Vertical 95% CI bars with caps, drawn over the points they belong to. */
const errorBars: Plugin<'line', ErrorBarsOptions> = {
  id: 'errorBars',
  defaults: { bars: [] },
  afterDatasetsDraw(chart, _args, opts) {
    const ctx = context(chart);
    const area = chart.chartArea;
    ctx.save();
    // A bar never paints over the title or legend, whatever the axis range.
    ctx.beginPath();
    ctx.rect(area.left, area.top - 2, area.right - area.left, area.bottom - area.top + 4);
    ctx.clip();
    for (const bar of opts.bars) {
      const meta = chart.getDatasetMeta(bar.dataset);
      const point = meta.data[bar.index];
      const scale = chart.scales[meta.yAxisID ?? 'y'];
      if (point === undefined || scale === undefined || meta.hidden) continue;
      const x = point.x;
      const top = scale.getPixelForValue(bar.hi);
      const bottom = scale.getPixelForValue(bar.lo);
      if (!Number.isFinite(x) || !Number.isFinite(top) || !Number.isFinite(bottom)) continue;
      ctx.save();
      ctx.strokeStyle = bar.colour;
      ctx.lineWidth = 2;
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.moveTo(x - 7, top);
      ctx.lineTo(x + 7, top);
      ctx.moveTo(x - 7, bottom);
      ctx.lineTo(x + 7, bottom);
      ctx.stroke();
      ctx.restore();
    }
    ctx.restore();
  },
};

/** Moves each dataset's points (and so its line and error bars) sideways by its offset. */
const dodge: Plugin<'line', DodgeOptions> = {
  id: 'dodge',
  defaults: { px: [] },
  afterDatasetsUpdate(chart, _args, opts) {
    for (const [i, px] of opts.px.entries()) {
      if (px === 0) continue;
      for (const point of chart.getDatasetMeta(i).data) point.x += px;
    }
  },
};

/** Each stacked bar's total above it: a bar too small to see still says what it holds. */
const barTotals: Plugin<'bar', BarTotalsOptions> = {
  id: 'barTotals',
  defaults: { labels: [] },
  afterDatasetsDraw(chart, _args, opts) {
    const ctx = context(chart);
    ctx.save();
    ctx.fillStyle = TEXT;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.font = `bold 15px ${Chart.defaults.font.family ?? 'sans-serif'}`;
    for (const [i, label] of opts.labels.entries()) {
      let top = Number.POSITIVE_INFINITY;
      let x = Number.NaN;
      for (let d = 0; d < chart.data.datasets.length; d++) {
        const bar = chart.getDatasetMeta(d).data[i];
        if (bar === undefined || !Number.isFinite(bar.y)) continue;
        top = Math.min(top, bar.y);
        x = bar.x;
      }
      if (Number.isFinite(top) && Number.isFinite(x)) ctx.fillText(label, x, top - 4);
    }
    ctx.restore();
  },
};

/** Draw a bar chart config (the anatomy's stacked bars) into a PNG. */
export function renderBarChart(config: ChartConfiguration<'bar'>, width = CHART_WIDTH, height = CHART_HEIGHT): Buffer {
  const canvas = createCanvas(width, height);
  const chart = new Chart(canvas.getContext('2d'), {
    ...config,
    options: { ...config.options, responsive: false, animation: false, devicePixelRatio: 1 },
    plugins: [...(config.plugins ?? []), backgroundPlugin<'bar'>(), barTotals],
  });
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}

/** Draw one chart config into a PNG of the given size. */
export function renderChart(config: ChartConfiguration<'line'>, width = CHART_WIDTH, height = CHART_HEIGHT): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  // @napi-rs/canvas implements the CanvasRenderingContext2D surface Chart.js
  // draws with (ChartItem names DOM types, which resolve to nothing here).
  const chart = new Chart(ctx, {
    ...config,
    options: { ...config.options, responsive: false, animation: false, devicePixelRatio: 1 },
    plugins: [...(config.plugins ?? []), background, dodge, errorBars],
  });
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
