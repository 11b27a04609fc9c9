/**
 * The select strategy at 1,100 connections: fds below FD_SETSIZE are served,
 * the rest are closed at once and counted as "refused: FD_SETSIZE", and the
 * server stays up. About 2 s.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { test } from 'node:test';
import { connect } from './helpers/net.js';
import { startServe } from './helpers/serve.js';

const N = 1100;

/** Send one byte; resolve 'echoed' when it comes back, 'closed' if the server ends the connection. */
function probe(s: net.Socket, timeoutMs: number): Promise<'echoed' | 'closed'> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no echo and no close within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (r: 'echoed' | 'closed'): void => {
      clearTimeout(timer);
      resolve(r);
    };
    s.once('data', () => {
      done('echoed');
    });
    s.once('end', () => {
      done('closed');
    });
    s.once('close', () => {
      done('closed');
    });
    s.on('error', () => {
      done('closed');
    });
    s.write('x');
  });
}

test('select serves connections under FD_SETSIZE, refuses the rest with a counter, and stays up', async () => {
  const served = await startServe('select', 'echo');
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < N; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => connect(served.port)));
      sockets.push(...batch);
    }
    const results = await Promise.all(sockets.map((s) => probe(s, 15_000)));
    const echoed = results.filter((r) => r === 'echoed').length;
    const closed = results.length - echoed;
    assert.ok(echoed >= 900, `most of ${N} connections (fds < 1024) should be served, got ${echoed}`);
    assert.ok(closed >= 1, `connections beyond FD_SETSIZE should be closed, got ${closed}`);
    assert.equal(echoed + closed, N, 'every connection was either served or closed');

    // Still up and serving: free some fds and talk to it again.
    for (const s of sockets.splice(0, 200)) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const fresh = await connect(served.port);
    assert.equal(await probe(fresh, 5000), 'echoed', 'a new connection is served after the refusals');
    fresh.destroy();
    assert.equal(served.child.exitCode, null, 'server is still running');

    for (const s of sockets) s.destroy();
    const r = await served.stop();
    assert.equal(r.code, 0, `serve exits 0 on SIGTERM: ${served.stderr()}`);
    assert.equal(r.stats['refused: FD_SETSIZE'], closed, `stats count every refused connection: ${JSON.stringify(r.stats)}`);
    assert.equal(r.stats.accepted, echoed + 1, `stats count every served connection: ${JSON.stringify(r.stats)}`);
    assert.match(served.stderr(), /FD_SETSIZE/, 'the refusal is logged to stderr');
    const lines = served.stderr().split('\n').filter((l) => l.includes('FD_SETSIZE'));
    assert.equal(lines.length, 1, `logged once, not per connection: ${lines.join(' | ')}`);
  } finally {
    for (const s of sockets) s.destroy();
    await served.stop();
  }
});
