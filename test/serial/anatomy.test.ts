/**
 * Every strategy's anatomy matches its IO model: one real `bench` of echo
 * at 100 connections on every strategy, counted by perf, and each model's
 * signature read from its counts (who waits in which call, who scans, who
 * switches threads). A strategy planted to wait with another mechanism
 * (poll calling epoll) fails here. Counts, not timing: per-op ratios stay
 * within a few percent run to run, so the bounds below leave wide margins
 * and still tell the models apart.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Anatomy, Results } from '../../core/results.js';
import { probePerf } from '../../harness/anatomy.js';
import { RECV_CALLS, SEND_CALLS, WAIT_CALLS } from '../../reports/anatomy.js';
import { STRATEGIES, supportsWorkload } from '../../strategies/registry.js';
import { CLI } from '../helpers/serve.js';

const probe = process.platform === 'linux' ? probePerf() : { ok: false as const, why: 'perf counts on Linux only' };
const skip = probe.ok ? false : `perf cannot count here (${probe.why}): the models' counts need it`;
const available = STRATEGIES.filter((s) => s.availability().ok && supportsWorkload(s, 'echo')).map((s) => s.name);

let dir = '';
let results: Results | undefined;

function anatomy(strategy: string): Anatomy {
  const c = results?.cells.find((x) => x.strategy === strategy);
  assert.ok(c !== undefined, `a ${strategy} cell`);
  assert.equal(c.status, 'ok', `${strategy} measured (${c.reason ?? ''})`);
  const a = c.server.anatomy;
  assert.ok(a !== undefined, `${strategy} has an anatomy`);
  assert.equal(a.source, 'perf', `${strategy} counted by perf (${a.note ?? ''})`);
  return a;
}

const per = (a: Anatomy, names: readonly string[]): number => names.reduce((s, n) => s + (a.syscalls[n] ?? 0), 0);

/** The model's own wait outnumbers every other wait call per op (Node's main-thread loop is one of those). */
function waitsIn(strategy: string, own: readonly string[]): void {
  const a = anatomy(strategy);
  const mine = per(a, own);
  const table = JSON.stringify(a.syscalls);
  assert.ok(mine > 0, `${strategy} should wait in ${own.join('/')}: ${table}`);
  for (const other of WAIT_CALLS.filter((w) => !own.includes(w))) {
    const theirs = a.syscalls[other] ?? 0;
    assert.ok(mine > theirs, `${strategy}: ${own.join('/')} (${mine}/op) should outnumber ${other} (${theirs}/op): ${table}`);
  }
}

/** One recv and one send per round trip, the readiness models' phase 2. */
function oneOfEach(strategy: string): void {
  const a = anatomy(strategy);
  const table = JSON.stringify(a.syscalls);
  const recv = per(a, RECV_CALLS);
  const send = per(a, SEND_CALLS);
  assert.ok(recv > 0.8 && recv < 1.25, `${strategy}: about 1 recv per round trip, counted ${recv}: ${table}`);
  assert.ok(send > 0.8 && send < 1.25, `${strategy}: about 1 send per round trip, counted ${send}: ${table}`);
}

describe('every strategy\'s anatomy matches its model (echo, 100 connections, perf)', { skip }, () => {
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-anatomy-'));
    const args = ['bench', '--strategies', available.join(','), '--workloads', 'echo', '--connections', '100', '--duration', '1', '--warmup', '0.5', '--anatomy', 'perf', '--out', dir];
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, `bench exited ${r.status}: ${r.stdout}\n${r.stderr}`);
    results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Results;
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('select waits in select/pselect6', { skip: available.includes('select') ? false : 'select unavailable here' }, () => {
    waitsIn('select', ['select', 'pselect6']);
    oneOfEach('select');
  });

  test('poll waits in poll/ppoll', { skip: available.includes('poll') ? false : 'poll unavailable here' }, () => {
    waitsIn('poll', ['poll', 'ppoll']);
    oneOfEach('poll');
  });

  test('epoll waits in epoll_wait', { skip: available.includes('epoll') ? false : 'epoll unavailable here' }, () => {
    // Node's own loop on the main thread waits in epoll_pwait: the model's loop thread is the one in epoll_wait.
    waitsIn('epoll', ['epoll_wait']);
    oneOfEach('epoll');
  });

  test('libuv waits in epoll_pwait, one read and one write per round trip', { skip: available.includes('libuv') ? false : 'libuv unavailable here' }, () => {
    waitsIn('libuv', ['epoll_pwait', 'epoll_wait']);
    oneOfEach('libuv');
  });

  test('io-uring enters io_uring_enter, with fewer syscalls per op than epoll', { skip: available.includes('io-uring') && available.includes('epoll') ? false : 'io-uring or epoll unavailable here' }, () => {
    const a = anatomy('io-uring');
    const e = anatomy('epoll');
    assert.ok((a.syscalls['io_uring_enter'] ?? 0) > 0, `io-uring should enter io_uring_enter: ${JSON.stringify(a.syscalls)}`);
    assert.ok(a.syscallsPerOp !== null && e.syscallsPerOp !== null && a.syscallsPerOp < e.syscallsPerOp / 2, `io-uring ${a.syscallsPerOp} syscalls/op should be well under epoll's ${e.syscallsPerOp}`);
    assert.ok(per(a, RECV_CALLS) < 0.1, `io-uring receives through the ring, not recv: ${JSON.stringify(a.syscalls)}`);
  });

  test('blocking has no readiness wait and switches threads at least every other op', { skip: available.includes('blocking') ? false : 'blocking unavailable here' }, () => {
    const a = anatomy('blocking');
    const readiness = per(a, WAIT_CALLS.filter((w) => w !== 'epoll_pwait'));
    assert.ok(readiness < 0.01, `blocking should not wait for readiness, counted ${readiness}/op: ${JSON.stringify(a.syscalls)}`);
    assert.ok(a.contextSwitchesPerOp.voluntary >= 0.5, `a thread per connection sleeps in recv: ${JSON.stringify(a.contextSwitchesPerOp)} switches/op`);
    const recv = per(a, RECV_CALLS);
    assert.ok(recv > 0.8, `blocking receives with recv, counted ${recv}/op`);
  });

  test('sigio takes signals and tries more than one recv per op', { skip: available.includes('sigio') ? false : 'sigio unavailable here' }, () => {
    const a = anatomy('sigio');
    assert.ok((a.syscalls['rt_sigreturn'] ?? 0) > 0, `sigio should return from signal handlers: ${JSON.stringify(a.syscalls)}`);
    assert.ok(per(a, RECV_CALLS) > 1, `sigio's drain tries every socket: ${JSON.stringify(a.syscalls)}`);
  });

  test('busypoll recvs at least once per op and never waits', { skip: available.includes('busypoll') ? false : 'busypoll unavailable here' }, () => {
    const a = anatomy('busypoll');
    assert.ok(per(a, RECV_CALLS) >= 1, `busypoll should retry recv: ${JSON.stringify(a.syscalls)}`);
    const readiness = per(a, WAIT_CALLS.filter((w) => w !== 'epoll_pwait'));
    assert.ok(readiness < 0.01, `busypoll never waits for readiness, counted ${readiness}/op`);
  });
});

describe('without perf the anatomy comes from /proc, and the run says so once', { skip: process.platform === 'linux' ? false : '/proc is Linux only' }, () => {
  const missing = { ...process.env, IOMODELS_PERF: '/nonexistent/perf' };

  test('bench falls back, labels every cell proc, prints no syscall count it did not make', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'iomodels-anatomy-proc-'));
    try {
      const args = ['bench', '--strategies', 'blocking,epoll', '--workloads', 'echo', '--connections', '10', '--duration', '1', '--warmup', '0.25', '--out', out];
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: missing });
      assert.equal(r.status, 0, `bench exited ${r.status}: ${r.stderr}`);
      const said = r.stdout.split('\n').filter((l) => l.startsWith('anatomy:'));
      assert.deepEqual(said, ['anatomy: counted from /proc, not perf: perf is not installed (Debian: apt-get install linux-perf); no syscalls by name'], 'expected the reason once');
      const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
      for (const c of res.cells) {
        const a = c.server.anatomy;
        assert.ok(a !== undefined, `${c.strategy}: an anatomy from /proc`);
        assert.equal(a.source, 'proc');
        assert.equal(a.syscallsPerOp, null, `${c.strategy}: no syscall total without perf`);
        assert.match(a.note ?? '', /perf is not installed/);
      }
      const blocking = res.cells.find((c) => c.strategy === 'blocking')?.server.anatomy;
      assert.ok(blocking !== undefined && blocking.contextSwitchesPerOp.voluntary >= 0.5, `/proc still counts a thread per connection's switches: ${JSON.stringify(blocking?.contextSwitchesPerOp)}`);
      const md = readFileSync(path.join(out, 'report.md'), 'utf8');
      assert.match(md, /\| epoll[^|]* \| proc \| – \|/, 'expected no syscall total printed for a /proc cell');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('--anatomy perf without perf is a one-line error before any load', () => {
    const r = spawnSync(process.execPath, [CLI, 'bench', '--strategies', 'epoll', '--workloads', 'echo', '--connections', '10', '--anatomy', 'perf', '--dry-run'], { encoding: 'utf8', timeout: 60_000, env: missing });
    assert.equal(r.status, 2, `expected exit 2, got ${r.status}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line: ${r.stderr}`);
    assert.match(r.stderr, /--anatomy perf: perf is not installed/);
  });
});
