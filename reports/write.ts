/**
 * Draw every chart of a results file and write them with report.md into a
 * directory. The only part of reports/ that touches the filesystem.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Results } from '../harness/results.js';
import { planCharts, type ChartPlanOptions, type ChartSpec } from './charts.js';
import { renderReport } from './markdown.js';
import { chartFont, renderChart } from './render.js';

export interface WrittenReport {
  reportPath: string;
  /** Paths of the PNGs written, in report order. */
  charts: string[];
  /** Things the reader should know (no font, a chart that could not be drawn). */
  warnings: string[];
}

export async function writeReport(results: Results, outDir: string, opts: ChartPlanOptions = {}): Promise<WrittenReport> {
  mkdirSync(outDir, { recursive: true });
  const warnings: string[] = [];
  if (chartFont() === undefined) warnings.push('no system font found (fc-list is empty): chart text will be blank; install fonts-dejavu-core');
  const drawn: ChartSpec[] = [];
  const charts: string[] = [];
  for (const spec of planCharts(results, opts)) {
    try {
      const file = path.join(outDir, spec.file);
      writeFileSync(file, renderChart(spec.config));
      drawn.push(spec);
      charts.push(file);
    } catch (err) {
      // One bad chart must not cost the report: it is left out, and said so.
      warnings.push(`chart ${spec.file} not drawn: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Yield between charts so a signal handler or progress line can run.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const reportPath = path.join(outDir, 'report.md');
  writeFileSync(reportPath, renderReport(results, { charts: drawn }));
  return { reportPath, charts, warnings };
}
