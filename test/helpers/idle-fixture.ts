/**
 * A results file swept over idle connections, shaped the way the IO models
 * predict (select/poll/sigio/busypoll pay per watched fd, epoll/io_uring do
 * not, select refuses fds past FD_SETSIZE, blocking's pool fills), for the
 * report's idle section and its charts. The numbers are made up; only
 * their shape matters.
 */
import type { Cell, Results } from '../../core/results.js';
import { testCell, testResults } from './fixtures.js';

export const IDLE_STRATEGIES = ['libuv', 'blocking', 'busypoll', 'select', 'poll', 'epoll', 'sigio', 'io-uring'];
export const IDLE_CONNECTIONS = [10, 100];
export const IDLE_COUNTS = [0, 1000, 10_000];
export const IDLE_REPEAT = 3;

/** Server CPU µs per op: a fixed cost, plus a cost per watched fd for the models that scan them. */
function cpuPerOp(strategy: string, watched: number): number {
  const perFd: Record<string, number> = { select: 0.004, poll: 0.003, sigio: 0.002, busypoll: 0.0025 };
  const base: Record<string, number> = { libuv: 9, blocking: 16, busypoll: 7, select: 6.5, poll: 7, epoll: 6.4, sigio: 10, 'io-uring': 6.3 };
  return (base[strategy] ?? 8) + (perFd[strategy] ?? 0) * watched;
}

export function idleCell(strategy: string, connections: number, idle: number, rep: number): Cell {
  const watched = connections + idle;
  const jitter = 1 + 0.01 * (rep - 1);
  const cpu = cpuPerOp(strategy, watched) * jitter;
  // The server runs at most one core: ops/s is what a core buys at that cost, client-capped at 150k.
  const ops = Math.min(150_000, 1e6 / cpu) * (2 - jitter);
  const clientBound = ops >= 140_000;
  const over: Partial<Cell> = {};
  if (strategy === 'select' && watched >= 1024) {
    over.status = 'capped';
    over.reason = `refused: FD_SETSIZE ×${watched - 1014}`;
    over.idleEstablished = Math.max(0, 1014 - connections);
    over.idleOpen = Math.max(0, 1014 - connections);
  }
  if (strategy === 'blocking') {
    over.server = {
      cpuSeconds: 0.5,
      cpuUsPerOp: cpu,
      cpuPercent: 90,
      peakRssBytes: 2 ** 27,
      peakThreads: Math.min(256, watched) + 2,
      peakFds: watched + 20,
      counters: {},
      killed: false,
      startup: { ms: 40 + Math.min(256, connections) * 2.5 * jitter, threads: Math.min(256, connections), warmupHeldMs: connections >= 100 ? 120 * jitter : 0 },
    };
    if (watched > 256) {
      over.status = 'capped';
      over.reason = `refused: thread pool full ×${watched - 256}`;
      over.idleEstablished = idle;
      over.idleOpen = Math.max(0, 256 - connections);
    }
  }
  return testCell({
    strategy,
    workload: 'echo',
    connections,
    established: connections,
    rep,
    ops: Math.round(ops),
    opsPerSec: ops,
    bytesPerSec: ops * 128,
    clientBound,
    client: { cpuPercent: clientBound ? 97 : 70, driver: 'selector:epoll' },
    server: { cpuSeconds: 0.5, cpuUsPerOp: cpu, cpuPercent: 90, peakRssBytes: 2 ** 26, peakThreads: 7, peakFds: watched + 20, counters: {}, killed: false },
    ...(idle > 0 ? { idle, idleEstablished: idle, idleOpen: idle } : {}),
    ...over,
  });
}

/** Every strategy × 10 and 100 connections × 0, 1,000 and 10,000 idle, three repetitions; idle 0 written the old way (no field). */
export function idleResults(): Results {
  const cells: Cell[] = [];
  for (let rep = 0; rep < IDLE_REPEAT; rep++) {
    for (const n of IDLE_CONNECTIONS) for (const idle of IDLE_COUNTS) for (const s of IDLE_STRATEGIES) cells.push(idleCell(s, n, idle, rep));
  }
  return testResults(cells, { strategies: IDLE_STRATEGIES, connections: IDLE_CONNECTIONS, idle: IDLE_COUNTS, repeat: IDLE_REPEAT, serverCpus: '0', clientCpus: '1' });
}
