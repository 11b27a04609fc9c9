/**
 * Hand-made results.json pieces for the tests of reports, check, the runner
 * and the CLI: one place that follows the schema (core/results.ts), so a
 * new field is added once. Callers override only what their test is about.
 */
import { SCHEMA_VERSION, type Cell, type MachineInfo, type Plan, type Results } from '../../core/results.js';

export const TEST_MACHINE: MachineInfo = {
  cpuModel: 'Test CPU',
  cores: 2,
  kernel: 'Linux 6.0',
  platform: 'linux',
  arch: 'x64',
  node: 'v20.0.0',
  ulimitN: 20000,
  totalMemBytes: 2 ** 33,
  hostname: 'test',
};

/** One libuv × echo cell at 10 connections, closed loop, no CPU pinning. */
export function testPlan(over: Partial<Plan> = {}): Plan {
  return {
    strategies: ['libuv'],
    workloads: ['echo'],
    connections: [10],
    durationSec: 1,
    warmupSec: 0.3,
    repeat: 1,
    rate: 0,
    serverCpus: '',
    clientCpus: '',
    protocol: { messageSize: 64 },
    timeoutMs: 5000,
    maxServerRssBytes: 2 ** 30,
    ...over,
  };
}

/** An ok libuv × echo × 10 cell: 1,000 ops in a 1 s window. */
export function testCell(over: Partial<Cell> = {}): Cell {
  return {
    strategy: 'libuv',
    workload: 'echo',
    connections: 10,
    established: 10,
    rep: 0,
    status: 'ok',
    clientBound: false,
    ops: 1000,
    opsPerSec: 1000,
    bytesPerSec: 128_000,
    windowSec: 1,
    latencyUs: { p50: 50, p90: 80, p99: 120, p999: 300, max: 900, mean: 60, count: 1000, histogram: '' },
    errors: {},
    server: { cpuSeconds: 0.1, cpuUsPerOp: 100, cpuPercent: 10, peakRssBytes: 5e7, peakThreads: 7, peakFds: 20, counters: {}, killed: false },
    client: { cpuPercent: 20, driver: 'net' },
    extra: {},
    startedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

/** A cell of `strategy` at `connections` (all established), repetition `rep`: `ops` in a 1 s window, 128 bytes each (an echo round trip of 64). */
export function windowCell(strategy: string, connections: number, rep: number, ops: number, over: Partial<Cell> = {}): Cell {
  return testCell({ strategy, connections, established: connections, rep, ops, opsPerSec: ops, bytesPerSec: ops * 128, ...over });
}

/** A complete results file holding `cells`. */
export function testResults(cells: Cell[], plan: Partial<Plan> = {}): Results {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'iomodels', version: '0.0.0-test' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    complete: true,
    machine: TEST_MACHINE,
    plan: testPlan(plan),
    cells,
  };
}
