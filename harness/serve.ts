/**
 * `iomodels serve`: one strategy × one workload in this process. Prints
 * exactly `listening on HOST:PORT` when ready; on SIGINT/SIGTERM closes,
 * prints `stats {json}` (the server's counters, read by the runner) and
 * exits 0.
 */
import { findStrategy, strategyNames, supportsWorkload } from '../strategies/registry.js';
import { DEFAULT_STRATEGY_OPTIONS, type StrategyOptions } from '../strategies/strategy.js';
import type { ProtocolSpec } from '../workloads/protocol.js';
import { findWorkload, workloadNames } from '../workloads/registry.js';
import { isErrno, UsageError } from './errors.js';

/** close() must finish within this, or we exit anyway (exit code 0: we were asked to stop). */
const CLOSE_DEADLINE_MS = 1500;

export interface ServeOptions {
  strategy: string;
  spec: ProtocolSpec;
  host: string;
  port: number;
  strategyOptions?: Partial<StrategyOptions>;
}

export async function runServe(o: ServeOptions): Promise<void> {
  const info = findStrategy(o.strategy);
  if (info === undefined) throw new UsageError(`unknown strategy "${o.strategy}" (valid: ${strategyNames().join(', ')})`);
  if (findWorkload(o.spec.workload) === undefined) {
    throw new UsageError(`unknown workload "${o.spec.workload}" (valid: ${workloadNames().join(', ')})`);
  }
  if (!supportsWorkload(info, o.spec.workload)) {
    throw new UsageError(`strategy ${info.name} serves only: ${(info.workloads ?? []).join(', ')}`);
  }
  const avail = info.availability();
  if (!avail.ok) throw new UsageError(`strategy ${info.name} is unavailable here: ${avail.reason}`);

  const factory = await info.load();
  const server = factory(o.spec, { ...DEFAULT_STRATEGY_OPTIONS, ...o.strategyOptions });
  let addr: { host: string; port: number };
  try {
    addr = await server.listen(o.host, o.port);
  } catch (err) {
    if (isErrno(err, 'EADDRINUSE')) throw new UsageError(`--port ${o.port} is in use`);
    if (isErrno(err, 'EADDRNOTAVAIL')) throw new UsageError(`--host ${o.host}: cannot bind, no interface here has that address`);
    if (isErrno(err, 'EACCES')) throw new UsageError(`--port ${o.port} needs privileges: use a port above 1023 or 0`);
    throw err;
  }
  // Handlers go in before the ready line: a parent may signal the moment it
  // reads it, and a pipe write is synchronous on Linux.
  let stopping = false;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    process.stdout.write(`stats ${JSON.stringify(server.counters())}\n`, () => process.exit(0));
  };
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(finish, CLOSE_DEADLINE_MS);
    hard.unref();
    server.close().then(finish, (err: unknown) => {
      process.stderr.write(`iomodels: close failed: ${String(err)}\n`);
      finish();
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const hostText = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  process.stdout.write(`listening on ${hostText}:${addr.port}\n`);
}
