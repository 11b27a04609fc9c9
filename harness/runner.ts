/**
 * The runner: for each cell, start the server child, drive it from a load
 * child, sample both from /proc, stop the server with a deadline, and
 * record one Cell. A failing cell is recorded and the sweep goes on.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DriverPhase, DriverResult } from '../workloads/driver.js';
import { decodeHistogram, summarize } from '../workloads/latency.js';
import type { LoadMessage, LoadRequest } from './load-child.js';
import { sampleProc, ProcWatcher, type ProcSample } from './proc.js';
import type { Cell, Plan } from './results.js';
import { exited, spawnNode, stopChild } from './spawn.js';

const CLI_PATH = fileURLToPath(new URL('./cli.js', import.meta.url));
const LOAD_CHILD_PATH = fileURLToPath(new URL('./load-child.js', import.meta.url));

/** Deadlines (ms). */
export const DEADLINES = {
  serverReady: 10_000,
  serverStop: 5_000,
  connectPhase: 60_000,
  /** Added to warmup + duration for the load child's whole run. */
  loadSlack: 30_000,
};

/** A load child at or above this CPU % measures itself, not the server. */
export const CLIENT_BOUND_PERCENT = 90;

export interface CellSpec {
  strategy: string;
  workload: string;
  connections: number;
  rep: number;
  plan: Plan;
  host: string;
  /** Extra `serve` flags for this strategy (e.g. --max-threads). */
  serveArgs?: string[];
}

interface ServerHandle {
  child: ChildProcess;
  port: number;
  stdoutLines: string[];
  stderrTail: string;
}

function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `server exited (signal ${signal})` : `server exited (code ${code})`;
}

/** Start `iomodels serve` and wait for its ready line. */
export async function startServer(
  spec: CellSpec,
  cpus: string,
): Promise<{ ok: true; server: ServerHandle } | { ok: false; reason: string }> {
  const args = [
    CLI_PATH,
    'serve',
    '--strategy',
    spec.strategy,
    '--workload',
    spec.workload,
    '--host',
    spec.host,
    '--port',
    '0',
    '--protocol-json',
    JSON.stringify(spec.plan.protocol),
    ...(spec.serveArgs ?? []),
  ];
  const child = spawnNode(args, cpus, { stdio: ['ignore', 'pipe', 'pipe'] });
  const handle: ServerHandle = { child, port: 0, stdoutLines: [], stderrTail: '' };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    handle.stderrTail = (handle.stderrTail + d).slice(-2000);
  });
  let buf = '';
  child.stdout?.setEncoding('utf8');
  const ready = new Promise<number>((resolve) => {
    child.stdout?.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        handle.stdoutLines.push(line);
        const m = /^listening on (?:\[(.+)\]|([^:]+)):(\d+)$/.exec(line);
        if (m !== null) resolve(Number(m[3]));
      }
    });
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then((port) => ({ kind: 'ready' as const, port })),
    exited(child).then((e) => ({ kind: 'exit' as const, ...e })),
    new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), DEADLINES.serverReady);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.kind === 'ready') {
    handle.port = outcome.port;
    return { ok: true, server: handle };
  }
  if (outcome.kind === 'timeout') {
    await stopChild(child, 1000);
    return { ok: false, reason: `server not ready within ${DEADLINES.serverReady / 1000} s` };
  }
  const why = handle.stderrTail.trim().split('\n').pop() ?? '';
  return { ok: false, reason: `${exitReason(outcome.code, outcome.signal)} before ready${why ? `: ${why}` : ''}` };
}

function parseStats(lines: readonly string[]): Record<string, number> {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (l?.startsWith('stats ') === true) {
      try {
        return JSON.parse(l.slice(6)) as Record<string, number>;
      } catch {
        return {};
      }
    }
  }
  return {};
}

interface LoadOutcome {
  result?: DriverResult;
  failure?: string;
  serverCpu: number;
  clientCpu: number;
  /** The driver's window, from its own phase stamps: what ops were counted over. */
  windowMs: number;
  /** Between the two /proc samples (taken when the phase messages arrived): what CPU was counted over. */
  sampleMs: number;
}

/** Run the load child against `port` while watching the server. */
async function runLoad(spec: CellSpec, port: number, server: ServerHandle | null, watcher: ProcWatcher): Promise<LoadOutcome> {
  const { plan } = spec;
  const child = spawnNode([LOAD_CHILD_PATH], plan.clientCpus, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const clientPid = child.pid ?? -1;
  let serverAt: ProcSample | null = null;
  let clientAt: ProcSample | null = null;
  let t0 = 0;
  let measuringAt = 0;
  const out: LoadOutcome = { serverCpu: 0, clientCpu: 0, windowMs: 0, sampleMs: 0 };

  const request: LoadRequest = {
    type: 'start',
    workload: spec.workload,
    options: {
      host: spec.host,
      port,
      connections: spec.connections,
      warmupSec: plan.warmupSec,
      durationSec: plan.durationSec,
      timeoutMs: plan.timeoutMs,
      connectConcurrency: 500,
      ...(plan.tcpDriver === undefined ? {} : { tcpDriver: plan.tcpDriver }),
      connectTimeoutMs: DEADLINES.connectPhase,
      rate: plan.rate,
      protocol: plan.protocol,
      ...(plan.httpDriver === undefined ? {} : { httpDriver: plan.httpDriver }),
    },
  };
  // A phase message reaches us some time after the driver entered the phase
  // (IPC, a busy event loop): /proc is sampled on arrival, so CPU is divided
  // by the time between samples, and ops by the driver's own window.
  const onPhase = (phase: DriverPhase, atMs: number): void => {
    if (phase === 'measuring') {
      serverAt = watcher.sample();
      clientAt = sampleProc(clientPid);
      t0 = performance.now();
      measuringAt = atMs;
    } else if (phase === 'draining' && t0 > 0) {
      out.sampleMs = performance.now() - t0;
      out.windowMs = atMs - measuringAt;
      const s = watcher.sample();
      const c = sampleProc(clientPid);
      if (s !== null && serverAt !== null) out.serverCpu = s.cpuSeconds - serverAt.cpuSeconds;
      if (c !== null && clientAt !== null) out.clientCpu = c.cpuSeconds - clientAt.cpuSeconds;
    }
  };

  const finished = new Promise<void>((resolve) => {
    child.on('message', (raw: unknown) => {
      const m = raw as LoadMessage;
      if (m.type === 'phase') onPhase(m.phase, m.atMs);
      else if (m.type === 'result') {
        out.result = m.result;
        resolve();
      } else {
        out.failure = `load failed: ${m.message}`;
        resolve();
      }
    });
    void exited(child).then(({ code, signal }) => {
      if (out.result === undefined && out.failure === undefined) {
        out.failure = signal !== null ? `load child exited (signal ${signal})` : `load child exited (code ${code})`;
      }
      resolve();
    });
    if (server !== null) {
      void exited(server.child).then(({ code, signal }) => {
        if (out.result === undefined) out.failure ??= exitReason(code, signal);
        resolve();
      });
    }
  });
  child.send(request);
  const budget = (plan.warmupSec + plan.durationSec) * 1000 + DEADLINES.connectPhase + DEADLINES.loadSlack;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    finished,
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        out.failure ??= `load did not finish within ${Math.round(budget / 1000)} s`;
        resolve();
      }, budget);
    }),
  ]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) await stopChild(child, 2000);
  return out;
}

function emptyCell(spec: CellSpec): Cell {
  return {
    strategy: spec.strategy,
    workload: spec.workload,
    connections: spec.connections,
    established: 0,
    rep: spec.rep,
    status: 'failed',
    clientBound: false,
    ops: 0,
    opsPerSec: 0,
    bytesPerSec: 0,
    windowSec: 0,
    latencyUs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0, histogram: '' },
    errors: {},
    server: {
      cpuSeconds: 0,
      cpuUsPerOp: 0,
      cpuPercent: 0,
      peakRssBytes: 0,
      peakThreads: 0,
      peakFds: 0,
      counters: {},
      killed: false,
    },
    // Filled from the driver's result; a cell that never ran load has none.
    client: { cpuPercent: 0, driver: 'none' },
    extra: {},
    startedAt: new Date().toISOString(),
  };
}

/**
 * Counters whose names start with "refused:" (connections closed at once) or
 * "starved:" (connections kept waiting for a thread, e.g. blocking's pool
 * queue) are caps by design: the cell is measured, but not as asked.
 */
function refusals(counters: Record<string, number>): string[] {
  return Object.entries(counters)
    .filter(([k, v]) => (k.startsWith('refused:') || k.startsWith('starved:')) && v > 0)
    .map(([k, v]) => `${k} ×${v}`);
}

/** "HOST:PORT" or "[::1]:PORT" → parts. */
export function parseTarget(target: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** A cell against a server iomodels did not start (`bench --target`). */
async function runExternalCell(spec: CellSpec, cell: Cell): Promise<Cell> {
  const t = parseTarget(spec.plan.target ?? '');
  if (t === null) {
    cell.reason = `bad target "${spec.plan.target ?? ''}"`;
    return cell;
  }
  const pid = spec.plan.targetPid ?? -1;
  const watcher = new ProcWatcher(pid);
  if (pid > 0) watcher.start();
  const load = await runLoad({ ...spec, host: t.host }, t.port, null, watcher);
  watcher.stop();
  fillFromLoad(cell, spec, load);
  cell.server.peakRssBytes = watcher.peakRss;
  cell.server.peakThreads = watcher.peakThreads;
  cell.server.peakFds = watcher.peakFds;
  return cell;
}

export async function runCell(spec: CellSpec): Promise<Cell> {
  const cell = emptyCell(spec);
  if (spec.strategy === 'external') return runExternalCell(spec, cell);
  const started = await startServer(spec, spec.plan.serverCpus);
  if (!started.ok) {
    cell.reason = started.reason;
    return cell;
  }
  const { server } = started;
  let guard: string | undefined;
  const watcher = new ProcWatcher(server.child.pid ?? -1, (s) => {
    // The memory guard stops a runaway server before the OOM killer picks
    // a victim on this machine (it might pick the harness).
    if (guard === undefined && s.rssBytes > spec.plan.maxServerRssBytes) {
      guard = `memory guard: server RSS ${Math.round(s.rssBytes / 2 ** 20)} MiB passed --max-server-rss ${Math.round(spec.plan.maxServerRssBytes / 2 ** 20)} MiB`;
      server.child.kill('SIGKILL');
    }
  });
  watcher.start(100);
  const load = await runLoad(spec, server.port, server, watcher);
  watcher.stop();
  const serverDied = server.child.exitCode !== null || server.child.signalCode !== null;
  const killed = serverDied ? false : await stopChild(server.child, DEADLINES.serverStop);
  if (guard !== undefined) load.failure = guard;

  cell.server.peakRssBytes = watcher.peakRss;
  cell.server.peakThreads = watcher.peakThreads;
  cell.server.peakFds = watcher.peakFds;
  cell.server.killed = killed;
  cell.server.counters = parseStats(server.stdoutLines);
  fillFromLoad(cell, spec, load);
  if (killed) cell.reason = `${cell.reason ?? ''}${cell.reason ? '; ' : ''}server ignored SIGTERM (killed after ${DEADLINES.serverStop / 1000} s)`;
  return cell;
}

/** Turn the load child's outcome into the cell's numbers and status. */
function fillFromLoad(cell: Cell, spec: CellSpec, load: LoadOutcome): void {
  const r = load.result;
  if (r === undefined) {
    cell.reason = load.failure ?? 'load produced no result';
    return;
  }
  const windowSec = load.windowMs > 0 ? load.windowMs / 1000 : r.windowSec;
  const sampleSec = load.sampleMs > 0 ? load.sampleMs / 1000 : windowSec;
  cell.established = r.established;
  cell.ops = r.ops;
  cell.windowSec = Math.round(windowSec * 1000) / 1000;
  cell.opsPerSec = r.ops / windowSec;
  cell.bytesPerSec = r.bytes / windowSec;
  cell.errors = r.errors;
  cell.extra = r.extra;
  // Per-second figures over the window the harness timed, like opsPerSec.
  if (r.extra['deliveries'] !== undefined) cell.extra['deliveriesPerSec'] = r.extra['deliveries'] / windowSec;
  if (r.driver !== undefined) cell.client.driver = r.driver;
  if (r.targetRate !== undefined) {
    cell.targetRate = r.targetRate;
    if (r.targetRate > 0) cell.achievedRatio = Math.round((cell.opsPerSec / r.targetRate) * 1000) / 1000;
  }
  cell.latencyUs = { ...summarize(decodeHistogram(r.histogram)), histogram: r.histogram };
  cell.server.cpuSeconds = load.serverCpu;
  cell.server.cpuPercent = (100 * load.serverCpu) / sampleSec;
  // CPU rate over op rate, each over the interval it was counted in.
  cell.server.cpuUsPerOp = cell.opsPerSec > 0 ? (load.serverCpu * 1e6) / sampleSec / cell.opsPerSec : 0;
  cell.client.cpuPercent = (100 * load.clientCpu) / sampleSec;
  cell.clientBound = cell.client.cpuPercent >= CLIENT_BOUND_PERCENT;

  const refused = refusals(cell.server.counters);
  const verify = r.errors['verify'] ?? 0;
  // Chat's exactly-once check: any lost, duplicated or reordered delivery fails the cell.
  const delivery = ['lost', 'duplicated', 'reordered']
    .filter((k) => (r.errors[k] ?? 0) > 0)
    .map((k) => `${r.errors[k] ?? 0} ${k}`);
  if (load.failure !== undefined) {
    cell.status = 'failed';
    cell.reason = load.failure;
  } else if (verify > 0) {
    cell.status = 'failed';
    cell.reason = `verification failed: ${verify} wrong replies`;
  } else if (delivery.length > 0) {
    cell.status = 'failed';
    cell.reason = `delivery check failed: ${delivery.join(', ')} messages`;
  } else if (refused.length > 0) {
    cell.status = 'capped';
    cell.reason = refused.join(', ');
  } else if (r.established < spec.connections) {
    cell.status = 'failed';
    const errs = Object.entries(r.errors)
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ');
    cell.reason = `only ${r.established} of ${spec.connections} connections established${errs ? ` (${errs})` : ''}`;
  } else if (r.ops === 0) {
    cell.status = 'failed';
    cell.reason = 'no operation completed in the window';
  } else {
    cell.status = 'ok';
  }
}
