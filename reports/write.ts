/**
 * Draw every chart of a results file and write them with report.md and
 * report.html into a directory. The only part of reports/ that touches the
 * filesystem.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MicroResults } from '../core/micro.js';
import type { Results } from '../core/results.js';
import { planCharts, type ChartPlanOptions, type ChartSpec } from './charts.js';
import { renderHtml, type HtmlAssets } from './html.js';
import { renderReport } from './markdown.js';
import { chartFont, renderBarChart, renderChart } from './render.js';
import { planAnatomyCharts, type BarChartSpec } from './anatomy-charts.js';
import { MICRO_CHART_FILE, microWaitChart, renderMicroSection } from './micro.js';

export interface WrittenReport {
  reportPath: string;
  /** report.html, or undefined when it could not be written (a warning says why). */
  htmlPath: string | undefined;
  /** Paths of the PNGs written, in report order. */
  charts: string[];
  /** Things the reader should know (no font, a chart that could not be drawn). */
  warnings: string[];
}

/**
 * What report.html inlines, read when it is rendered: Chart.js from the
 * installed package (its UMD build runs from a classic script, with no
 * loader) and the page's compiled script, beside this module in dist/.
 */
export function htmlAssets(): HtmlAssets {
  const require = createRequire(import.meta.url);
  const chartJs = readFileSync(path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
  const pageScript = readFileSync(fileURLToPath(new URL('./browser/report-page.js', import.meta.url)), 'utf8');
  return { chartJs, pageScript };
}

export async function writeReport(results: Results, outDir: string, opts: ChartPlanOptions = {}): Promise<WrittenReport> {
  mkdirSync(outDir, { recursive: true });
  const warnings: string[] = [];
  if (chartFont() === undefined) warnings.push('no system font found (fc-list is empty): chart text will be blank; install fonts-dejavu-core');
  const charts: string[] = [];
  // One bad chart must not cost the report: it is left out, and said so.
  const draw = async <T extends { file: string }>(specs: readonly T[], render: (spec: T) => Buffer): Promise<T[]> => {
    const drawn: T[] = [];
    for (const spec of specs) {
      try {
        const file = path.join(outDir, spec.file);
        writeFileSync(file, render(spec));
        drawn.push(spec);
        charts.push(file);
      } catch (err) {
        warnings.push(`chart ${spec.file} not drawn: ${err instanceof Error ? err.message : String(err)}`);
      }
      // Yield between charts so a signal handler or progress line can run.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return drawn;
  };
  const planned = planCharts(results, opts);
  const drawn = await draw(planned, (spec: ChartSpec) => renderChart(spec.config));
  const bars = planAnatomyCharts(results);
  const drawnBars = await draw(bars, (spec: BarChartSpec) => renderBarChart(spec.config));
  let microChart: string | undefined;
  if (results.micro !== undefined) {
    try {
      const file = path.join(outDir, MICRO_CHART_FILE);
      writeFileSync(file, renderChart(microWaitChart(results.micro)));
      charts.push(file);
      microChart = MICRO_CHART_FILE;
    } catch (err) {
      warnings.push(`chart ${MICRO_CHART_FILE} not drawn: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const reportPath = path.join(outDir, 'report.md');
  writeFileSync(reportPath, renderReport(results, { charts: drawn, anatomyCharts: drawnBars, ...(microChart === undefined ? {} : { microChart }) }));
  let htmlPath: string | undefined = path.join(outDir, 'report.html');
  try {
    // Every planned chart: the page draws them itself, a PNG that failed does not matter there.
    writeFileSync(htmlPath, renderHtml(results, htmlAssets(), { charts: planned, anatomyCharts: bars }));
  } catch (err) {
    warnings.push(`report.html not written: ${err instanceof Error ? err.message : String(err)}`);
    htmlPath = undefined;
  }
  return { reportPath, htmlPath, charts, warnings };
}

/** `iomodels micro`: micro.json, its chart and micro.md into a directory. */
export function writeMicro(micro: MicroResults, outDir: string): { jsonPath: string; chartPath: string; mdPath: string } {
  mkdirSync(outDir, { recursive: true });
  const jsonPath = path.join(outDir, 'micro.json');
  writeFileSync(jsonPath, JSON.stringify(micro, null, 2) + '\n');
  const chartPath = path.join(outDir, MICRO_CHART_FILE);
  writeFileSync(chartPath, renderChart(microWaitChart(micro)));
  const mdPath = path.join(outDir, 'micro.md');
  writeFileSync(mdPath, `# iomodels micro-benchmarks\n\nRun ${micro.startedAt}.\n\n${renderMicroSection(micro, MICRO_CHART_FILE)}`);
  return { jsonPath, chartPath, mdPath };
}
