/**
 * The anatomy of one operation, piece by piece: perf's output read under
 * the right names, counts divided into per-op figures, /proc's fallback
 * counting real work, and the report saying only what the counts hold up.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import type { Anatomy, Cell } from '../core/results.js';
import { anatomyOf, KernelCounter, parsePerfIntervals, PERF_FD_BUDGET, perfEvents, probePerf, procSnapshot, type KernelTally } from '../harness/anatomy.js';
import { anatomyRows, describeRow, findings, renderAnatomyTable } from '../reports/anatomy.js';
import { planAnatomyCharts } from '../reports/anatomy-charts.js';
import { renderReport } from '../reports/markdown.js';
import { renderHtml } from '../reports/html.js';
import { CountControl } from '../harness/load/count-control.js';
import type { PageData } from '../reports/browser/page-data.js';
import { testResults, windowCell } from './helpers/fixtures.js';

function tally(over: Partial<KernelTally> = {}): KernelTally {
  return { source: 'perf', syscalls: 2000, byName: {}, eagain: {}, voluntary: 0, involuntary: 0, pageFaults: 0, userSec: 0, kernelSec: 0, countedSec: 1, ...over };
}

test('perf -x, -I output: the blocks of deltas summed in event order, the switch lines and partial blocks skipped', () => {
  const text = [
    'Events disabled',
    '     0.100177904,<not counted>,,raw_syscalls:sys_enter,0,100.00,,',
    '     0.100177904,<not counted>,,context-switches,0,100.00,,',
    '     0.100177904,<not counted>,,page-faults,0,100.00,,',
    'Events enabled',
    '     0.502674680,6,,raw_syscalls:sys_enter,81168,100.00,,',
    '     0.502674680,1,,context-switches,81168,100.00,,',
    '     0.502674680,0,,page-faults,81168,100.00,,',
    '     0.603657963,40,,raw_syscalls:sys_enter,253640,100.00,,',
    '     0.603657963,2,,context-switches,253640,100.00,,',
    '     0.603657963,<not counted>,,page-faults,0,100.00,,',
    'Events disabled',
    '     0.805309564,34,,raw_syscalls:sys_enter,254806,100.00,,',
    '     0.805309564,0,,context-switches,254806,100.00,,',
    '     0.805309564,0,,page-faults,254806,100.00,,',
    // A block cut short (perf killed mid-print) is not read.
    '     0.888978606,99,,raw_syscalls:sys_enter,0,100.00,,',
  ].join('\n');
  assert.deepEqual(parsePerfIntervals(text, 3), [80, 3, 0], 'expected the deltas of the whole blocks summed per event, a counted 0 kept');
  assert.deepEqual(parsePerfIntervals(text.split('Events enabled')[0] ?? '', 3), [null, null, null], 'expected null for an event no block counted');
  assert.equal(parsePerfIntervals('Events disabled\n', 3), null, 'expected null with no block at all');
});

test('perf events stay inside the fd budget: fewer names with more threads, the base counts always first', () => {
  const names = ['recvfrom', 'sendto', 'futex', 'epoll_wait', 'read', 'write'];
  const few = perfEvents(names, 10);
  assert.deepEqual(few.slice(0, 4).map((e) => e.key), ['syscalls', 'switches', 'involuntary', 'faults'], 'expected total, switches, involuntary, faults first');
  assert.ok(few.some((e) => e.key === 'name:futex') && few.some((e) => e.key === 'eagain:recvfrom'), 'expected every name and the EAGAIN exits with 10 threads');
  const threads = Math.floor(PERF_FD_BUDGET / 6);
  const many = perfEvents(names, threads);
  assert.equal(many.length, 6, `expected ${PERF_FD_BUDGET} fds / ${threads} threads = 6 events, got ${many.length}`);
  assert.deepEqual(many.slice(4).map((e) => e.key), ['name:recvfrom', 'name:sendto'], 'expected the head of the names kept');
  assert.ok(many.length * threads <= PERF_FD_BUDGET, 'expected the events to fit the budget');
});

test('counts become per-op figures: perf\'s over the window\'s ops, /proc\'s as rates over the op rate', () => {
  // A 2 s window of 2,000 ops at 1,000 ops/s: 4,000 syscalls is 2 per op.
  const a = anatomyOf(
    tally({
      countedSec: 2,
      syscalls: 4000,
      byName: { recvfrom: 1960, sendto: 1960, epoll_wait: 20, futex: 30, getpid: 0 },
      eagain: { recvfrom: 100 },
      voluntary: 200,
      involuntary: 20,
      pageFaults: 10,
      userSec: 0.004,
      kernelSec: 0.016,
    }),
    { ops: 2000, opsPerSec: 1000 },
  );
  assert.ok(a !== undefined);
  assert.equal(a.syscallsPerOp, 2, 'expected 4,000 syscalls / 2 s / 1,000 ops/s');
  assert.equal(a.syscalls['recvfrom'], 0.98);
  assert.equal(a.syscalls['epoll_wait'], 0.01, 'expected the wait call named although under 1% of all syscalls');
  assert.equal(a.syscalls['futex'], undefined, 'expected futex (0.75%) summed into other');
  assert.equal(a.syscalls['other'], 0.03, 'expected futex and the unnamed rest in other: (4000 - 3940) / 2000');
  assert.deepEqual(a.eagainPerOp, { recvfrom: 0.05 });
  assert.deepEqual(a.contextSwitchesPerOp, { voluntary: 0.1, involuntary: 0.01 });
  assert.equal(a.userUsPerOp, 2, 'expected 4 ms user over 2 s at 1,000 ops/s: 2 µs per op');
  assert.equal(a.kernelUsPerOp, 8);
  assert.equal(a.pageFaultsPerOp, 0.005);
  assert.equal(anatomyOf(tally(), { ops: 0, opsPerSec: 0 }), undefined, 'expected no anatomy for a cell with no ops');
  // perf was switched on the window's edges: its counts divide by the window's ops, whatever the harness's interval.
  assert.equal(anatomyOf(tally({ countedSec: 2, syscalls: 4000 }), { ops: 1000, opsPerSec: 1000 })?.syscallsPerOp, 4);
  // /proc was read when the harness heard of the edges: a rate over its interval, over the op rate.
  assert.equal(anatomyOf(tally({ source: 'proc', countedSec: 2, syscalls: null, voluntary: 4000 }), { ops: 1000, opsPerSec: 1000 })?.contextSwitchesPerOp.voluntary, 2);
});

test('a /proc anatomy leaves what it could not count null, never 0', () => {
  const a = anatomyOf(tally({ source: 'proc', syscalls: null, byName: { syscr: 0, syscw: 500 }, note: 'perf is not installed' }), { ops: 1000, opsPerSec: 1000 });
  assert.ok(a !== undefined);
  assert.equal(a.syscallsPerOp, null);
  assert.deepEqual(a.syscalls, { syscw: 0.5, syscr: 0 }, 'expected only /proc/PID/io\'s counts, a counted 0 kept');
  const cell = windowCell('epoll', 100, 0, 1000, {});
  cell.server.anatomy = a;
  const table = renderAnatomyTable(anatomyRows(testResults([cell], { strategies: ['epoll'], connections: [100] }), 'echo', { connections: 100, idle: 0 }));
  const row = table.split('\n').find((l) => l.startsWith('| epoll'));
  assert.ok(row !== undefined && row.includes('| proc | – |'), `expected source proc and no syscall total, got ${row ?? table}`);
});

test('/proc counts the real work of a process: its thread switches and CPU', { skip: process.platform === 'linux' ? false : '/proc is Linux only' }, async () => {
  // A child that sleeps 1 ms at a time: each sleep is a voluntary switch.
  const child = spawn(process.execPath, ['-e', 'let n = 0; const t = setInterval(() => { if (++n === 400) clearInterval(t); }, 1);'], { stdio: 'ignore' });
  try {
    const pid = child.pid ?? -1;
    const counter = KernelCounter.start([pid], 'proc');
    assert.ok(counter !== undefined && counter.source === 'proc');
    counter.windowOpened();
    await new Promise((r) => setTimeout(r, 300));
    counter.windowClosed();
    const t = await counter.finish();
    assert.ok(t !== undefined, 'expected a tally');
    assert.equal(t.syscalls, null, '/proc cannot count every syscall');
    assert.ok(t.voluntary >= 50, `a thread sleeping every ms switches often: counted ${t.voluntary} in ${t.countedSec.toFixed(2)} s`);
    assert.ok(t.countedSec >= 0.28 && t.countedSec < 2, `counted over the window: ${t.countedSec} s`);
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(procSnapshot([2 ** 30]), null, 'expected nothing for a process that does not exist');
});

const perf = process.platform === 'linux' ? probePerf() : { ok: false as const, why: 'Linux only' };

test('perf counts land under the right names: a process that only reads is all read()', { skip: perf.ok ? false : `perf cannot count here: ${perf.why}` }, async () => {
  const child = spawn(process.execPath, ['-e', "const fs = require('fs'); const fd = fs.openSync('/dev/zero', 'r'); const b = Buffer.alloc(1); for (;;) fs.readSync(fd, b, 0, 1, null);"], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const counter = KernelCounter.start([child.pid ?? -1], 'perf');
    assert.ok(counter !== undefined && counter.source === 'perf');
    await counter.ready();
    assert.ok(counter.controlPath !== undefined, 'expected perf\'s control FIFO');
    // Switched as the load child does it, on the window's edges.
    const control = new CountControl(counter.controlPath);
    assert.ok(control.send('enable'), 'expected the FIFO to take the command');
    counter.windowOpened();
    await new Promise((r) => setTimeout(r, 400));
    control.send('disable');
    counter.windowClosed();
    control.close();
    const t = await counter.finish();
    assert.ok(t !== undefined && t.source === 'perf', `expected perf's counts (${t?.note ?? ''})`);
    const reads = t.byName['read'] ?? 0;
    assert.ok(t.syscalls !== null && t.syscalls > 1000, `a read loop makes many syscalls: ${t.syscalls}`);
    assert.ok(reads > 0.9 * t.syscalls, `expected read to be nearly all of them: read ${reads} of ${t.syscalls}: ${JSON.stringify(t.byName)}`);
    assert.ok((t.byName['recvfrom'] ?? 0) < 0.01 * t.syscalls, 'expected no recvfrom from a read loop');
  } finally {
    child.kill('SIGKILL');
  }
});

function anatomyCell(strategy: string, rep: number, a: Partial<Anatomy>, over: Partial<Cell> = {}): Cell {
  const cell = windowCell(strategy, 100, rep, 1000, over);
  cell.server.anatomy = {
    source: 'perf',
    syscallsPerOp: 2,
    syscalls: { recvfrom: 1, sendto: 1 },
    contextSwitchesPerOp: { voluntary: 0.01, involuntary: 0 },
    userUsPerOp: 1,
    kernelUsPerOp: 3,
    pageFaultsPerOp: 0,
    countedSec: 1,
    ...a,
  };
  return cell;
}

test('each model\'s op is told in the tutorial\'s two phases, from its counts alone', () => {
  const results = testResults(
    [
      anatomyCell('epoll', 0, { syscalls: { recvfrom: 1, sendto: 1, epoll_wait: 0.05 } }),
      anatomyCell('io-uring', 0, { syscallsPerOp: 0.06, syscalls: { io_uring_enter: 0.06 } }),
      anatomyCell('blocking', 0, { syscalls: { recvfrom: 1, sendto: 1 }, contextSwitchesPerOp: { voluntary: 1, involuntary: 0.1 } }),
      anatomyCell('sigio', 0, { syscallsPerOp: 4, syscalls: { recvfrom: 2.7, sendto: 1, rt_sigreturn: 0.08 }, eagainPerOp: { recvfrom: 1.6 } }),
    ],
    { strategies: ['epoll', 'io-uring', 'blocking', 'sigio'], connections: [100] },
  );
  const rows = anatomyRows(results, 'echo', { connections: 100, idle: 0 });
  const text = new Map(rows.map((r) => [r.group.strategy, describeRow(r, 'round trip')]));
  assert.match(text.get('epoll') ?? '', /phase 1 waits in epoll_wait, 0\.05 calls per round trip \(one wait returns ready fds for about 20 round trips\)/);
  assert.match(text.get('io-uring') ?? '', /phase 1 and phase 2 are both the kernel's: 0\.06 io_uring_enter/);
  assert.match(text.get('blocking') ?? '', /no readiness wait: each connection's thread sleeps inside recvfrom/);
  assert.match(text.get('sigio') ?? '', /signals readiness .* of which 1\.6 found nothing \(EAGAIN\)/);
});

test('findings are stated only where the data holds them up', () => {
  const io = (rep: number, perOp: number): Cell => anatomyCell('io-uring', rep, { syscallsPerOp: perOp, syscalls: { io_uring_enter: perOp } });
  const ep = (rep: number, perOp: number): Cell => anatomyCell('epoll', rep, { syscallsPerOp: perOp });
  const plan = { strategies: ['epoll', 'io-uring'], connections: [100] };
  const clear = findings(testResults([ep(0, 2), io(0, 0.2)], plan), ['echo']);
  assert.ok(clear.some((f) => f.includes('io-uring made 0.2 syscalls per round trip') && f.includes('epoll 2')), `expected the syscall finding: ${clear.join(' | ')}`);
  // One repetition a side and under 2×: no interval to hold it up, so it is left out.
  const close = findings(testResults([ep(0, 2), io(0, 1.5)], plan), ['echo']);
  assert.ok(!close.some((f) => f.includes('syscalls per')), `expected no syscall finding at 1.33× with one repetition: ${close.join(' | ')}`);
  // Three repetitions whose intervals overlap: left out, never softened.
  const overlapping = findings(testResults([ep(0, 2), ep(1, 1.1), ep(2, 2.2), io(0, 1), io(1, 1.2), io(2, 2.1)], { ...plan, repeat: 3 }), ['echo']);
  assert.ok(!overlapping.some((f) => f.includes('syscalls per')), `expected no finding from overlapping intervals: ${overlapping.join(' | ')}`);
  // Separated intervals: stated, whatever the ratio.
  const apart = findings(testResults([ep(0, 2), ep(1, 2.02), ep(2, 1.98), io(0, 1.5), io(1, 1.52), io(2, 1.49)], { ...plan, repeat: 3 }), ['echo']);
  assert.ok(apart.some((f) => f.includes('io-uring made 1.5 syscalls')), `expected a finding from separated intervals: ${apart.join(' | ')}`);
});

test('the idle finding compares CPU per op with and without idle connections, and only clear growth', () => {
  const cell = (strategy: string, idle: number, cpu: number): Cell => windowCell(strategy, 10, 0, 1000, { idle, server: { ...windowCell(strategy, 10, 0, 1000).server, cpuUsPerOp: cpu } });
  const results = testResults([cell('poll', 0, 10), cell('poll', 10_000, 1120), cell('epoll', 0, 10), cell('epoll', 10_000, 12)], { strategies: ['poll', 'epoll'], connections: [10], idle: [0, 10_000] });
  const f = findings(results, ['echo']);
  assert.ok(f.some((x) => x.includes("grew poll's 112×") && x.includes("epoll's 1.2×")), `expected poll's growth against epoll's: ${f.join(' | ')}`);
  const none = findings(testResults([cell('poll', 0, 10), cell('poll', 10_000, 15), cell('epoll', 0, 10), cell('epoll', 10_000, 12)], { strategies: ['poll', 'epoll'], connections: [10], idle: [0, 10_000] }), ['echo']);
  assert.ok(!none.some((x) => x.includes('grew')), `expected no idle finding when nothing clearly grew: ${none.join(' | ')}`);
});

test('report.md opens with its findings and has an anatomy section with its charts', () => {
  const results = testResults([anatomyCell('epoll', 0, { syscalls: { recvfrom: 1, sendto: 1, epoll_wait: 0.05 } }), anatomyCell('io-uring', 0, { syscallsPerOp: 0.1, syscalls: { io_uring_enter: 0.1 } })], {
    strategies: ['epoll', 'io-uring'],
    connections: [100],
  });
  const md = renderReport(results);
  const findingAt = md.indexOf('**Findings**');
  assert.ok(findingAt > 0 && findingAt < md.indexOf('**Machine:**'), 'expected the findings before the machine line');
  assert.match(md, /### Anatomy of one operation/);
  const charts = planAnatomyCharts(results);
  assert.deepEqual(charts.map((c) => c.file), ['echo-anatomy-syscalls-c100.png', 'echo-anatomy-switches-c100.png', 'echo-anatomy-cpu-c100.png']);
  for (const c of charts) assert.ok(md.includes(`](${c.file})`), `expected ${c.file} embedded`);
  const stacked = charts[0]?.config.data.datasets.map((d) => d.label);
  assert.deepEqual(stacked, ['recvfrom', 'sendto', 'io_uring_enter', 'epoll_wait'], 'expected one stacked segment per syscall name, most called first');
});

test('report.html draws the anatomy as live stacked bars, with a table of the same numbers under each', () => {
  const results = testResults([anatomyCell('epoll', 0, { syscalls: { recvfrom: 1, sendto: 1, epoll_wait: 0.05 } }), anatomyCell('io-uring', 0, { syscallsPerOp: 0.1, syscalls: { io_uring_enter: 0.1 } })], {
    strategies: ['epoll', 'io-uring'],
    connections: [100],
  });
  const html = renderHtml(results, { chartJs: '', pageScript: '' });
  assert.match(html, /<figure class="chart" id="fig-chart-echo-anatomy-syscalls-c100">/, 'expected the syscalls chart as a live figure');
  const data = /<script type="application\/json" id="iomodels-charts">(.*?)<\/script>/s.exec(html)?.[1] ?? '{}';
  const page = (JSON.parse(data) as PageData).charts.find((c) => c.id === 'chart-echo-anatomy-syscalls-c100');
  assert.ok(page !== undefined, 'expected its page data');
  assert.equal(page.config.type, 'bar');
  assert.deepEqual(page.barTotals, ['2.05', '0.1'], 'expected each bar\'s total above it');
  const tip = page.tips[0]?.[0];
  assert.deepEqual(tip?.lines.slice(0, 2), ['recvfrom: 1 per round trip', 'all parts: 2.05 per round trip'], 'expected the segment and its bar in the tooltip');
  assert.match(html, /<td>epoll<\/td><td class="num">1<\/td><td class="num">1<\/td>/, 'expected the table row of epoll: recvfrom 1, sendto 1');
});

test('perf counts that the window never switched are not used: /proc stands in, and the cell says why', { skip: perf.ok ? false : `perf cannot count here: ${perf.why}` }, async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1)'], { stdio: 'ignore' });
  try {
    const counter = KernelCounter.start([child.pid ?? -1], 'perf');
    assert.ok(counter !== undefined);
    await counter.ready();
    counter.windowOpened();
    await new Promise((r) => setTimeout(r, 100));
    counter.windowClosed();
    const t = await counter.finish();
    assert.equal(t?.source, 'proc', 'expected /proc\'s counts when perf was never switched on');
    assert.equal(t.syscalls, null);
    assert.match(t.note ?? '', /never switched perf on and off/);
  } finally {
    child.kill('SIGKILL');
  }
});
