/**
 * The conformance suite every strategy × workload runs (the undici
 * `cacheStoreTests` pattern): `strategyTests(strategy, workload, { skip })`.
 * A new strategy passes it before it is done; a strategy missing on a
 * platform passes `{ skip: 'reason' }`.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { startServe, type ServedProcess } from '../helpers/serve.js';
import { chatCases, CHAT_SERVE_ARGS } from './chat.js';
import { echoCases } from './echo.js';
import { httpCases, HTTP_SERVE_ARGS } from './http.js';

/** What a workload's case set gets: the live server under test. */
export interface CaseContext {
  readonly strategy: string;
  /** The server's sockets have a tiny send buffer (`--sndbuf`): every large reply is a short send(). */
  readonly smallSndbuf: boolean;
  server(): ServedProcess;
}

/** Workload → its conformance cases (each registers node:test tests). */
const CASES: Record<string, (ctx: CaseContext) => void> = {
  echo: echoCases,
  chat: chatCases,
  http: httpCases,
};

/**
 * Workload → `serve` flags its cases need (short deadlines and caps, so a
 * 10 s slowloris or a 4 MiB slow-consumer case runs in a moment).
 */
const SERVE_ARGS: Record<string, readonly string[]> = {
  chat: CHAT_SERVE_ARGS,
  http: HTTP_SERVE_ARGS,
};

export function strategyTests(strategy: string, workload: string, opts: { skip?: string | false; serveArgs?: readonly string[]; label?: string } = {}): void {
  const cases = CASES[workload];
  describe(`conformance: ${strategy} × ${workload}${opts.label === undefined ? '' : ` (${opts.label})`}`, { skip: opts.skip ?? (cases === undefined ? `no conformance cases for workload ${workload}` : false) }, () => {
    let served: ServedProcess | undefined;
    before(async () => {
      served = await startServe(strategy, workload, [...(SERVE_ARGS[workload] ?? []), ...(opts.serveArgs ?? [])]);
    });
    after(async () => {
      if (served === undefined) return;
      // The server must still be up after every case, and stop promptly.
      assert.equal(served.child.exitCode, null, `server exited during the suite: ${served.stderr()}`);
      const r = await served.stop();
      assert.equal(r.code, 0, `serve should exit 0 on SIGTERM, got ${r.code ?? r.signal}: ${served.stderr()}`);
      assert.ok(r.ms < 2000, `serve should exit within 2 s of SIGTERM, took ${Math.round(r.ms)} ms`);
    });
    cases?.({
      strategy,
      smallSndbuf: opts.serveArgs?.includes('--sndbuf') ?? false,
      server: () => {
        if (served === undefined) throw new Error('server not started');
        return served;
      },
    });
  });
}
