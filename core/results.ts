/**
 * results.json, schema version 1. Key names here are a contract: scripts
 * and users read them. Add fields freely; never rename or repurpose one
 * without bumping SCHEMA_VERSION.
 */
import type { LatencySummary } from './latency.js';
import type { Cap } from './counters.js';
import type { MicroResults } from './micro.js';

export const SCHEMA_VERSION = 1;

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  /** `uname -sr`-like: "Linux 6.18.44". */
  kernel: string;
  platform: string;
  arch: string;
  node: string;
  /** Soft RLIMIT_NOFILE the harness saw. */
  ulimitN: number;
  totalMemBytes: number;
  hostname: string;
}

/** What was asked for. */
export interface Plan {
  strategies: string[];
  workloads: string[];
  connections: number[];
  /**
   * Idle connections held open beside the active ones, a sweep dimension
   * like `connections` (absent: [0], files written before it existed).
   */
  idle?: number[];
  /** Active connection counts the non-zero `idle` values run at (absent: every one); the others run with idle 0 only. */
  idleConnections?: number[];
  /** Workloads the non-zero `idle` values run for (absent: every workload that has idle connections). */
  idleWorkloads?: string[];
  /**
   * Per-workload connection counts that replace `connections` for that
   * workload (e.g. chat, whose join phase alone costs N² deliveries).
   */
  connectionsByWorkload?: Record<string, number[]>;
  durationSec: number;
  warmupSec: number;
  repeat: number;
  /** Open-loop total ops/s per cell; 0 = closed loop. */
  rate: number;
  serverCpus: string;
  clientCpus: string;
  /** Workload options (messageSize, …). */
  protocol: Record<string, string | number | boolean>;
  timeoutMs: number;
  /** TCP workloads' load generator, "selector" or "net" (absent: selector where it runs, else net). */
  tcpDriver?: string;
  /** A server whose RSS passes this is killed and its cell fails with "memory guard". */
  maxServerRssBytes: number;
  /** Extra `serve` flags per strategy (e.g. blocking: --max-threads 256), as a person would pass them. */
  strategyArgs?: Record<string, string[]>;
  /** The same knobs as StrategyOptions.extra, what the runner hands each strategy's server (e.g. blocking: { maxThreads: 256 }). */
  strategyOptions?: Record<string, Record<string, number>>;
  /** External target ("HOST:PORT") instead of spawned strategies; its cells have strategy "external". */
  target?: string;
  /** PID of the external target, for its /proc metrics. */
  targetPid?: number;
  /** http: the load generator, "native" or "autocannon" (absent: native). */
  httpDriver?: string;
  /** Load threads per cell (absent: 1, files written before it existed). */
  loadThreads?: number;
  /**
   * http: the request every connection sends, when `--method`, `--path`,
   * `--header` or `--body` changed it (absent: GET / with only a Host
   * header). It goes to every http cell, ours and a --target alike.
   */
  httpRequest?: HttpRequestPlan;
  /**
   * http, `--target` only: the statuses a reply may have, normalized
   * ("2xx", "200,204"; `--expect-status`, default 2xx). Cells of servers
   * iomodels started are checked against the seed's page byte for byte instead.
   */
  expectStatus?: string;
  /** http, `--target` only: the file every reply's body must equal (`--expect-body`; absent: any well-framed body). */
  expectBody?: FileRef;
  /** How each cell's anatomy was asked to be counted (absent: auto). */
  anatomy?: AnatomyMode;
  /** `bench --profile`: the named bundle of flags the run started from (absent: none); flags given beside it override its values. */
  profile?: string;
}

export interface HttpRequestPlan {
  method: string;
  /** The request target, as sent. */
  path: string;
  /** "Name: value", in the order sent (a Host among them replaces the default). */
  headers: string[];
  /** `--body`: sent with its Content-Length. */
  body?: FileRef;
}

/** A file the run read, named so that a later run can tell whether it is the same. */
export interface FileRef {
  /** Absolute path. */
  file: string;
  bytes: number;
  /** Hex SHA-256 of its contents. */
  sha256: string;
}

/**
 * ok: measured as asked. capped: measured, but the server refused part of
 * the load by design (FD_SETSIZE, thread pool) — `reason` says which.
 * failed: no trustworthy measurement — `reason` says why.
 */
export type CellStatus = 'ok' | 'capped' | 'failed';

export interface ServerMetrics {
  /**
   * User + system CPU of the server process between the two /proc samples
   * taken when the driver's "measuring" and "draining" phases reached the
   * harness (the window, shifted by message delivery).
   */
  cpuSeconds: number;
  /** Server CPU per op in µs: (CPU seconds per sampled second) / opsPerSec (0 when no ops). */
  cpuUsPerOp: number;
  /** Server CPU as % of one core over the sampled interval. */
  cpuPercent: number;
  peakRssBytes: number;
  peakThreads: number;
  peakFds: number;
  /** The counters the server printed when it stopped (accepted, closed: …). */
  counters: Record<string, number>;
  /** The caps among them (core/counters.ts): what the server refused or kept waiting by design. */
  caps?: Cap[];
  /** The server needed SIGKILL after SIGTERM: a fault. */
  killed: boolean;
  /**
   * A strategy with a start-up phase (blocking: starting its pool threads)
   * does it before the load starts; this is what it cost, reported as a
   * figure of its own rather than hidden in the window.
   */
  startup?: StartupMetrics;
  /**
   * What the server asked of the kernel per op over the measured window:
   * the anatomy of one operation (absent: not counted, or a file written
   * before it existed).
   */
  anatomy?: Anatomy;
}

/**
 * The anatomy of one operation: the kernel's own counts for every thread
 * of the server process, divided by the cell's ops. Each count is a rate
 * over the interval it was counted in, divided by the op rate of the
 * driver's window (as cpuUsPerOp is). These names are a contract: scripts
 * and `check` read them.
 */
export interface Anatomy {
  /**
   * perf: `perf stat` software and tracepoint counters (raw_syscalls,
   * syscalls:sys_enter_*, context switches, page faults) in counting mode,
   * enabled and disabled with the window. proc: /proc's own counters, where
   * perf is missing or refused (`note` says why): it cannot count syscalls
   * by name, so `syscallsPerOp` is null and `syscalls` holds only the
   * read- and write-family counts /proc/PID/io keeps (syscr, syscw).
   */
  source: AnatomySource;
  /** Every syscall the server entered, per op; null where it was not counted (proc). */
  syscallsPerOp: number | null;
  /**
   * Syscalls per op by name (perf: "recvfrom", "epoll_wait", …; every name
   * above 1% of the total and every wait call (epoll_wait, poll, select,
   * io_uring_enter, …) however rare, the rest summed as "other"). proc: "syscr" and
   * "syscw", /proc/PID/io's read- and write-family counts (recv/send are
   * not among them).
   */
  syscalls: Record<string, number>;
  /**
   * Context switches per op. voluntary: the thread gave up the CPU (it
   * waited: a blocking call, a futex); involuntary: it was preempted.
   */
  contextSwitchesPerOp: { voluntary: number; involuntary: number };
  /** Server CPU per op in user space, µs (the kernel's utime). */
  userUsPerOp: number;
  /** Server CPU per op in the kernel, µs (the kernel's stime): the syscalls and what they cost. */
  kernelUsPerOp: number;
  /**
   * perf: of the receives in `syscalls`, how many per op returned EAGAIN (a
   * try that found nothing: busy-poll's spin, SIGIO's drain of every socket).
   */
  eagainPerOp?: Record<string, number>;
  /** Page faults (minor + major) per op; null where it was not counted. */
  pageFaultsPerOp: number | null;
  /** Seconds the counters ran: from the window's opening to its closing, as the harness saw them. */
  countedSec: number;
  /** proc: why perf was not used (missing, refused, failed), in one line. */
  note?: string;
}

export type AnatomySource = 'perf' | 'proc';
/** `bench --anatomy`: perf where it can count, else /proc (auto); one of them only; or off. */
export type AnatomyMode = 'auto' | AnatomySource | 'off';

export interface StartupMetrics {
  /** Wall time from listen() until every prestarted resource was ready, ms. */
  ms: number;
  /** Threads started ahead of the load (blocking: min(connections, --max-threads)). */
  threads: number;
  /**
   * How long the warm-up was held past --warmup until every active
   * connection was served (blocking: had its thread), ms; 0 when it was not.
   */
  warmupHeldMs: number;
}

export interface ClientMetrics {
  /**
   * Load child CPU as % of one core over the window. The cell is
   * client-bound when it reaches 90% of the cores the load was given, or
   * one load thread reaches 90% of a core.
   */
  cpuPercent: number;
  /** The driver that produced the numbers ("net", "selector:epoll", "autocannon", …). */
  driver: string;
  /** Cores the load child was given (--client-cpus); absent in files written before it was recorded (then 1). */
  cores?: number;
  /** Per load thread: its connections and its own CPU as % of one core over the window (where it could be read). */
  threads?: { connections: number; cpuPercent?: number }[];
}

/** One measurement of one (strategy, workload, connections) cell. */
export interface Cell {
  strategy: string;
  workload: string;
  /** Requested connections. */
  connections: number;
  /** Connections alive when the measured window opened. */
  established: number;
  /**
   * Idle connections asked for: opened and established before the warm-up,
   * silent through the window (http: one request answered, then keep-alive).
   * Part of the cell's key with strategy, workload and connections; absent
   * means 0 (files written before it existed).
   */
  idle?: number;
  /** Idle connections that completed their handshake (http: and their one response). */
  idleEstablished?: number;
  /** Idle connections still open when the window closed; fewer than `idle` caps the cell. */
  idleOpen?: number;
  /** 0-based repetition index. */
  rep: number;
  status: CellStatus;
  reason?: string;
  /** Load child CPU ≥ 90%: the numbers measure the client, not the server. */
  clientBound: boolean;
  /** Verified operations in the window. */
  ops: number;
  opsPerSec: number;
  bytesPerSec: number;
  /** Open loop: the asked-for rate, ops/s (the achieved rate is opsPerSec). */
  targetRate?: number;
  /** Open loop: opsPerSec / targetRate; below ~0.95 the server (or client) could not keep up. */
  achievedRatio?: number;
  /** The driver's measured window, from its own phase timestamps: opsPerSec = ops / windowSec. */
  windowSec: number;
  latencyUs: LatencySummary & { histogram: string };
  errors: Record<string, number>;
  server: ServerMetrics;
  client: ClientMetrics;
  /** Workload-specific figures (chat deliveries …). */
  extra: Record<string, number>;
  startedAt: string;
}

export interface WorkloadInfo {
  name: string;
  /** What one op is: "round trip", "request", "message". */
  opUnit: string;
  description: string;
}

export interface Results {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: 'iomodels'; version: string };
  startedAt: string;
  finishedAt: string;
  /** False when the run was interrupted (Ctrl-C) and the file holds what finished. */
  complete: boolean;
  machine: MachineInfo;
  plan: Plan;
  /**
   * What each workload of the plan is, as the run's code described it, so a
   * report renders an old file with whatever code reads it (absent in files
   * written before it existed).
   */
  workloads?: WorkloadInfo[];
  cells: Cell[];
  /** `bench --micro`: the micro-benchmarks, run after the sweep. */
  micro?: MicroResults;
}
