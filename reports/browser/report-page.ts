/**
 * The script of report.html, run in the browser after Chart.js (inlined
 * before it as a classic script, so it is the global `Chart`). It draws
 * every chart the server described (page-data.ts), with the error bars
 * and sideways dodge the PNGs have, an HTML tooltip per chart, legends
 * that toggle a strategy, and page-wide strategy switches.
 *
 * It imports types only: it is inlined on its own, with nothing to import
 * at run time, and the page must never fetch anything.
 */
import type { Chart as ChartClass, ChartConfiguration, LegendItem, Plugin, PointStyle, Scale, TooltipModel } from 'chart.js';
import type { PageChart, PageData, PageDataId, PageErrorBar } from './page-data.js';

declare global {
  interface Window {
    Chart?: typeof ChartClass;
  }
}

type LineChart = ChartClass<'line'>;

const DATA_ID: PageDataId = 'iomodels-charts';

/** Vertical 95% CI bars with caps over their points, as reports/render.ts draws them in the PNGs. */
function errorBars(bars: readonly PageErrorBar[]): Plugin<'line'> {
  return {
    id: 'iomodelsErrorBars',
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      const area = chart.chartArea;
      ctx.save();
      ctx.beginPath();
      ctx.rect(area.left, area.top - 2, area.right - area.left, area.bottom - area.top + 4);
      ctx.clip();
      for (const bar of bars) {
        if (!chart.isDatasetVisible(bar.dataset)) continue;
        const meta = chart.getDatasetMeta(bar.dataset);
        const point = meta.data[bar.index];
        const scale = chart.scales[meta.yAxisID ?? 'y'];
        if (point === undefined || scale === undefined) continue;
        const x = point.x;
        const top = scale.getPixelForValue(bar.hi);
        const bottom = scale.getPixelForValue(bar.lo);
        if (!Number.isFinite(x) || !Number.isFinite(top) || !Number.isFinite(bottom)) continue;
        ctx.strokeStyle = bar.colour;
        ctx.lineWidth = 1.5;
        ctx.setLineDash([]);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - 5, top);
        ctx.lineTo(x + 5, top);
        ctx.moveTo(x - 5, bottom);
        ctx.lineTo(x + 5, bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };
}

/** Each stacked bar's total above it, as the PNG has it. */
function barTotals(labels: readonly string[], scale: number): Plugin<'line'> {
  return {
    id: 'iomodelsBarTotals',
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = '#222222';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      ctx.font = `bold ${Math.round(15 * scale)}px system-ui, sans-serif`;
      for (const [i, label] of labels.entries()) {
        let top = Number.POSITIVE_INFINITY;
        let x = Number.NaN;
        for (let d = 0; d < chart.data.datasets.length; d++) {
          const bar = chart.getDatasetMeta(d).data[i];
          if (bar === undefined || !Number.isFinite(bar.y)) continue;
          top = Math.min(top, bar.y);
          x = bar.x;
        }
        if (Number.isFinite(top) && Number.isFinite(x)) ctx.fillText(label, x, top - 3);
      }
      ctx.restore();
    },
  };
}

/** Moves each dataset's points sideways by its offset: equal values stay visible, the data keep their x. */
function dodge(px: readonly number[], scale: number): Plugin<'line'> {
  return {
    id: 'iomodelsDodge',
    afterDatasetsUpdate(chart) {
      for (const [i, d] of px.entries()) {
        if (d === 0) continue;
        for (const point of chart.getDatasetMeta(i).data) point.x += d * scale;
      }
    },
  };
}

/** Scales every font size in an options tree: the configs are sized for a 1200 px PNG. */
function scaleFonts(node: unknown, k: number): void {
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const font = key === 'font' && value !== null && typeof value === 'object' ? (value as { size?: unknown }) : undefined;
    if (font !== undefined && typeof font.size === 'number') {
      font.size = Math.max(10, Math.round(font.size * k));
    } else {
      scaleFonts(value, k);
    }
  }
}

const charts: { chart: LineChart; page: PageChart }[] = [];

/** Shows or hides every dataset of one strategy in one chart (a dataset of no strategy: itself). */
function setStrategy(chart: LineChart, page: PageChart, datasetIndex: number, visible: boolean): void {
  const s = page.strategies[datasetIndex] ?? '';
  for (const [i, owner] of page.strategies.entries()) {
    if (i === datasetIndex || (s !== '' && owner === s)) chart.setDatasetVisibility(i, visible);
  }
  chart.update();
}

function showTip(el: HTMLElement, tooltip: TooltipModel<'line'>, page: PageChart): void {
  const point = tooltip.dataPoints[0];
  const tip = point === undefined ? undefined : page.tips[point.datasetIndex]?.[point.dataIndex];
  if (point === undefined || tooltip.opacity === 0 || tip === undefined || tip === null) {
    el.hidden = true;
    return;
  }
  const shared = page.tipShared[point.datasetIndex];
  // textContent only: tooltip text comes from the results file.
  const title = document.createElement('strong');
  title.textContent = tip.title ?? shared?.title ?? '';
  const lines = [...tip.lines, ...(shared?.lines ?? [])];
  el.replaceChildren(title, ...lines.map((line) => Object.assign(document.createElement('div'), { textContent: line })));
  el.hidden = false;
  const box = el.parentElement;
  const width = box?.clientWidth ?? 0;
  const height = box?.clientHeight ?? 0;
  // Beside the point, on the side with more room, never outside the box.
  if (tooltip.caretX > width / 2) {
    el.style.left = '';
    el.style.right = `${Math.max(0, width - tooltip.caretX + 14)}px`;
  } else {
    el.style.right = '';
    el.style.left = `${tooltip.caretX + 14}px`;
  }
  const top = Math.min(Math.max(0, tooltip.caretY - el.offsetHeight / 2), Math.max(0, height - el.offsetHeight));
  el.style.top = `${top}px`;
}

function draw(ChartJs: typeof ChartClass, page: PageChart): void {
  const canvas = document.getElementById(page.id);
  if (!(canvas instanceof HTMLCanvasElement)) return;
  const figure = canvas.closest('figure');
  const tipEl = figure?.querySelector<HTMLElement>('.tip') ?? null;
  const width = canvas.parentElement?.clientWidth ?? 800;
  const k = width < 520 ? 0.62 : width < 900 ? 0.72 : 0.8;

  // A bar config (the anatomy's) takes the same options set here: tick
  // labels, legend, tooltip; Chart.js draws whichever type it names.
  const config = page.config as ChartConfiguration<'line'>;
  const options = (config.options ??= {});
  scaleFonts(options, k);
  const scales = (options.scales ??= {});
  for (const [id, t] of Object.entries(page.ticks)) {
    const scale = (scales[id] ??= {});
    const label = (value: number | string): string => {
      const v = Number(value);
      const at = t.values.findIndex((x) => Math.abs(x - v) <= 1e-9 * Math.max(1, Math.abs(x)));
      return t.labels[at] ?? '';
    };
    scale.afterBuildTicks = (axis: Scale) => {
      axis.ticks = t.values.map((value) => ({ value }));
    };
    scale.ticks = { ...scale.ticks, callback: label };
  }
  const plugins = (options.plugins ??= {});
  plugins.legend = {
    ...plugins.legend,
    labels: {
      ...plugins.legend?.labels,
      generateLabels: (chart): LegendItem[] =>
        page.legend.map((item) => ({
          ...item,
          pointStyle: item.pointStyle as PointStyle,
          fontColor: '#222222',
          hidden: item.datasetIndex !== undefined && !chart.isDatasetVisible(item.datasetIndex),
        })),
    },
    onClick: (_event, item, legend) => {
      const i = item.datasetIndex;
      if (i === undefined) return;
      const chart = legend.chart;
      setStrategy(chart, page, i, !chart.isDatasetVisible(i));
    },
  };
  plugins.tooltip = {
    enabled: false,
    external: ({ tooltip }) => {
      if (tipEl !== null) showTip(tipEl, tooltip, page);
    },
  };
  options.interaction = { mode: 'nearest', intersect: false };
  config.plugins = [dodge(page.dodge, k), errorBars(page.errorBars), ...(page.barTotals === undefined ? [] : [barTotals(page.barTotals, k)])];
  const chart = new ChartJs<'line'>(canvas, config);
  charts.push({ chart, page });
  canvas.addEventListener('mouseleave', () => {
    if (tipEl !== null) tipEl.hidden = true;
  });
  // Drawn: its table folds away under the chart (without a script it stays open).
  const details = figure?.querySelector('details.data');
  if (details instanceof HTMLDetailsElement) details.open = false;
}

function strategyToggles(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('.toggles button[data-strategy]')) {
    button.addEventListener('click', () => {
      const on = button.getAttribute('aria-pressed') !== 'true';
      button.setAttribute('aria-pressed', String(on));
      const s = button.dataset['strategy'] ?? '';
      for (const { chart, page } of charts) {
        let changed = false;
        for (const [i, owner] of page.strategies.entries()) {
          if (owner !== s) continue;
          chart.setDatasetVisibility(i, on);
          changed = true;
        }
        if (changed) chart.update();
      }
    });
  }
}

/** "Every metric at one connection count": one table at a time, picked by connection count. */
function comparePickers(): void {
  for (const section of document.querySelectorAll('section.compare')) {
    const pick = section.querySelector('select.compare-pick');
    if (!(pick instanceof HTMLSelectElement)) continue;
    const show = (): void => {
      for (const t of section.querySelectorAll<HTMLElement>('.compare-at')) t.hidden = t.dataset['connections'] !== pick.value;
    };
    pick.addEventListener('change', show);
    show();
  }
}

function downloadLink(): void {
  const link = document.getElementById('download-results');
  const json = document.getElementById('iomodels-results')?.textContent;
  if (!(link instanceof HTMLAnchorElement) || json === undefined || json === null) return;
  link.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
}

function main(): void {
  const ChartJs = window.Chart;
  if (ChartJs === undefined) throw new Error('report.html: Chart.js did not load');
  const text = document.getElementById(DATA_ID)?.textContent ?? '{"charts":[]}';
  const data = JSON.parse(text) as PageData;
  for (const page of data.charts) draw(ChartJs, page);
  strategyToggles();
  comparePickers();
  downloadLink();
}

main();
