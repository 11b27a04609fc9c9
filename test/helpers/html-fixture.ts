/**
 * A small results file for report.html, in the browser and out of it:
 * three strategies × echo at 10 and 100 connections, three repetitions
 * with real HDR histograms, one capped, one client-bound and one failed
 * cell (each with a reason), and a micro-benchmark section. The numbers
 * are made up; only their shape matters.
 */
import type { MicroResults } from '../../core/micro.js';
import type { Cell, Results } from '../../core/results.js';
import { seededRandom } from '../../reports/stats.js';
import { encodeHistogram, newHistogram, recordUs, summarize } from '../../core/latency.js';
import { TEST_MACHINE, testResults, windowCell } from './fixtures.js';

export const HTML_STRATEGIES = ['libuv', 'epoll', 'select', 'blocking'];
export const HTML_CONNECTIONS = [10, 100];
export const HTML_REPEAT = 3;
export const CAPPED_REASON = 'refused: FD_SETSIZE ×12';
export const FAILED_REASON = 'server exited (signal SIGKILL)';

function cell(strategy: string, connections: number, rep: number): Cell {
  const rank = HTML_STRATEGIES.indexOf(strategy);
  const rand = seededRandom(connections * 31 + rep * 7 + rank);
  const h = newHistogram();
  for (let i = 0; i < 2000; i++) recordUs(h, (40 + connections * (1 + 0.2 * rank)) * (1 + 3 * rand() ** 8));
  const latency = { ...summarize(h), histogram: encodeHistogram(h) };
  h.destroy();
  const ops = (30_000 + 4_000 * rank + 500 * rep) * (connections === 10 ? 1 : 1.5);
  const over: Partial<Cell> = {};
  if (strategy === 'select' && connections === 100) Object.assign(over, { status: 'capped', reason: CAPPED_REASON, established: 88 });
  if (strategy === 'epoll' && connections === 10) Object.assign(over, { clientBound: true, client: { cpuPercent: 96, driver: 'selector:epoll' } });
  if (strategy === 'blocking' && connections === 100) Object.assign(over, { status: 'failed', reason: FAILED_REASON, ops: 0 });
  return windowCell(strategy, connections, rep, ops, {
    latencyUs: latency,
    server: { cpuSeconds: 0.4, cpuUsPerOp: 4e5 / ops, cpuPercent: 40, peakRssBytes: (50 + connections / 5) * 2 ** 20, peakThreads: strategy === 'blocking' ? connections + 2 : 7, peakFds: connections + 20, counters: {}, killed: false },
    client: { cpuPercent: 60, driver: 'selector:epoll' },
    ...over,
  });
}

function micro(): MicroResults {
  const wait = (['select', 'poll', 'epoll'] as const).flatMap((mechanism) =>
    [10, 100, 1000].map((fds) => ({ mechanism, fds, nsPerWait: mechanism === 'epoll' ? 400 : 300 + fds * (mechanism === 'select' ? 3 : 2), rme: 1.5 })),
  );
  return { schemaVersion: 1, kind: 'iomodels-micro', startedAt: '2026-01-01T00:09:00.000Z', machine: TEST_MACHINE, timeMs: 10, wait, ops: [{ name: 'koffi call (getpid)', nsPerOp: 80, rme: 2 }], notes: [] };
}

export function htmlResults(): Results {
  const cells: Cell[] = [];
  for (let rep = 0; rep < HTML_REPEAT; rep++) for (const n of HTML_CONNECTIONS) for (const s of HTML_STRATEGIES) cells.push(cell(s, n, rep));
  return { ...testResults(cells, { strategies: HTML_STRATEGIES, connections: HTML_CONNECTIONS, repeat: HTML_REPEAT, serverCpus: '0', clientCpus: '1', profile: 'quick' }), micro: micro() };
}
