/**
 * What report.html hands its own script: every chart as a Chart.js
 * configuration with no functions in it (it travels as JSON), plus what the
 * functions computed on the server: tick labels, legend entries, tooltips.
 * Shared by the renderer (reports/html.ts, under Node) and the page
 * (reports/browser/report-page.ts, in the browser), so the two cannot
 * disagree about the shape.
 */
import type { ChartConfiguration } from 'chart.js';

/**
 * The id of the <script type="application/json"> that holds a PageData. A
 * type, not a value: this module must stay type-only, because the page's
 * script is inlined on its own and can import nothing at run time.
 */
export type PageDataId = 'iomodels-charts';

export interface PageData {
  charts: PageChart[];
}

export interface PageChart {
  /** The id of the chart's <canvas>; its figure is `fig-<id>`. */
  id: string;
  /** Chart.js configuration, JSON-safe: no callbacks, NaN as null (a gap). Bars: the anatomy's stacked bars. */
  config: ChartConfiguration<'line'> | ChartConfiguration<'bar'>;
  /** Per scale id: the ticks to draw and their labels, as the server's formatters wrote them. */
  ticks: Record<string, PageTicks>;
  /** Legend entries in order; those with a datasetIndex toggle their strategy. */
  legend: PageLegendItem[];
  /** Per dataset: the strategy it draws, or '' for a marker dataset (failed crosses). */
  strategies: string[];
  /** Per dataset, per point: the tooltip, or null where the point is not a measurement. */
  tips: (PageTip | null)[][];
  /**
   * Per dataset: a title and lines every point of it shares, for tips that
   * leave them out (an HDR curve's hundreds of points are one cell group).
   */
  tipShared: PageTip[];
  /** 95% CI bars, by dataset and point index. */
  errorBars: PageErrorBar[];
  /** Horizontal pixel offset per dataset, so coinciding points stay visible. */
  dodge: number[];
  /** Stacked bars: each bar's total, written above it (a bar too small to see still says what it holds). */
  barTotals?: string[];
}

export interface PageTicks {
  values: number[];
  /** Parallel to values; '' draws the tick unlabelled. */
  labels: string[];
}

export interface PageLegendItem {
  text: string;
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  lineDash?: number[];
  pointStyle: string;
  datasetIndex?: number;
}

export interface PageTip {
  /** Absent: the dataset's shared title. */
  title?: string;
  lines: string[];
}

export interface PageErrorBar {
  dataset: number;
  index: number;
  lo: number;
  hi: number;
  colour: string;
}
