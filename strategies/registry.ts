/**
 * Strategies by name. Factories load lazily so that `list`, or a libuv run,
 * never loads FFI code it does not need.
 */
import type { StrategyFactory } from './strategy.js';

export type Availability = { ok: true } | { ok: false; reason: string };

export interface StrategyInfo {
  readonly name: string;
  /** The IO model, in the seed's terms. */
  readonly model: string;
  /** One line for `iomodels list`. */
  readonly description: string;
  /** Workloads it serves; absent means every workload. */
  readonly workloads?: readonly string[];
  /** Whether it can run on this machine, and why not. */
  availability(): Availability;
  load(): Promise<StrategyFactory>;
}

const always = (): Availability => ({ ok: true });

export const STRATEGIES: readonly StrategyInfo[] = [
  {
    name: 'libuv',
    model: 'multiplexing (Node event loop)',
    description: "node:net on Node's own libuv loop (epoll/kqueue underneath); the baseline",
    availability: always,
    load: async () => (await import('./libuv.js')).createLibuvServer,
  },
  {
    name: 'blocking',
    model: 'blocking IO, thread per connection',
    description: 'blocking accept/recv/send, one worker_thread per live connection (piscina pool: --max-threads, --max-queue)',
    availability: () => (process.platform === 'win32' ? { ok: false, reason: 'needs POSIX sockets through libc' } : { ok: true }),
    load: async () => (await import('./blocking/index.js')).createBlockingServer,
  },
];

export function strategyNames(): string[] {
  return STRATEGIES.map((s) => s.name);
}

export function findStrategy(name: string): StrategyInfo | undefined {
  return STRATEGIES.find((s) => s.name === name);
}

export function supportsWorkload(s: StrategyInfo, workload: string): boolean {
  return s.workloads === undefined || s.workloads.includes(workload);
}
