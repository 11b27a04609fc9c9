/**
 * The server child as the harness drives it: spawned pinned to its CPUs,
 * spoken to over typed IPC (server-messages.ts), stopped with a deadline.
 * The runner, the tests and the scripts all start servers through this.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cap } from '../core/counters.js';
import type { ProtocolOptions } from '../core/protocol.js';
import type { StrategyOptions } from '../core/strategy.js';
import { isServerMessage, type ServerMessage, type ServerRequest, type ServerStartup } from './server-messages.js';
import { spawnNode, stopChild } from './spawn.js';

const SERVER_CHILD_PATH = fileURLToPath(new URL('./server-child.js', import.meta.url));

export interface ServerProcessOptions {
  strategy: string;
  workload: string;
  options: ProtocolOptions;
  host: string;
  /** taskset CPU list ('' : anywhere). */
  cpus: string;
  strategyOptions: Partial<StrategyOptions>;
  /** Deadline for `ready`. */
  readyMs: number;
  /** Deadline for a counters poll's answer. */
  pollMs: number;
  /** How long `stopped` may take before SIGKILL. */
  stopMs: number;
}

export interface ServerHandle {
  child: ChildProcess;
  port: number;
  stderrTail: string;
  tracksServing: boolean;
  servingLimit?: number;
  startup?: ServerStartup;
  /** The final counters and the caps among them, from `stopped`. */
  counters?: Record<string, number>;
  caps?: Cap[];
  /** Resolves on the child's 'close': it has exited and every message it sent has been read. */
  closed: Promise<void>;
  /** Resolvers of the next reply of a kind (one poll or stop in flight at a time); undefined cancels. */
  waiting: Map<ServerMessage['type'], (m: ServerMessage | undefined) => void>;
  pollMs: number;
  stopMs: number;
}

export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `server exited (signal ${signal})` : `server exited (code ${code})`;
}

function sendTo(child: ChildProcess, m: ServerRequest): void {
  // A child that exited meanwhile cannot take it: its exit is reported on its own path.
  if (child.connected) child.send(m, () => undefined);
}

/** The next `type` message from the server, or undefined at `ms` or when it exits. */
function nextFromServer<T extends ServerMessage['type']>(h: ServerHandle, type: T, ms: number): Promise<Extract<ServerMessage, { type: T }> | undefined> {
  return new Promise((resolve) => {
    const done = (m: ServerMessage | undefined): void => {
      clearTimeout(timer);
      h.waiting.delete(type);
      resolve(m as Extract<ServerMessage, { type: T }> | undefined);
    };
    const timer = setTimeout(() => done(undefined), ms);
    h.waiting.set(type, done);
    // Every message the child sent before it exited is read before 'close'.
    void h.closed.then(() => done(undefined));
  });
}

/** Spawn a server child, hand it its options, and wait for it to be ready. */
export async function startServerProcess(o: ServerProcessOptions): Promise<{ ok: true; server: ServerHandle } | { ok: false; reason: string }> {
  const child = spawnNode([SERVER_CHILD_PATH], o.cpus, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const handle: ServerHandle = { child, port: 0, stderrTail: '', tracksServing: false, waiting: new Map(), closed, pollMs: o.pollMs, stopMs: o.stopMs };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    handle.stderrTail = (handle.stderrTail + d).slice(-2000);
  });
  child.on('message', (raw: unknown) => {
    if (!isServerMessage(raw)) return;
    if (raw.type === 'stopped') {
      handle.counters = raw.counters;
      handle.caps = raw.caps;
    }
    handle.waiting.get(raw.type)?.(raw);
  });
  child.on('error', () => {
    // A failed spawn also exits: the exit path reports it.
  });
  const ready = nextFromServer(handle, 'ready', o.readyMs);
  const fatal = nextFromServer(handle, 'fatal', o.readyMs);
  sendTo(child, { type: 'start', strategy: o.strategy, workload: o.workload, options: o.options, host: o.host, port: 0, strategyOptions: o.strategyOptions });
  const outcome = await Promise.race([ready, fatal]);
  for (const cancel of [...handle.waiting.values()]) cancel(undefined);
  if (outcome?.type === 'ready') {
    handle.port = outcome.port;
    handle.tracksServing = outcome.tracksServing;
    if (outcome.servingLimit !== undefined) handle.servingLimit = outcome.servingLimit;
    if (outcome.startup !== undefined) handle.startup = outcome.startup;
    return { ok: true, server: handle };
  }
  if (outcome?.type === 'fatal') {
    await stopChild(child, 1000);
    return { ok: false, reason: `server could not start: ${outcome.message.split('\n')[0] ?? ''}` };
  }
  if (child.exitCode === null && child.signalCode === null) {
    await stopChild(child, 1000);
    return { ok: false, reason: `server not ready within ${Math.round(o.readyMs / 1000)} s` };
  }
  const why = handle.stderrTail.trim().split('\n').pop() ?? '';
  return { ok: false, reason: `${exitReason(child.exitCode, child.signalCode)} before ready${why ? `: ${why}` : ''}` };
}

/** Ask the server for its counters; undefined when it does not answer. */
export async function pollServer(h: ServerHandle): Promise<Extract<ServerMessage, { type: 'counters' }> | undefined> {
  const reply = nextFromServer(h, 'counters', h.pollMs);
  sendTo(h.child, { type: 'poll' });
  return reply;
}

/** Ask the server to stop; SIGKILL when it has not exited by the deadline. Returns whether SIGKILL was needed. */
export async function stopServer(h: ServerHandle): Promise<boolean> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return false;
  const stopped = nextFromServer(h, 'stopped', h.stopMs);
  sendTo(h.child, { type: 'stop' });
  // A stopped (SIGSTOP) server cannot act until it runs again.
  h.child.kill('SIGCONT');
  await stopped;
  return stopChild(h.child, Math.max(500, h.stopMs / 5));
}
