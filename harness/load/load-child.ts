/**
 * The load child: one process, pinned to the client CPUs, that holds a
 * cell's idle connections, runs its workload's driver and reports over
 * IPC. Keeping load out of the orchestrator lets the harness sample the two
 * processes apart.
 *
 * The order of a cell: the idle connections are opened and established
 * first (they are the crowd the active ones are served among); then the
 * driver connects and warms up; after the warm-up the child says `warmed`
 * and, when asked to (a server with a start-up phase), waits for `measure`
 * before it opens the window, so the window sees the model in its steady
 * state.
 */
import type { DriverOptions, DriverPhase, DriverResult } from './driver.js';
import { getWorkload } from '../../workloads/protocols.js';
import { runDriver } from './drivers.js';
import { WindowGate } from './window-gate.js';
import { IdleHolder } from './idle.js';
import { epochMs, type IdleReport } from './idle-messages.js';
import { CountControl } from './count-control.js';

/**
 * The window opens this far after the decision, so every load thread sees
 * the opening time before it comes and starts its window on it exactly.
 */
const GATE_LEAD_MS = 20;
/** The longest the warm-up waits past --warmup for the load to settle (chat's join). */
const READY_DEADLINE_MS = 20_000;

export type LoadRequest = {
  type: 'start';
  workload: string;
  options: Omit<DriverOptions, 'onPhase' | 'gate'>;
  /** Idle connections to hold beside the active ones. */
  idle: number;
  /** After the warm-up, wait for `measure` before opening the window. */
  awaitMeasure: boolean;
  /** The server's kernel counters' control FIFO: enabled as the window opens, disabled as it closes. */
  countControl?: string;
};

/** Orchestrator → load child after `start`. */
export type LoadCommand = { type: 'measure' };

export type LoadMessage =
  | { type: 'phase'; phase: DriverPhase; atMs: number }
  /** The idle connections are held; the active load starts now. */
  | { type: 'idle-held'; established: number }
  /** The warm-up is over (atMs: when it ended). */
  | { type: 'warmed'; atMs: number }
  | { type: 'result'; result: DriverResult; idle?: IdleReport }
  | { type: 'error'; message: string };

function send(m: LoadMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(m, undefined, {}, () => resolve());
  });
}

const gate = new WindowGate();
let measureAsked = false;
let warmed = false;

/** Open the window a little ahead, so every thread starts it on the same instant. */
function openWindow(): void {
  gate.open(epochMs() + GATE_LEAD_MS);
}

async function run(req: LoadRequest): Promise<void> {
  const w = getWorkload(req.workload);
  const control = req.countControl === undefined ? undefined : new CountControl(req.countControl);
  let idle: IdleHolder | undefined;
  if (req.idle > 0) {
    if (w.idle === undefined) throw new Error(`workload ${w.name} has no idle connections`);
    idle = await IdleHolder.open({
      host: req.options.host,
      port: req.options.port,
      count: req.idle,
      opening: w.idle,
      ...(req.options.http === undefined ? {} : { http: req.options.http }),
      connectConcurrency: req.options.connectConcurrency,
      connectTimeoutMs: req.options.connectTimeoutMs,
    });
    await send({ type: 'idle-held', established: idle.established });
  }
  let windowEnd = Number.NaN;
  let warmTimer: NodeJS.Timeout | undefined;
  let readyTimer: NodeJS.Timeout | undefined;
  // The warm-up is over when its time has passed and every load thread has
  // reached its steady state (chat: the whole group joined), or at the deadline.
  let warmupOver = false;
  let loadReady = false;
  const maybeWarmed = (): void => {
    if (warmed || !warmupOver || !loadReady) return;
    warmed = true;
    clearTimeout(readyTimer);
    void send({ type: 'warmed', atMs: epochMs() });
    if (!req.awaitMeasure || measureAsked) openWindow();
  };
  try {
    const result = await runDriver(w.name, {
      ...req.options,
      gate: gate.sab,
      onReady: () => {
        loadReady = true;
        maybeWarmed();
      },
      onPhase: (phase, atMs) => {
        if (phase === 'connected' && warmTimer === undefined) {
          warmTimer = setTimeout(() => {
            warmupOver = true;
            maybeWarmed();
          }, req.options.warmupSec * 1000);
          readyTimer = setTimeout(() => {
            // A load that never settles is measured anyway; its workload counts what went wrong.
            loadReady = true;
            maybeWarmed();
          }, req.options.warmupSec * 1000 + READY_DEADLINE_MS);
        }
        if (phase === 'measuring') control?.send('enable');
        if (phase === 'draining') {
          // Before anything else: the teardown that follows is not the window's.
          control?.send('disable');
          windowEnd = atMs;
        }
        void send({ type: 'phase', phase, atMs });
      },
    });
    const report = idle === undefined ? undefined : await idle.report(Number.isNaN(windowEnd) ? epochMs() : windowEnd);
    await send({ type: 'result', result, ...(report === undefined ? {} : { idle: report }) });
  } finally {
    clearTimeout(warmTimer);
    clearTimeout(readyTimer);
    control?.close();
    await idle?.close();
  }
}

process.on('message', (raw: unknown) => {
  const m = raw as LoadRequest | LoadCommand;
  if (m.type === 'measure') {
    measureAsked = true;
    if (warmed) openWindow();
    return;
  }
  void (async () => {
    try {
      await run(m);
    } catch (err) {
      await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
    if (process.connected) process.disconnect();
    process.exit(0);
  })();
});
// The orchestrator died: do not linger.
process.on('disconnect', () => process.exit(0));
