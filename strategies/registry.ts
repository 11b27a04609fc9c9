/**
 * Strategies by name. Factories load lazily so that `list`, or a libuv run,
 * never loads FFI code it does not need.
 */
import { ioUringAvailability } from './io-uring/availability.js';
import type { StrategyFactory } from '../core/strategy.js';

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

// Decided from process.platform so that `list` never loads koffi.
const posix = (): Availability =>
  ['linux', 'darwin', 'freebsd', 'openbsd'].includes(process.platform)
    ? { ok: true }
    : { ok: false, reason: `needs a POSIX libc (this is ${process.platform})` };
const linuxOnly = (): Availability =>
  process.platform === 'linux' ? { ok: true } : { ok: false, reason: `Linux-only (this is ${process.platform})` };
const bsdOnly = (): Availability =>
  ['darwin', 'freebsd'].includes(process.platform)
    ? { ok: true }
    : { ok: false, reason: `macOS/FreeBSD-only (this is ${process.platform})` };

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
    availability: posix,
    load: async () => (await import('./blocking/index.js')).createBlockingServer,
  },
  {
    name: 'busypoll',
    model: 'non-blocking IO, polled',
    description: 'one thread tries accept4/recv on every O_NONBLOCK fd in a loop that never sleeps (burns a core idle)',
    availability: posix,
    load: async () => (await import('./busypoll.js')).createBusyPollServer,
  },
  {
    name: 'select',
    model: 'multiplexing (select)',
    description: 'one loop thread in select(2) over fd_set bitmaps; fds >= FD_SETSIZE (1024) refused',
    availability: posix,
    load: async () => (await import('./select.js')).createSelectServer,
  },
  {
    name: 'poll',
    model: 'multiplexing (poll)',
    description: 'one loop thread in poll(2) over a pollfd array',
    availability: posix,
    load: async () => (await import('./poll.js')).createPollServer,
  },
  {
    name: 'epoll',
    model: 'multiplexing (epoll)',
    description: "one loop thread in epoll_wait(2): the kernel's ready list (Linux)",
    availability: linuxOnly,
    load: async () => (await import('./epoll.js')).createEpollServer,
  },
  {
    name: 'kqueue',
    model: 'multiplexing (kqueue)',
    description: "one loop thread in kevent(2): epoll's peer on macOS/BSD",
    availability: bsdOnly,
    load: async () => (await import('./kqueue.js')).createKqueueServer,
  },
  {
    name: 'sigio',
    model: 'signal-driven IO (SIGIO)',
    description: 'O_ASYNC + F_SETOWN on every socket; each SIGIO drains accept and every connection until EAGAIN (main thread)',
    availability: linuxOnly,
    load: async () => (await import('./sigio.js')).createSigioServer,
  },
  {
    name: 'io-uring',
    model: 'asynchronous IO (io_uring)',
    description: 'one loop thread; multishot ACCEPT/RECV and SEND as SQEs on mmapped rings, completions drive the protocol (Linux >= 6.0)',
    availability: () => ioUringAvailability(),
    load: async () => (await import('./io-uring.js')).createIoUringServer,
  },
  {
    name: 'node-http',
    model: 'reference (node:http on libuv)',
    description: 'node:http (llhttp) serving the same page and headers; the yardstick for our own parser',
    workloads: ['http'],
    availability: always,
    load: async () => (await import('./node-http.js')).createNodeHttpServer,
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
