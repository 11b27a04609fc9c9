/**
 * Faults every strategy must survive (issue: reliability): an RST storm, a
 * client that never reads, and 10,000 connections opened and closed three
 * times without leaking an fd. Slow, so serial.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { STRATEGIES, supportsWorkload } from '../../strategies/registry.js';
import { sampleProc } from '../../harness/proc.js';
import { connect, pattern, readBytes } from '../helpers/net.js';
import { startServe, type ServedProcess } from '../helpers/serve.js';

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}

/** Open n connections with at most 500 connects in flight; failures are returned as null. */
async function openMany(port: number, n: number): Promise<(net.Socket | null)[]> {
  const out: (net.Socket | null)[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      next++;
      try {
        const s = await connect(port);
        s.on('error', () => undefined);
        out.push(s);
      } catch {
        out.push(null);
      }
    }
  };
  await Promise.all(Array.from({ length: 500 }, lane));
  return out;
}

async function stillEchoes(s: ServedProcess): Promise<void> {
  const c = await connect(s.port);
  const msg = pattern(1000, 3);
  const reply = readBytes(c, msg.length, 10_000);
  c.write(msg);
  const got = await reply;
  c.destroy();
  assert.ok(got.equals(msg), 'the server still echoes correctly');
}

for (const info of STRATEGIES) {
  const avail = info.availability();
  const skip = !supportsWorkload(info, 'echo') ? `${info.name} does not serve echo` : avail.ok ? false : `${info.name} unavailable: ${avail.reason}`;
  describe(`faults: ${info.name}`, { skip }, () => {
    test('an RST storm of 1,000 connections leaves the server up', async () => {
      const s = await startServe(info.name, 'echo');
      try {
        const socks = (await openMany(s.port, 1000)).filter((x) => x !== null);
        for (const c of socks) c.write('x');
        for (const c of socks) c.resetAndDestroy();
        await stillEchoes(s);
        assert.equal(s.child.exitCode, null, `server exited after the RST storm: ${s.stderr()}`);
      } finally {
        const r = await s.stop();
        assert.equal(r.code, 0, `clean exit after the storm (${r.code ?? r.signal})`);
      }
    });

    test('a client that never reads is closed at the write-queue cap; memory stays bounded', async () => {
      const s = await startServe(info.name, 'echo');
      try {
        const rss0 = sampleProc(s.pid)?.rssBytes ?? 0;
        const c = await connect(s.port);
        c.pause();
        let closed = false;
        c.on('error', () => undefined);
        c.on('close', () => (closed = true));
        const chunk = Buffer.alloc(64 * 1024, 7);
        let sent = 0;
        const deadline = performance.now() + 20_000;
        // Write up to 256 MiB without ever reading, honouring backpressure.
        while (!closed && sent < 256 * 2 ** 20 && performance.now() < deadline) {
          if (!c.write(chunk)) {
            // Wait for drain, but never for long: the server may stop reading.
            await new Promise<void>((resolve) => {
              const done = (): void => {
                clearTimeout(timer);
                c.off('drain', done);
                resolve();
              };
              const timer = setTimeout(done, 100);
              c.on('drain', done);
            });
          }
          sent += chunk.length;
        }
        const closedByServer = await until(() => closed, 15_000);
        const peak = sampleProc(s.pid)?.rssBytes ?? 0;
        c.destroy();
        assert.ok(closedByServer, `the server closed the non-reading client (sent ${sent} bytes)`);
        assert.ok(peak - rss0 < 128 * 2 ** 20, `server RSS grew by ${Math.round((peak - rss0) / 2 ** 20)} MiB, expected < 128 MiB`);
        await stillEchoes(s);
        const r = await s.stop();
        const closedAtCap = (r.stats['closed: write queue full'] ?? 0) + (r.stats['closed: send timeout'] ?? 0);
        assert.ok(closedAtCap >= 1, `counted as closed at the cap: ${JSON.stringify(r.stats)}`);
      } finally {
        await s.stop();
      }
    });

    test('10,000 connections opened and closed 3 times leak no fd', async () => {
      const s = await startServe(info.name, 'echo');
      try {
        const base = fdCount(s.pid);
        for (let round = 0; round < 3; round++) {
          const socks = await openMany(s.port, 10_000);
          for (const c of socks) c?.destroy();
          const back = await until(() => fdCount(s.pid) <= base, 20_000);
          assert.ok(back, `round ${round + 1}: server holds ${fdCount(s.pid)} fds, had ${base} before`);
        }
        await stillEchoes(s);
      } finally {
        await s.stop();
      }
    });
  });
}
