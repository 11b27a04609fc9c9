/** Number and machine formatting shared by every report. */
import type { MachineInfo, Results } from '../core/results.js';

/** What files written before results.json carried `workloads` called an op. */
const LEGACY_OP_UNITS: Readonly<Record<string, string>> = { echo: 'round trip', chat: 'message', http: 'request' };

/** What one op of `workload` is, from the results file itself (old files: the units of their day). */
export function opUnitOf(results: Pick<Results, 'workloads'>, workload: string): string {
  return results.workloads?.find((w) => w.name === workload)?.opUnit ?? LEGACY_OP_UNITS[workload] ?? 'op';
}

/** "2× Intel Xeon …, Linux 6.18, Node v20" for chart titles. */
export function machineLine(m: MachineInfo): string {
  return `${m.cores}× ${m.cpuModel}, ${m.kernel}, Node ${m.node}`;
}

export function fmtRate(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '–';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e4 ? 0 : 1)} ms`;
  return `${Math.round(us)} µs`;
}

export function fmtBytes(b: number): string {
  if (b >= 1 << 30) return `${(b / (1 << 30)).toFixed(2)} GiB`;
  if (b >= 1 << 20) return `${(b / (1 << 20)).toFixed(1)} MiB`;
  if (b >= 1 << 10) return `${(b / (1 << 10)).toFixed(0)} KiB`;
  return `${b} B`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Server CPU per op in µs, with its unit: "6.4 µs/op". */
export function fmtCpuPerOp(us: number): string {
  if (!Number.isFinite(us)) return '–';
  return `${us.toFixed(us >= 100 ? 0 : 1)} µs/op`;
}

/** " (+10,000 idle)" after a cell's name when it held idle connections, "" when none: every name of a cell says so. */
export function fmtIdle(idle: number): string {
  return idle > 0 ? ` (+${fmtCount(idle)} idle)` : '';
}
