/** chat through `iomodels serve` on libuv: a slow consumer is counted as `closed: slow consumer`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteCount, connect } from './helpers/net.js';
import { readUntilClosed } from './helpers/http.js';
import { startServe } from './helpers/serve.js';

test('a client that stops reading is closed and counted as "closed: slow consumer"', async () => {
  const served = await startServe('libuv', 'chat', ['--write-queue-cap', String(64 * 1024)]);
  try {
    const slow = await connect(served.port);
    const fast = await connect(served.port);
    slow.pause();
    slow.on('error', () => undefined);
    const fastGot = new ByteCount(fast);
    const chunk = Buffer.alloc(32 * 1024, 0x62);
    for (let i = 511; i < chunk.length; i += 512) chunk[i] = 0x0a;
    // Lock step (the fast client's own queue stays small) until 64 MiB went by or the slow one is gone.
    let slowClosed = false;
    slow.once('close', () => (slowClosed = true));
    for (let k = 1; k <= 2048 && !slowClosed; k++) {
      fast.write(chunk);
      await fastGot.reach(k * chunk.length, 10_000, 100, (got) => `fast client stalled at ${got} bytes`);
    }
    const rest = readUntilClosed(slow, 10_000);
    slow.resume();
    assert.ok((await rest).closed, 'expected the slow consumer to be disconnected');
    fast.destroy();
    const r = await served.stop();
    assert.ok((r.stats['closed: slow consumer'] ?? 0) >= 1, `expected a "closed: slow consumer" count, got ${JSON.stringify(r.stats)}`);
  } finally {
    await served.stop();
  }
});
