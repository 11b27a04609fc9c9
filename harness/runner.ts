/**
 * The runner: for each cell, start the server child, drive it from a load
 * child, sample both from /proc, stop the server with a deadline, and
 * record one Cell. A failing cell is recorded and the sweep goes on.
 */
import type { ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DriverPhase, DriverResult } from './load/driver.js';
import { decodeHistogram, summarize } from '../core/latency.js';
import type { IdleReport } from './load/idle-messages.js';
import type { LoadCommand, LoadMessage, LoadRequest } from './load/load-child.js';
import { sampleProc, ProcWatcher, type ProcSample } from './proc.js';
import { anatomyOf, KernelCounter, serverPids, type KernelTally } from './anatomy.js';
import type { Cap } from '../core/counters.js';
import type { Cell, FileRef, Plan } from '../core/results.js';
import type { HttpClientSpec } from '../workloads/http/client.js';
import { DEFAULT_STATUSES } from '../workloads/http/status-set.js';
import { sha256 } from './options.js';
import { findWorkload } from '../workloads/protocols.js';
import { exitReason, pollServer, startServerProcess, stopServer, type ServerHandle } from './server-process.js';
import { exited, spawnNode, stopChild } from './spawn.js';

const LOAD_CHILD_PATH = fileURLToPath(new URL('./load/load-child.js', import.meta.url));

/** Deadlines (ms). */
export const DEADLINES = {
  serverReady: 10_000,
  /** Added to serverReady per connection a strategy prepares for (blocking starts a thread each). */
  serverReadyPerPrestart: 150,
  serverStop: 5_000,
  /** A counters poll the server does not answer within this is a fault (a starved main thread answers late). */
  serverPoll: 10_000,
  connectPhase: 60_000,
  /** Added to warmup + duration for the load child's whole run. */
  loadSlack: 30_000,
  /**
   * The warm-up is held past --warmup until the server serves every
   * connection, at most this long, and gives up sooner when the count stops
   * growing for holdStall (a capped pool never gets there).
   */
  holdMax: 30_000,
  holdStall: 2_000,
  holdPoll: 50,
};

/** A load child at or above this CPU % of its cores (or one load thread at this % of a core) measures itself, not the server. */
export const CLIENT_BOUND_PERCENT = 90;

/**
 * Whether the load generator, not the server, was the ceiling: the load
 * child used `threshold`% of the cores it was given, or one of its load
 * threads used `threshold`% of a core (a saturated thread is a ceiling even
 * with cores to spare).
 */
export function isClientBound(o: { cpuPercent: number; cores: number; threadPercents: readonly number[] }, threshold = CLIENT_BOUND_PERCENT): boolean {
  return o.cpuPercent >= threshold * Math.max(1, o.cores) || o.threadPercents.some((p) => p >= threshold);
}

export interface CellSpec {
  strategy: string;
  workload: string;
  connections: number;
  /** Idle connections held beside the active ones (0: none). */
  idle: number;
  rep: number;
  plan: Plan;
  host: string;
  /** StrategyOptions.extra for this strategy (e.g. blocking's maxThreads). */
  strategyExtra?: Record<string, number>;
}

function sendTo(child: ChildProcess, m: LoadRequest | LoadCommand): void {
  // A child that exited meanwhile cannot take it: its exit is reported on its own path.
  if (child.connected) child.send(m, () => undefined);
}

/** Start the server child with the cell's options and wait for it to be ready. */
export function startServer(spec: CellSpec, cpus: string): Promise<{ ok: true; server: ServerHandle } | { ok: false; reason: string }> {
  // Threads for the active connections, as a thread-per-connection server
  // keeps spare ones; idle connections arrive first and queue like any others.
  const prestart = spec.connections;
  return startServerProcess({
    strategy: spec.strategy,
    workload: spec.workload,
    options: servedOptions(spec),
    host: spec.host,
    cpus,
    strategyOptions: { extra: spec.strategyExtra ?? {}, prestart },
    readyMs: DEADLINES.serverReady + DEADLINES.serverReadyPerPrestart * Math.min(prestart, 10_000),
    pollMs: DEADLINES.serverPoll,
    stopMs: DEADLINES.serverStop,
  });
}

/**
 * The workload options the server gets: the plan's, and with idle
 * connections an idle timeout that outlasts the cell, so a keep-alive
 * timer cannot quietly close them inside the window.
 */
function servedOptions(spec: CellSpec): Record<string, string | number | boolean> {
  const o = { ...spec.plan.protocol };
  if (spec.idle > 0) {
    const cellMs = loadBudgetMs(spec);
    const asked = o['idleTimeoutMs'];
    o['idleTimeoutMs'] = typeof asked === 'number' && asked > cellMs ? asked : cellMs;
  }
  return o;
}

interface LoadOutcome {
  result?: DriverResult;
  idle?: IdleReport;
  failure?: string;
  serverCpu: number;
  clientCpu: number;
  /** The driver's window, from its own phase stamps: what ops were counted over. */
  windowMs: number;
  /** Between the two /proc samples (taken when the phase messages arrived): what CPU was counted over. */
  sampleMs: number;
  /** How long the warm-up was held past --warmup for the server's start-up phase, ms. */
  heldMs: number;
  /** The hold gave up before the server served every connection: why (the cell is capped). */
  holdShort?: string;
  /** The server's caps as the window opened (strategies with a start-up phase). */
  capsAtOpen?: Cap[];
  /** What the kernel counted for the server over the window. */
  tally?: KernelTally;
}

/** The load child's whole run may take this long (idle connects, connects, warm-up, its hold, the window). */
function loadBudgetMs(spec: CellSpec): number {
  const { plan } = spec;
  const idleConnect = spec.idle > 0 ? DEADLINES.connectPhase : 0;
  return (plan.warmupSec + plan.durationSec) * 1000 + idleConnect + DEADLINES.connectPhase + DEADLINES.holdMax + DEADLINES.loadSlack;
}

/**
 * After the warm-up: wait until the server serves every connection it
 * holds (a thread-per-connection server has started a thread for each), so
 * the window measures the model's steady state and not its start-up. Gives
 * up at holdMax, or when the count has not grown for holdStall (a capped
 * pool never gets there).
 */
export async function holdForServer(
  poll: () => Promise<{ serving?: number; caps: Cap[] } | undefined>,
  want: number,
): Promise<{ heldMs: number; short?: string; caps?: Cap[] }> {
  const t0 = performance.now();
  let best = -1;
  let grewAt = t0;
  for (;;) {
    const reply = await poll();
    const now = performance.now();
    if (reply === undefined) return { heldMs: now - t0, short: 'the server did not answer a counters poll during the warm-up' };
    const serving = reply.serving ?? want;
    if (serving >= want) return { heldMs: now - t0, caps: reply.caps };
    // A refusal already counted means the count will not get there.
    if (reply.caps.some((c) => c.kind === 'refused')) return { heldMs: now - t0, caps: reply.caps, short: `starved: ${serving} of ${want} connections were being served when the server began refusing` };
    if (serving > best) {
      best = serving;
      grewAt = now;
    }
    if (now - t0 >= DEADLINES.holdMax || now - grewAt >= DEADLINES.holdStall) {
      const waited = ((now - t0) / 1000).toFixed(1);
      return { heldMs: now - t0, caps: reply.caps, short: `starved: ${serving} of ${want} connections were being served after the warm-up and ${waited} s more; the rest waited` };
    }
    await new Promise((r) => setTimeout(r, DEADLINES.holdPoll));
  }
}

/** Start a load child; it waits for its `start`. Spawned beside the server, so both processes boot at once. */
function spawnLoadChild(plan: Plan): ChildProcess {
  return spawnNode([LOAD_CHILD_PATH], plan.clientCpus, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Run the load child against `port` while watching the server. */
/** A file the plan names, read again for a cell: it must still be the one the run began with. */
function readPlanFile(flag: string, ref: FileRef): Buffer {
  let b: Buffer;
  try {
    b = readFileSync(ref.file);
  } catch (err) {
    throw new Error(`${flag} ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (sha256(b) !== ref.sha256) throw new Error(`${flag} ${ref.file} changed since the run began`);
  return b;
}

/**
 * The HTTP client of a cell's load (absent: GET / and our page). The
 * plan's request goes to every http cell; a --target's replies are judged
 * by the status set (and --expect-body), while the servers iomodels starts
 * keep the check against the seed's page byte for byte.
 */
export function httpSpecOf(spec: Pick<CellSpec, 'strategy' | 'workload' | 'plan'>): HttpClientSpec | undefined {
  if (spec.workload !== 'http') return undefined;
  const { plan } = spec;
  const req = plan.httpRequest;
  const external = spec.strategy === 'external';
  if (req === undefined && !external) return undefined;
  return {
    ...(req === undefined
      ? {}
      : { method: req.method, path: req.path, headers: req.headers, ...(req.body === undefined ? {} : { body: readPlanFile('--body', req.body).toString('base64') }) }),
    ...(external
      ? { expect: { status: plan.expectStatus ?? DEFAULT_STATUSES, ...(plan.expectBody === undefined ? {} : { body: readPlanFile('--expect-body', plan.expectBody).toString('base64') }) } }
      : {}),
  };
}

async function runLoad(
  spec: CellSpec,
  child: ChildProcess,
  port: number,
  server: ServerHandle | null,
  watcher: ProcWatcher,
  http: HttpClientSpec | undefined,
  counter: KernelCounter | undefined,
): Promise<LoadOutcome> {
  const { plan } = spec;
  const clientPid = child.pid ?? -1;
  let serverAt: ProcSample | null = null;
  let clientAt: ProcSample | null = null;
  let t0 = 0;
  let measuringAt = 0;
  let idleHeld = 0;
  const out: LoadOutcome = { serverCpu: 0, clientCpu: 0, windowMs: 0, sampleMs: 0, heldMs: 0 };
  // The window waits for a server's start-up phase, and for the counters to be attached.
  const awaitMeasure = server?.tracksServing === true || counter !== undefined;

  const request: LoadRequest = {
    type: 'start',
    workload: spec.workload,
    idle: spec.idle,
    awaitMeasure,
    ...(counter?.controlPath === undefined ? {} : { countControl: counter.controlPath }),
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
      loadThreads: plan.loadThreads ?? 1,
      ...(http === undefined ? {} : { http }),
    },
  };
  // A phase message reaches us some time after the driver entered the phase
  // (IPC, a busy event loop): /proc is sampled on arrival, so CPU is divided
  // by the time between samples, and ops by the driver's own window.
  const onPhase = (phase: DriverPhase, atMs: number): void => {
    if (phase === 'measuring') {
      counter?.windowOpened();
      serverAt = watcher.sample();
      clientAt = sampleProc(clientPid);
      t0 = performance.now();
      measuringAt = atMs;
    } else if (phase === 'draining' && t0 > 0) {
      counter?.windowClosed();
      out.sampleMs = performance.now() - t0;
      out.windowMs = atMs - measuringAt;
      const s = watcher.sample();
      const c = sampleProc(clientPid);
      if (s !== null && serverAt !== null) out.serverCpu = s.cpuSeconds - serverAt.cpuSeconds;
      if (c !== null && clientAt !== null) out.clientCpu = c.cpuSeconds - clientAt.cpuSeconds;
    }
  };
  const onWarmed = async (): Promise<void> => {
    const want = spec.connections + idleHeld;
    if (server?.servingLimit !== undefined && want > server.servingLimit) {
      // It can never serve them all at once: capped, and no hold for a count that cannot come.
      out.holdShort = `starved: ${want} connections asked for but at most ${server.servingLimit} can be served at once (the pool's thread cap); the rest wait`;
    } else if (server?.tracksServing === true) {
      const hold = await holdForServer(() => pollServer(server), want);
      out.heldMs = hold.heldMs;
      if (hold.short !== undefined) out.holdShort = hold.short;
      if (hold.caps !== undefined) out.capsAtOpen = hold.caps;
    }
    await counter?.ready();
    sendTo(child, { type: 'measure' });
  };

  const finished = new Promise<void>((resolve) => {
    child.on('message', (raw: unknown) => {
      const m = raw as LoadMessage;
      if (m.type === 'phase') onPhase(m.phase, m.atMs);
      else if (m.type === 'idle-held') idleHeld = m.established;
      else if (m.type === 'warmed') void onWarmed();
      else if (m.type === 'result') {
        out.result = m.result;
        if (m.idle !== undefined) out.idle = m.idle;
        resolve();
      } else {
        out.failure = `load failed: ${m.message}`;
        resolve();
      }
    });
    // 'close' comes after every message the child sent before it exited.
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
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
  sendTo(child, request);
  const budget = loadBudgetMs(spec);
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
  if (counter !== undefined) {
    const tally = await counter.finish();
    if (tally !== undefined) out.tally = tally;
  }
  return out;
}

function emptyCell(spec: CellSpec): Cell {
  return {
    strategy: spec.strategy,
    workload: spec.workload,
    connections: spec.connections,
    idle: spec.idle,
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
 * The caps a cell was measured under, as text. A connection starved during
 * the warm-up was the model's start-up (held for, and reported as such);
 * only starving inside the window caps the cell.
 */
function capsText(caps: readonly Cap[], atOpen: readonly Cap[] = []): string[] {
  const out: string[] = [];
  for (const c of caps) {
    const before = c.kind === 'starved' ? (atOpen.find((a) => a.counter === c.counter)?.count ?? 0) : 0;
    const n = c.count - before;
    if (n > 0) out.push(`${c.counter} ×${n}${before > 0 ? ' in the window' : ''}`);
  }
  return out;
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
  const http = httpSpecOrReason(spec, cell);
  if (http === false) return cell;
  const pid = spec.plan.targetPid ?? -1;
  const watcher = new ProcWatcher(pid);
  if (pid > 0) watcher.start();
  const loadChild = spawnLoadChild(spec.plan);
  // Its workers too (nginx's master forks them): the server is every process of it.
  const counter = pid > 0 ? KernelCounter.start(serverPids(pid), spec.plan.anatomy ?? 'auto') : undefined;
  const load = await runLoad({ ...spec, host: t.host }, loadChild, t.port, null, watcher, http, counter);
  watcher.stop();
  fillFromLoad(cell, spec, load);
  cell.server.peakRssBytes = watcher.peakRss;
  cell.server.peakThreads = watcher.peakThreads;
  cell.server.peakFds = watcher.peakFds;
  return cell;
}

/** The cell's http client spec, or false with the cell's reason set when its files cannot be read. */
function httpSpecOrReason(spec: CellSpec, cell: Cell): HttpClientSpec | undefined | false {
  try {
    return httpSpecOf(spec);
  } catch (err) {
    cell.reason = (err as Error).message;
    return false;
  }
}

export async function runCell(spec: CellSpec): Promise<Cell> {
  const cell = emptyCell(spec);
  if (spec.strategy === 'external') return runExternalCell(spec, cell);
  const http = httpSpecOrReason(spec, cell);
  if (http === false) return cell;
  const loadChild = spawnLoadChild(spec.plan);
  const started = await startServer(spec, spec.plan.serverCpus);
  if (!started.ok) {
    cell.reason = started.reason;
    await stopChild(loadChild, 2000);
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
  const counter = KernelCounter.start([server.child.pid ?? -1], spec.plan.anatomy ?? 'auto');
  const load = await runLoad(spec, loadChild, server.port, server, watcher, http, counter);
  watcher.stop();
  const killed = await stopServer(server);
  if (guard !== undefined) load.failure = guard;

  cell.server.peakRssBytes = watcher.peakRss;
  cell.server.peakThreads = watcher.peakThreads;
  cell.server.peakFds = watcher.peakFds;
  cell.server.killed = killed;
  cell.server.counters = server.counters ?? {};
  if (server.caps !== undefined && server.caps.length > 0) cell.server.caps = server.caps;
  if (server.startup !== undefined) cell.server.startup = { ...server.startup, warmupHeldMs: Math.round(load.heldMs) };
  fillFromLoad(cell, spec, load);
  if (killed) cell.reason = `${cell.reason ?? ''}${cell.reason ? '; ' : ''}server did not stop when asked (killed after ${DEADLINES.serverStop / 1000} s)`;
  return cell;
}

/** CPUs in a taskset list ("1", "1-3", "0,2"); '' (not pinned): every CPU of the machine. */
export function cpuCount(list: string): number {
  if (list.trim() === '') return os.cpus().length;
  let n = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m !== null) n += m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1;
  }
  return Math.max(1, n);
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
  if (load.idle !== undefined) {
    cell.idleEstablished = load.idle.established;
    cell.idleOpen = load.idle.open;
  }
  cell.ops = r.ops;
  cell.windowSec = Math.round(windowSec * 1000) / 1000;
  cell.opsPerSec = r.ops / windowSec;
  cell.bytesPerSec = r.bytes / windowSec;
  cell.errors = { ...r.errors };
  for (const [k, v] of Object.entries(load.idle?.errors ?? {})) cell.errors[`idle ${k}`] = v;
  cell.extra = r.extra;
  // Per-second figures over the window the harness timed, like opsPerSec.
  const workload = findWorkload(spec.workload);
  for (const k of workload?.perSecond ?? []) {
    const n = r.extra[k];
    if (n !== undefined) cell.extra[`${k}PerSec`] = n / windowSec;
  }
  if (r.driver !== undefined) cell.client.driver = r.driver;
  if (r.targetRate !== undefined) {
    cell.targetRate = r.targetRate;
    if (r.targetRate > 0) cell.achievedRatio = Math.round((cell.opsPerSec / r.targetRate) * 1000) / 1000;
  }
  cell.latencyUs = { ...summarize(decodeHistogram(r.histogram)), histogram: r.histogram };
  if (load.tally !== undefined) {
    const anatomy = anatomyOf(load.tally, cell);
    if (anatomy !== undefined) cell.server.anatomy = anatomy;
  }
  cell.server.cpuSeconds = load.serverCpu;
  cell.server.cpuPercent = (100 * load.serverCpu) / sampleSec;
  // CPU rate over op rate, each over the interval it was counted in.
  cell.server.cpuUsPerOp = cell.opsPerSec > 0 ? (load.serverCpu * 1e6) / sampleSec / cell.opsPerSec : 0;
  cell.client.cpuPercent = (100 * load.clientCpu) / sampleSec;
  cell.client.cores = cpuCount(spec.plan.clientCpus);
  const threads = (r.threads ?? []).map((t) => ({ connections: t.connections, ...(t.cpuSeconds === undefined ? {} : { cpuPercent: (100 * t.cpuSeconds) / windowSec }) }));
  if (threads.length > 0) cell.client.threads = threads;
  cell.clientBound = isClientBound({
    cpuPercent: cell.client.cpuPercent,
    cores: cell.client.cores,
    threadPercents: threads.flatMap((t) => (t.cpuPercent === undefined ? [] : [t.cpuPercent])),
  });

  // Caps: the server refused part of the load by design (FD_SETSIZE, a full
  // pool), closed idle connections, or never served them all in the warm-up.
  const caps = capsText(cell.server.caps ?? [], load.capsAtOpen);
  if (load.idle !== undefined && load.idle.open < load.idle.asked) {
    // How much the server did serve, beside what it turned away.
    caps.push(`idle: ${load.idle.open} of ${load.idle.asked} still open when the window closed (${load.idle.established} established); active: ${r.established} of ${spec.connections} established`);
  }
  if (load.holdShort !== undefined) caps.push(load.holdShort);
  const verify = (r.errors['verify'] ?? 0) + (load.idle?.errors['verify'] ?? 0);
  // What only the workload can judge (chat: every delivery exactly once, in order).
  const own = workload?.verdict?.(cell.errors);
  if (load.failure !== undefined) {
    cell.status = 'failed';
    cell.reason = load.failure;
  } else if (verify > 0) {
    cell.status = 'failed';
    cell.reason = `verification failed: ${verify} wrong replies`;
  } else if (own !== undefined) {
    cell.status = own.status;
    cell.reason = own.reason;
  } else if (caps.length > 0) {
    cell.status = 'capped';
    cell.reason = caps.join('; ');
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
