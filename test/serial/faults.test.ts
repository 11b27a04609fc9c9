/**
 * Faults during a sweep (issue: reliability). Each case drives the real CLI
 * and injects the fault from outside, the way it happens to users.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Results } from '../../core/results.js';
import { childrenWith, processes } from '../helpers/proc.js';
import { waitFor } from '../helpers/poll.js';
import { CLI, startServe } from '../helpers/serve.js';

interface BenchRun {
  child: ChildProcess;
  out: string;
  stdout(): string;
  done: Promise<{ code: number | null; ms: number }>;
}

function bench(args: string[]): BenchRun {
  const out = mkdtempSync(path.join(os.tmpdir(), 'iomodels-fault-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'bench', '--out', out, '--server-cpus', '', '--client-cpus', '', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.resume();
  const done = new Promise<{ code: number | null; ms: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, ms: performance.now() - t0 })),
  );
  return { child, out, stdout: () => stdout, done };
}

function results(out: string): Results {
  return JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
}

const benchPid = (b: BenchRun): number => b.child.pid ?? -1;

/**
 * Send `signal` to the first `script` child of `b` ('server-child.js' or
 * 'load-child.js') `afterMs` after it appears (`what` names it if it never
 * does); resolves with its pid and the run's exit once bench has exited.
 */
async function signalChild(b: BenchRun, script: string, what: string, afterMs: number, signal: NodeJS.Signals): Promise<{ pid: number; code: number | null; ms: number }> {
  const child = await waitFor(() => childrenWith(benchPid(b), script)[0], 10_000, what);
  await new Promise((r) => setTimeout(r, afterMs));
  process.kill(child.pid, signal);
  return { pid: child.pid, ...(await b.done) };
}

test('a server killed with kill -9 mid-cell: that cell fails, the next runs, bench exits 1', async () => {
  const b = bench(['--strategies', 'libuv', '--workloads', 'echo', '--connections', '4,8', '--duration', '2', '--warmup', '0.3']);
  const { code } = await signalChild(b, 'server-child.js', 'the first server', 900, 'SIGKILL');
  assert.equal(code, 1, 'bench exits 1 when a cell failed');
  const r = results(b.out);
  assert.equal(r.cells.length, 2, 'the sweep went on to the next cell');
  assert.equal(r.cells[0]?.status, 'failed');
  assert.equal(r.cells[0]?.reason, 'server exited (signal SIGKILL)');
  assert.equal(r.cells[1]?.status, 'ok', `the next cell is measured: ${r.cells[1]?.reason ?? ''}`);
  assert.match(readFileSync(path.join(b.out, 'report.md'), 'utf8'), /libuv × echo × 4\*\* \(rep 0\): failed — server exited \(signal SIGKILL\)/);
});

test('a stalled server (SIGSTOP): timeouts are counted and the cell ends on time', async () => {
  const b = bench(['--strategies', 'libuv', '--workloads', 'echo', '--connections', '4', '--duration', '2', '--warmup', '0.3', '--timeout', '300']);
  const { pid, ms } = await signalChild(b, 'server-child.js', 'the server', 800, 'SIGSTOP');
  const cell = results(b.out).cells[0];
  assert.ok(cell !== undefined, 'the cell was recorded');
  assert.equal(cell.errors['timeout'], 4, `each of the 4 connections timed out: ${JSON.stringify(cell.errors)}`);
  assert.ok(ms < 15_000, `the cell completed on time (${Math.round(ms)} ms)`);
  assert.equal(processes().some((p) => p.pid === pid), false, 'the stopped server was stopped for good');
});

test('a load child that dies is recorded like a dead server', async () => {
  const b = bench(['--strategies', 'libuv', '--workloads', 'echo', '--connections', '4,8', '--duration', '2', '--warmup', '0.3']);
  const { code } = await signalChild(b, 'load-child.js', 'the load child', 600, 'SIGKILL');
  assert.equal(code, 1);
  const r = results(b.out);
  assert.equal(r.cells[0]?.reason, 'load child exited (signal SIGKILL)');
  assert.equal(r.cells[1]?.status, 'ok', 'the sweep went on');
});

test('Ctrl-C: servers stopped, partial results written and marked incomplete', async () => {
  const b = bench(['--strategies', 'libuv', '--workloads', 'echo', '--connections', '1,2,3', '--duration', '1', '--warmup', '0.2']);
  await waitFor(() => (b.stdout().includes('c=1 ') ? true : undefined), 15_000, 'the first cell');
  await waitFor(() => childrenWith(benchPid(b), 'server-child.js')[0], 10_000, 'the second server');
  b.child.kill('SIGINT');
  const { code } = await b.done;
  assert.equal(code, 130, 'interrupted runs exit 130');
  const r = results(b.out);
  assert.equal(r.complete, false, 'marked incomplete');
  assert.ok(r.cells.length >= 1 && r.cells.length < 3, `holds the finished cells only, got ${r.cells.length}`);
  assert.equal(childrenWith(benchPid(b), 'server-child.js').length + childrenWith(benchPid(b), 'load-child.js').length, 0, 'no child left running');
  assert.match(readFileSync(path.join(b.out, 'report.md'), 'utf8'), /Incomplete run/);
});

test('memory guard: a server past --max-server-rss is stopped and the cell fails "memory guard"', async () => {
  const b = bench(['--strategies', 'libuv', '--workloads', 'echo', '--connections', '2', '--duration', '1', '--warmup', '0.2', '--max-server-rss', '8M']);
  const { code } = await b.done;
  assert.equal(code, 1);
  const cell = results(b.out).cells[0];
  assert.equal(cell?.status, 'failed');
  assert.match(cell?.reason ?? '', /^memory guard: server RSS \d+ MiB passed --max-server-rss 8 MiB/);
});

test('--target drives a server iomodels did not start; cells are "external"', async () => {
  const s = await startServe('libuv', 'echo');
  try {
    const b = bench(['--target', `127.0.0.1:${s.port}`, '--target-pid', String(s.pid), '--workloads', 'echo', '--connections', '3', '--duration', '0.5', '--warmup', '0.2']);
    const { code } = await b.done;
    assert.equal(code, 0, b.stdout());
    const cell = results(b.out).cells[0];
    assert.equal(cell?.strategy, 'external');
    assert.equal(cell?.status, 'ok', cell?.reason ?? '');
    assert.ok((cell?.server.peakRssBytes ?? 0) > 0, 'server metrics come from --target-pid');
    assert.equal(s.child.exitCode, null, 'the external server is left running');
  } finally {
    await s.stop();
  }
});
