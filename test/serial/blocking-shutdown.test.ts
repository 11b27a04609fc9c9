/**
 * Shutdown of the blocking strategy with 200 idle connections, each with a
 * thread blocked in recv(2): SIGTERM must shut every socket down, drain the
 * pool and exit 0 within 2 s. Serial: 200 worker threads start first.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { test } from 'node:test';
import { connect, pattern, readBytes } from '../helpers/net.js';
import { startServe } from '../helpers/serve.js';

test('blocking: 200 idle connections, serve exits 0 within 2 s of SIGTERM', { timeout: 180_000 }, async (t) => {
  const served = await startServe('blocking', 'echo', []);
  const socks: net.Socket[] = [];
  try {
    for (let i = 0; i < 200; i++) socks.push(await connect(served.port));
    // One round trip each: every connection now has its thread, idle in recv.
    await Promise.all(
      socks.map(async (s, i) => {
        const msg = pattern(16, i + 1);
        const r = readBytes(s, msg.length, 150_000);
        s.write(msg);
        assert.ok((await r).equals(msg), `connection ${i}: echo differs`);
      }),
    );
    const r = await served.stop();
    t.diagnostic(`exit ${Math.round(r.ms)} ms after SIGTERM with 200 idle connections`);
    assert.equal(r.code, 0, `serve should exit 0 on SIGTERM, got ${r.code ?? r.signal}: ${served.stderr()}`);
    assert.ok(r.ms < 2000, `serve should exit within 2 s of SIGTERM with 200 idle connections, took ${Math.round(r.ms)} ms`);
    assert.equal(r.stats['closed'], 200, `every connection should be closed by the shutdown: ${JSON.stringify(r.stats)}`);
    assert.ok((r.stats['pool: threads peak'] ?? 0) >= 200, `expected 200 threads in use: ${JSON.stringify(r.stats)}`);
  } finally {
    for (const s of socks) s.destroy();
    await served.stop();
  }
});
