/**
 * The micro-benchmark section: readiness-wait cost vs watched fds on
 * log-log axes (epoll flat, select and poll linear in N), and a table.
 * Pure functions of micro.json.
 */
import { machineLine } from './format.js';
import type { ChartConfiguration, Scale, Tick } from 'chart.js';
import type { MicroResults } from '../core/micro.js';
import { baseOptions, CHART_HEIGHT, CHART_WIDTH, GRID, niceLogCeil, niceLogFloor, TEXT } from './charts.js';
import { strategyColour } from './palette.js';


export const MICRO_CHART_FILE = 'micro-wait.png';

/** Nanoseconds with a readable unit: "850 ns", "12.5 µs". */
export function fmtNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e4 ? 0 : 1)} µs`;
  return `${ns.toFixed(ns >= 100 ? 0 : 1)} ns`;
}

export function microWaitChart(m: MicroResults): ChartConfiguration<'line'> {
  const mechanisms = [...new Set(m.wait.map((w) => w.mechanism))];
  const fdsTicks = [...new Set(m.wait.map((w) => w.fds))].sort((a, b) => a - b);
  const ns = m.wait.map((w) => w.nsPerWait).filter((x) => x > 0);
  const yMin = niceLogFloor(Math.min(...ns, 100));
  const yMax = niceLogCeil(Math.max(...ns, 1000));
  const label = (v: number): string => {
    const mant = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
    return [1, 2, 5].some((k) => Math.abs(mant - k) < 1e-6) ? fmtNs(v) : '';
  };
  return {
    type: 'line',
    data: {
      datasets: mechanisms.map((mech) => ({
        label: mech,
        data: m.wait.filter((w) => w.mechanism === mech).map((w) => ({ x: w.fds, y: w.nsPerWait })),
        borderColor: strategyColour(mech),
        backgroundColor: strategyColour(mech),
        borderWidth: 3,
        pointRadius: 6,
      })),
    },
    options: {
      ...baseOptions('micro · readiness-wait cost vs watched fds (one ready)', [
        `one non-blocking select/poll/epoll_wait call that returns the single ready fd (sigio: the recv() scan a signal forces); tinybench mean over ${m.timeMs} ms per point`,
        machineLine(m.machine),
      ]),
      scales: {
        x: {
          type: 'logarithmic',
          min: (fdsTicks[0] ?? 10) / 1.5,
          max: (fdsTicks[fdsTicks.length - 1] ?? 10) * 1.5,
          title: { display: true, text: 'watched fds (count, log scale)', color: TEXT, font: { size: 17, weight: 'bold' } },
          grid: { color: GRID },
          afterBuildTicks: (axis: Scale) => {
            axis.ticks = fdsTicks.map((value): Tick => ({ value }));
          },
          ticks: { color: TEXT, font: { size: 15 }, callback: (v: string | number) => Number(v).toLocaleString('en-US') },
        },
        y: {
          type: 'logarithmic',
          min: yMin,
          max: yMax,
          title: { display: true, text: 'time per wait call (log scale)', color: TEXT, font: { size: 17, weight: 'bold' } },
          grid: { color: GRID },
          ticks: { color: TEXT, font: { size: 15 }, autoSkip: false, callback: (v: string | number) => label(Number(v)) },
        },
      },
    },
  };
}

export { CHART_HEIGHT as MICRO_CHART_HEIGHT, CHART_WIDTH as MICRO_CHART_WIDTH };

/** The Markdown section (heading level 2) for report.md or micro.md. */
export function renderMicroSection(m: MicroResults, chartPath?: string): string {
  const lines: string[] = ['## Micro-benchmarks', ''];
  lines.push(
    'Readiness-wait cost against the number of watched fds: N idle sockets plus one ready fd, and one non-blocking',
    'select/poll/epoll_wait call that returns it. select and poll pass every fd to the kernel on every call and the',
    "kernel scans them all, so their cost grows linearly with N; epoll's interest list stays in the kernel and",
    'epoll_wait only reads the ready list, so its cost stays flat (the shape of Kerrisk, TLPI table 63-9).',
    'sigio has no such call: a plain SIGIO names no fd, so after each signal the server recv()s every socket;',
    'its column is that scan (signal delivery not included), one syscall per fd in user space: linear too, and steeper.',
    '',
  );
  if (chartPath !== undefined) lines.push(`![readiness-wait cost](${chartPath})`, '');
  const mechs = [...new Set(m.wait.map((w) => w.mechanism))];
  const counts = [...new Set(m.wait.map((w) => w.fds))].sort((a, b) => a - b);
  lines.push(`| watched fds | ${mechs.join(' | ')} |`, `| ---: | ${mechs.map(() => '---:').join(' | ')} |`);
  for (const n of counts) {
    const row = mechs.map((mech) => {
      const p = m.wait.find((w) => w.mechanism === mech && w.fds === n);
      return p === undefined ? '–' : fmtNs(p.nsPerWait);
    });
    lines.push(`| ${n.toLocaleString('en-US')} | ${row.join(' | ')} |`);
  }
  lines.push('', '| operation | time per call |', '| --- | ---: |');
  for (const op of m.ops) lines.push(`| ${op.name} | ${fmtNs(op.nsPerOp)} (±${op.rme.toFixed(1)}%) |`);
  if (m.notes.length > 0) lines.push('', ...m.notes.map((n) => `- ${n}`));
  lines.push('');
  return lines.join('\n');
}
