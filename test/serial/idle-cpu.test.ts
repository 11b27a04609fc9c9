/**
 * With no clients for 2 s, an idle epoll server sleeps in epoll_wait (about
 * 0 CPU) while busypoll spins on EAGAIN (about one core). CPU time is read
 * from /proc/<pid>/stat of the `serve` child (Linux only). Timing-sensitive
 * on a shared machine, so the bounds are wide and the test is serial.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleProc } from '../../harness/proc.js';
import { startServe } from '../helpers/serve.js';

const WINDOW_MS = 2000;

async function idleCores(strategy: string): Promise<number> {
  const s = await startServe(strategy, 'echo');
  try {
    // Let startup (module loading, JIT) finish before the window opens.
    await new Promise((r) => setTimeout(r, 300));
    const a = sampleProc(s.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const b = sampleProc(s.pid);
    const wall = (performance.now() - t0) / 1000;
    assert.ok(a !== null && b !== null, `/proc/${s.pid}/stat readable`);
    return (b.cpuSeconds - a.cpuSeconds) / wall;
  } finally {
    await s.stop();
  }
}

const skip = process.platform === 'linux' ? false : 'reads /proc (Linux only)';

test('an idle epoll server uses about 0 CPU', { skip }, async () => {
  const cores = await idleCores('epoll');
  assert.ok(cores < 0.05, `idle epoll should sleep in epoll_wait, used ${cores.toFixed(3)} cores`);
});

test('an idle busypoll server uses about one core', { skip }, async () => {
  const cores = await idleCores('busypoll');
  assert.ok(cores > 0.6, `idle busypoll should spin a core, used ${cores.toFixed(3)} cores`);
  assert.ok(cores < 1.3, `busypoll is one spinning thread, used ${cores.toFixed(3)} cores`);
});
