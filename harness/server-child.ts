/**
 * The server child: what `iomodels serve` runs, spoken to over typed IPC
 * (server-messages.ts) instead of text. The runner sends the options, reads
 * `ready` with the bound address, polls counters while the warm-up waits
 * for a strategy's start-up phase, and asks it to stop.
 */
import { capsOf } from '../core/counters.js';
import { UsageError } from '../core/errors.js';
import { closeBounded, openServer } from './serve.js';
import type { ServerMessage, ServerRequest } from './server-messages.js';
import type { StrategyServer } from '../core/strategy.js';

function send(m: ServerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(m, undefined, {}, () => resolve());
  });
}

let server: StrategyServer | undefined;
let starting = false;
let stopping: Promise<void> | undefined;

/** Close, say so with the final counters, and exit 0 (we were asked to stop). */
function stop(): Promise<void> {
  stopping ??= (async () => {
    if (server !== undefined) {
      await closeBounded(server);
      const counters = server.counters();
      await send({ type: 'stopped', counters, caps: capsOf(counters) });
    }
    if (process.connected) process.disconnect();
    process.exit(0);
  })();
  return stopping;
}

async function start(req: Extract<ServerRequest, { type: 'start' }>): Promise<void> {
  try {
    const { server: s, addr } = await openServer({ strategy: req.strategy, workload: req.workload, options: req.options, host: req.host, port: req.port, strategyOptions: req.strategyOptions });
    server = s;
    const startup = s.startup?.();
    const limit = s.servingLimit?.();
    await send({
      type: 'ready',
      host: addr.host,
      port: addr.port,
      tracksServing: s.serving !== undefined,
      ...(limit === undefined ? {} : { servingLimit: limit }),
      ...(startup === undefined ? {} : { startup }),
    });
  } catch (err) {
    const message = err instanceof UsageError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    await send({ type: 'fatal', message });
    if (process.connected) process.disconnect();
    process.exit(2);
  }
}

process.on('message', (raw: unknown) => {
  const req = raw as ServerRequest;
  if (req.type === 'start' && !starting) {
    starting = true;
    void start(req);
  } else if (req.type === 'poll' && server !== undefined && stopping === undefined) {
    const serving = server.serving?.();
    const counters = server.counters();
    void send({ type: 'counters', counters, caps: capsOf(counters), ...(serving === undefined ? {} : { serving }) });
  } else if (req.type === 'stop') {
    void stop();
  }
});
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// The orchestrator died: do not linger holding the port and threads.
process.on('disconnect', () => void stop());
