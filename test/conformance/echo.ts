/** Echo conformance: byte-exact under concurrency, partial writes, half-close, RST, dribble. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, pattern, readBytes, readUntilEnd } from '../helpers/net.js';
import type { CaseContext } from './suite.js';

/** 1 B to 1 MiB: the large ones exceed socket buffers and force partial writes. */
const SIZES = [1, 2, 63, 64, 1000, 4096, 16_384, 65_536, 262_144, 1_048_576];

export function echoCases(ctx: CaseContext): void {
  test('200 concurrent connections echo 1 B–1 MiB messages byte-exact', async () => {
    const port = ctx.server().port;
    const jobs = Array.from({ length: 200 }, async (_, i) => {
      const size = SIZES[i % SIZES.length] ?? 1;
      const msg = pattern(size, i + 1);
      const s = await connect(port);
      try {
        const reply = readBytes(s, size, 60_000);
        s.write(msg);
        const got = await reply;
        assert.equal(got.length, size, `connection ${i}: expected ${size} bytes back, got ${got.length}`);
        assert.ok(got.equals(msg), `connection ${i}: echo of ${size} bytes differs from what was sent`);
      } finally {
        s.destroy();
      }
    });
    await Promise.all(jobs);
  });

  test('client half-close: everything sent before FIN comes back, then EOF', async () => {
    const s = await connect(ctx.server().port);
    const msg = pattern(300_000, 77);
    const all = readUntilEnd(s);
    s.end(msg);
    const got = await all;
    assert.equal(got.length, msg.length, `expected ${msg.length} bytes before EOF, got ${got.length}`);
    assert.ok(got.equals(msg), 'bytes echoed before EOF differ from what was sent');
  });

  test('client RST in the middle of a message leaves the server serving others', async () => {
    const port = ctx.server().port;
    for (let i = 0; i < 20; i++) {
      const s = await connect(port);
      s.write(pattern(200_000, i));
      s.resetAndDestroy();
    }
    const s = await connect(port);
    const msg = pattern(5000, 9);
    const reply = readBytes(s, msg.length);
    s.write(msg);
    const got = await reply;
    s.destroy();
    assert.ok(got.equals(msg), 'echo after a burst of RSTs differs from what was sent');
    assert.equal(ctx.server().child.exitCode, null, 'server exited after client RSTs');
  });

  test('1-byte dribbled writes are echoed in order', async () => {
    const s = await connect(ctx.server().port);
    const msg = pattern(64, 5);
    const reply = readBytes(s, msg.length);
    for (const b of msg) {
      s.write(Buffer.of(b));
      await new Promise((r) => setImmediate(r));
    }
    const got = await reply;
    s.destroy();
    assert.ok(got.equals(msg), `dribbled message came back as ${got.toString('hex')}`);
  });
}
