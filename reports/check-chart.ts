/**
 * The `iomodels check --png` chart: baseline and current median throughput
 * per cell, side by side, with 95% CI error bars, so a reviewer sees at a
 * glance whether a flagged slowdown is outside the noise. Self-contained
 * (Chart.js on @napi-rs/canvas) so it does not depend on the report charts.
 */
import { writeFileSync } from 'node:fs';
import { createCanvas, GlobalFonts, type SKRSContext2D } from '@napi-rs/canvas';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Title, type Plugin } from 'chart.js';
import type { Comparison, Side } from '../harness/check.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Title);

const WIDTH = 1200;
const HEIGHT = 700;
const COLORS = { baseline: '#8c9bb0', current: '#2f6fdf', regression: '#d62828', bar: '#222222' };

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
      const y = chart.scales['y'];
      if (y === undefined) return;
      ctx.save();
      ctx.strokeStyle = COLORS.bar;
      ctx.lineWidth = 2;
      bars.forEach((cis, di) => {
        const meta = chart.getDatasetMeta(di);
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
    const cb = c.verdict !== 'unreliable (client-bound)' && (c.baseline?.clientBound === true || c.current?.clientBound === true) ? ', client-bound' : '';
    return c.verdict === 'regression' ? `${c.cell} ✗ REGRESSION` : `${c.cell} (${c.verdict}${cb})`;
  });
  const med = (s: Side | undefined): number | null => (s !== undefined && Number.isFinite(s.median) ? s.median : null);
  const canvas = createCanvas(WIDTH, HEIGHT);
  const ctx = canvas.getContext('2d');
  const bars: Bars = [shown.map((c) => ciOf(c.baseline)), shown.map((c) => ciOf(c.current))];
  Chart.defaults.font.family = fontFamily();
  Chart.defaults.font.size = 16;
  Chart.defaults.color = '#222222';
  // @napi-rs/canvas implements the 2D context surface Chart.js draws with (Chart.js runs on its BasicPlatform: no DOM).
  const chart = new Chart(ctx, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'baseline (median, 95% CI)', data: shown.map((c) => med(c.baseline)), backgroundColor: COLORS.baseline },
        {
          label: 'current (median, 95% CI)',
          data: shown.map((c) => med(c.current)),
          backgroundColor: shown.map((c) => (c.verdict === 'regression' ? COLORS.regression : COLORS.current)),
        },
      ],
    },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      layout: { padding: 20 },
      plugins: {
        title: { display: true, text: 'iomodels check: throughput, baseline vs current', font: { size: 22, weight: 'bold' } },
        legend: { position: 'top' },
      },
      scales: {
        x: { ticks: { font: { size: 15 } } },
        y: {
          beginAtZero: true,
          title: { display: true, text: o.normalized ? 'throughput ÷ reference cell' : 'throughput (ops/s)', font: { size: 17 } },
          // The error bars must fit: scale to the highest CI end, not the highest median.
          suggestedMax: Math.max(0, ...bars.flat().map((ci) => (ci === null ? 0 : ci[1]))) * 1.05,
        },
      },
    },
    plugins: [whiteBackground(ctx), errorBars(ctx, bars)],
  });
  const png = await canvas.encode('png');
  chart.destroy();
  writeFileSync(file, png);
}
