/**
 * `iomodels bench`: plan the sweep, preflight it, run every cell (repetitions
 * interleaved across strategies so drift hits all alike), and write
 * results.json and report.md. results.json is rewritten after every cell, so
 * an interrupted run still leaves what it measured, marked incomplete.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findStrategy, supportsWorkload } from '../strategies/registry.js';
import { findWorkload } from '../workloads/protocols.js';
import { renderReport } from '../reports/markdown.js';
import { writeReport } from '../reports/write.js';
import { fmtRate } from '../reports/format.js';
import { machineInfo } from './machine.js';
import { runMicro, type MicroOptions } from './micro.js';
import { checkCpuList, checkEphemeralPorts, checkFdLimit, checkMemory, checkNodeVersion, checkOutDir } from './preflight.js';
import { SCHEMA_VERSION, type Cell, type Plan, type Results } from '../core/results.js';
import { runCell, type CellSpec } from './runner.js';
import { probePerf } from './anatomy.js';
import { stopAllChildren } from './spawn.js';
import { UsageError } from '../core/errors.js';
import { toolVersion } from './version.js';

export interface BenchOptions {
  plan: Plan;
  /** Also run the micro-benchmarks after the sweep and include them in the report. */
  micro?: MicroOptions;
  out: string;
  host: string;
  /** One-line progress with ETA (TTY) instead of a line per cell. */
  tty: boolean;
  /** Draw the charts and report.html at the end (false: results.json and report.md only, as compare's rounds need). */
  charts?: boolean;
  log: (line: string) => void;
}

export interface BenchOutcome {
  results: Results;
  resultsPath: string;
  reportPath: string;
  /** report.html beside report.md (undefined when it could not be written: a warning said why). */
  htmlPath: string | undefined;
  /** PNG charts written beside the report. */
  charts: string[];
  /** 0 all cells measured; 1 some cell failed; 130 interrupted. */
  exitCode: number;
}

/**
 * The idle counts a (workload, connections) cell runs at: the plan's idle
 * sweep where it applies (a workload with idle connections, at the active
 * counts and workloads the plan names), else just 0.
 */
export function idleCounts(plan: Plan, workload: string, connections: number): number[] {
  const sweep = plan.idle ?? [0];
  const applies =
    findWorkload(workload)?.idle !== undefined &&
    (plan.idleWorkloads?.includes(workload) ?? true) &&
    (plan.idleConnections?.includes(connections) ?? true);
  return applies ? sweep : [0];
}

/** Cells in run order: rep, workload, connections, idle, then strategy innermost. */
export function planCells(plan: Plan, host: string): CellSpec[] {
  const specs: CellSpec[] = [];
  for (let rep = 0; rep < plan.repeat; rep++) {
    for (const workload of plan.workloads) {
      for (const connections of plan.connectionsByWorkload?.[workload] ?? plan.connections) {
        for (const idle of idleCounts(plan, workload, connections)) {
          for (const strategy of plan.strategies) {
            const info = findStrategy(strategy);
            const runnable = strategy === 'external' ? plan.target !== undefined : info !== undefined && supportsWorkload(info, workload);
            if (!runnable) continue;
            const extra = plan.strategyOptions?.[strategy];
            specs.push({ strategy, workload, connections, idle, rep, plan, host, ...(extra === undefined ? {} : { strategyExtra: extra }) });
          }
        }
      }
    }
  }
  return specs;
}

/** `checkOut: false` (a dry run, which writes nothing) leaves --out unchecked, so no directory is made for it. */
export function preflightBench(o: Pick<BenchOptions, 'plan' | 'out'>, { checkOut = true }: { checkOut?: boolean } = {}): void {
  checkNodeVersion();
  // The largest cell: its active and idle connections together.
  let worst = { active: 0, idle: 0 };
  for (const w of o.plan.workloads) {
    for (const c of o.plan.connectionsByWorkload?.[w] ?? o.plan.connections) {
      for (const i of idleCounts(o.plan, w, c)) if (c + i > worst.active + worst.idle) worst = { active: c, idle: i };
    }
  }
  checkFdLimit(worst.active, worst.idle);
  checkEphemeralPorts(worst.active, worst.idle);
  checkMemory(worst.active, worst.idle);
  checkCpuList('--server-cpus', o.plan.serverCpus);
  checkCpuList('--client-cpus', o.plan.clientCpus);
  for (const s of o.plan.strategies) {
    if (s === 'external') continue;
    const info = findStrategy(s);
    if (info === undefined) throw new UsageError(`unknown strategy "${s}"`);
    const a = info.availability();
    if (!a.ok) throw new UsageError(`strategy ${s} is unavailable here: ${a.reason} (drop it from --strategies)`);
  }
  if (o.plan.anatomy === 'perf') {
    const probe = probePerf();
    if (!probe.ok) throw new UsageError(`--anatomy perf: ${probe.why}`);
  }
  if (checkOut) checkOutDir(o.out);
}

/** The one line a run prints when its anatomy cannot come from perf. */
export function anatomyNotice(plan: Plan): string | undefined {
  const mode = plan.anatomy ?? 'auto';
  if (mode === 'off') return 'anatomy: not counted (--anatomy off)';
  if (mode === 'proc') return 'anatomy: counted from /proc (--anatomy proc): no syscalls by name';
  const probe = probePerf();
  return probe.ok ? undefined : `anatomy: counted from /proc, not perf: ${probe.why}; no syscalls by name`;
}

function eta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function cellLine(c: Cell): string {
  const st = c.status === 'ok' ? '' : ` [${c.status}${c.reason ? `: ${c.reason}` : ''}]`;
  const cb = c.clientBound ? ' [client-bound]' : '';
  return (
    `${c.strategy} ${c.workload} c=${c.connections}${(c.idle ?? 0) > 0 ? ` idle=${c.idle ?? 0}` : ''} rep=${c.rep}: ${fmtRate(c.opsPerSec)} ops/s, ` +
    `p99 ${c.latencyUs.p99} µs, server ${c.server.cpuUsPerOp.toFixed(1)} µs/op, client CPU ${c.client.cpuPercent.toFixed(0)}%${cb}${st}`
  );
}

export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  preflightBench(o);
  mkdirSync(o.out, { recursive: true });
  const resultsPath = path.join(o.out, 'results.json');
  const reportPath = path.join(o.out, 'report.md');
  const results: Results = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'iomodels', version: toolVersion() },
    startedAt: new Date().toISOString(),
    finishedAt: '',
    complete: false,
    machine: machineInfo(),
    plan: o.plan,
    workloads: o.plan.workloads.map((name) => {
      const w = findWorkload(name);
      return { name, opUnit: w?.opUnit ?? 'op', description: w?.description ?? '' };
    }),
    cells: [],
  };
  const save = (): void => {
    results.finishedAt = new Date().toISOString();
    writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
    // Charts are drawn once at the end; meanwhile report.md names none.
    writeFileSync(reportPath, renderReport(results, { charts: false }));
  };

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) return;
    interrupted = true;
    o.log('\ninterrupted: stopping servers and writing partial results');
    void stopAllChildren(2000);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const specs = planCells(o.plan, o.host);
  const notice = anatomyNotice(o.plan);
  if (notice !== undefined) o.log(notice);
  const t0 = performance.now();
  try {
    for (let i = 0; i < specs.length && !interrupted; i++) {
      const spec = specs[i];
      if (spec === undefined) continue;
      const done = performance.now() - t0;
      const left = i === 0 ? specs.length * (o.plan.warmupSec + o.plan.durationSec + 1.5) * 1000 : (done / i) * (specs.length - i);
      const idle = spec.idle > 0 ? ` idle=${spec.idle}` : '';
      const label = `[${i + 1}/${specs.length}] ${spec.strategy} ${spec.workload} c=${spec.connections}${idle} rep ${spec.rep + 1}/${o.plan.repeat}, ETA ${eta(left)}`;
      if (o.tty) process.stderr.write(`\r\x1b[2K${label}`);
      const cell = await runCell(spec);
      if (interrupted) break;
      results.cells.push(cell);
      save();
      if (o.tty) process.stderr.write('\r\x1b[2K');
      o.log(cellLine(cell));
    }
  } finally {
    if (interrupted) await stopAllChildren(2000);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  results.complete = !interrupted;
  if (!interrupted && o.micro !== undefined) {
    o.log('micro-benchmarks:');
    results.micro = await runMicro(o.micro, (l) => o.log(`  ${l}`));
  }
  save();
  let charts: string[] = [];
  let htmlPath: string | undefined;
  if (o.charts === false) {
    const failedCells = results.cells.some((c) => c.status === 'failed');
    return { results, resultsPath, reportPath, htmlPath, charts, exitCode: interrupted ? 130 : failedCells ? 1 : 0 };
  }
  try {
    const written = await writeReport(results, o.out);
    charts = written.charts;
    htmlPath = written.htmlPath;
    for (const w of written.warnings) o.log(`warning: ${w}`);
  } catch (err) {
    // results.json and a chartless report.md are already on disk.
    o.log(`warning: charts not written: ${err instanceof Error ? err.message : String(err)}`);
  }
  const failed = results.cells.some((c) => c.status === 'failed');
  return { results, resultsPath, reportPath, htmlPath, charts, exitCode: interrupted ? 130 : failed ? 1 : 0 };
}
