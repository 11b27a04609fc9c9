/**
 * `iomodels check`, the CLI glue: load the files, print the verdict that
 * reports/check.ts computes (a pure function of results files), append it to
 * $GITHUB_STEP_SUMMARY, draw the chart.
 */
import { appendFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { compareResults, poolResults, type CheckOptions } from '../reports/check.js';
import { loadResults } from './results-file.js';

/** Load, compare, print, append to $GITHUB_STEP_SUMMARY, draw. Returns the exit code. */
export async function runCheck(o: CheckOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<0 | 1> {
  const base = poolResults(o.baseline, o.baseline.map(loadResults));
  const cur = poolResults(o.current, o.current.map(loadResults));
  const outcome = compareResults(o, base, cur);
  write(outcome.markdown);
  const summary = process.env['GITHUB_STEP_SUMMARY'];
  if (summary !== undefined && summary !== '') {
    try {
      appendFileSync(summary, outcome.markdown + '\n');
    } catch (err) {
      // The verdict on stdout and the exit code still stand; say what was not written.
      process.stderr.write(`iomodels: warning: cannot append to $GITHUB_STEP_SUMMARY ${summary}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    }
  }
  if (o.png !== undefined) {
    const { renderCheckChart } = await import('../reports/check-chart.js');
    try {
      await renderCheckChart(outcome.comparisons, o.png, { normalized: o.normalizeTo !== undefined });
    } catch (err) {
      throw new UsageError(`cannot write chart ${o.png}: ${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))}`);
    }
    write(`chart: ${o.png}\n`);
  }
  return outcome.exitCode;
}
