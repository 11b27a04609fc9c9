/**
 * `iomodels serve`: one strategy × one workload in this process. Prints
 * exactly `listening on HOST:PORT` when ready; on SIGINT/SIGTERM closes,
 * prints `stats {json}` (the server's counters, read by the runner) and
 * exits 0.
 */
import { findStrategy, strategyNames, supportsWorkload } from '../strategies/registry.js';
import { DEFAULT_STRATEGY_OPTIONS, type StrategyOptions, type StrategyServer } from '../core/strategy.js';
import type { ProtocolOptions } from '../core/protocol.js';
import { findWorkload, protocolSpec, workloadNames } from '../workloads/protocols.js';
import { isErrno, UsageError } from '../core/errors.js';

/** close() must finish within this, or we exit anyway (exit code 0: we were asked to stop). */
const CLOSE_DEADLINE_MS = 1500;

export interface ServeOptions {
  strategy: string;
  workload: string;
  /** Workload options (messageSize, …). */
  options: ProtocolOptions;
  host: string;
  port: number;
  strategyOptions?: Partial<StrategyOptions>;
}

/** Check the request, build the strategy's server and listen: every failure a user can fix is a UsageError. */
export async function openServer(o: ServeOptions): Promise<{ server: StrategyServer; addr: { host: string; port: number } }> {
  const info = findStrategy(o.strategy);
  if (info === undefined) throw new UsageError(`unknown strategy "${o.strategy}" (valid: ${strategyNames().join(', ')})`);
  if (findWorkload(o.workload) === undefined) {
    throw new UsageError(`unknown workload "${o.workload}" (valid: ${workloadNames().join(', ')})`);
  }
  if (!supportsWorkload(info, o.workload)) {
    throw new UsageError(`strategy ${info.name} serves only: ${(info.workloads ?? []).join(', ')}`);
  }
  const avail = info.availability();
  if (!avail.ok) throw new UsageError(`strategy ${info.name} is unavailable here: ${avail.reason}`);

  const factory = await info.load();
  const server = await factory(protocolSpec(o.workload, o.options), { ...DEFAULT_STRATEGY_OPTIONS, ...o.strategyOptions });
  try {
    return { server, addr: await server.listen(o.host, o.port) };
  } catch (err) {
    if (isErrno(err, 'EADDRINUSE')) throw new UsageError(`--port ${o.port} is in use`);
    if (isErrno(err, 'EADDRNOTAVAIL')) throw new UsageError(`--host ${o.host}: cannot bind, no interface here has that address`);
    if (isErrno(err, 'EACCES')) throw new UsageError(`--port ${o.port} needs privileges: use a port above 1023 or 0`);
    throw err;
  }
}

/** close(), bounded: resolves within CLOSE_DEADLINE_MS whatever the strategy does. */
export function closeBounded(server: StrategyServer): Promise<void> {
  return new Promise((resolve) => {
    const hard = setTimeout(resolve, CLOSE_DEADLINE_MS);
    hard.unref();
    server.close().then(
      () => {
        clearTimeout(hard);
        resolve();
      },
      (err: unknown) => {
        process.stderr.write(`iomodels: close failed: ${String(err)}\n`);
        clearTimeout(hard);
        resolve();
      },
    );
  });
}

export async function runServe(o: ServeOptions): Promise<void> {
  const { server, addr } = await openServer(o);
  // Handlers go in before the ready line: a parent may signal the moment it
  // reads it, and a pipe write is synchronous on Linux.
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void closeBounded(server).then(() => {
      process.stdout.write(`stats ${JSON.stringify(server.counters())}\n`, () => process.exit(0));
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${listeningLine(addr)}\n`);
}

/**
 * The human interface of `serve`, written here and read back by whoever
 * drives `serve` as a person would (tests, outside tools): one place for both.
 */
export function listeningLine(addr: { host: string; port: number }): string {
  return `listening on ${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
}

/** The port of a `listening on HOST:PORT` line in `text`, or undefined. */
export function parseListening(text: string): number | undefined {
  const m = /^listening on (?:\[[^\]]+\]|[^:\s]+):(\d+)$/m.exec(text);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** The counters of the `stats {…}` line in `text` ({} when there is none). */
export function parseStats(text: string): Record<string, number> {
  const m = /^stats (.*)$/m.exec(text);
  if (m?.[1] === undefined) return {};
  try {
    return JSON.parse(m[1]) as Record<string, number>;
  } catch {
    return {};
  }
}
