/**
 * The anatomy of one operation, as the report tells it: per strategy, what
 * the server asked of the kernel per op (cell.server.anatomy), read in the
 * tutorial's two phases. Phase 1 is waiting for data (which call waits, how
 * often per op); phase 2 is copying it to the process (recv/read, or an
 * io_uring completion the kernel already filled). Pure functions of the
 * results file, like the rest of reports/: the call names say which model
 * ran, no strategy registry is consulted.
 */
import type { Anatomy, Cell, Results } from '../core/results.js';
import { baseIdle, groupCells, groupEstimate, idleSweeps, type CellGroup } from './aggregate.js';
import { fmtCount, fmtIdle, opUnitOf } from './format.js';
import { overlaps, type Estimate } from './stats.js';

/** Calls a thread waits in for readiness or completions (phase 1). */
export const WAIT_CALLS: readonly string[] = ['epoll_wait', 'epoll_pwait', 'epoll_pwait2', 'poll', 'ppoll', 'select', 'pselect6', 'io_uring_enter', 'kevent'];
/** Calls that copy received bytes into the process (phase 2). */
export const RECV_CALLS: readonly string[] = ['recvfrom', 'read', 'recvmsg', 'readv', 'recvmmsg'];
/** Calls that hand the reply to the kernel. */
export const SEND_CALLS: readonly string[] = ['sendto', 'write', 'sendmsg', 'writev', 'sendmmsg'];

/** One strategy's anatomy at one (workload, connections, idle): medians over its repetitions. */
export interface AnatomyRow {
  group: CellGroup;
  source: Anatomy['source'];
  /** Repetitions that carried an anatomy. */
  n: number;
  total: Estimate | undefined;
  /** Per name, the median per op over repetitions (a name absent from a repetition counts 0 there). */
  byName: Map<string, Estimate>;
  eagain: Map<string, Estimate>;
  voluntary: Estimate;
  involuntary: Estimate;
  user: Estimate;
  kernel: Estimate;
  faults: Estimate | undefined;
  note?: string;
}

function anatomyCells(g: CellGroup): Cell[] {
  return g.usable.filter((c) => c.server.anatomy !== undefined && c.ops > 0);
}

const ana = (c: Cell): Anatomy => c.server.anatomy as Anatomy;

export function anatomyRow(g: CellGroup): AnatomyRow | undefined {
  const cells = anatomyCells(g);
  const first = cells[0];
  if (first === undefined) return undefined;
  // One source per row: a perf count is never pooled with a /proc one.
  const source = ana(first).source;
  const mine = cells.filter((c) => ana(c).source === source);
  const only = { ...g, usable: mine };
  const est = (f: (a: Anatomy) => number | null | undefined): Estimate => groupEstimate(only, (c) => f(ana(c)) ?? undefined);
  const names = new Set(mine.flatMap((c) => Object.keys(ana(c).syscalls)));
  const byName = new Map([...names].map((n) => [n, est((a) => a.syscalls[n] ?? (a.source === 'perf' ? 0 : undefined))] as const));
  const sorted = new Map([...byName].sort((a, b) => (a[0] === 'other' ? 1 : b[0] === 'other' ? -1 : b[1].median - a[1].median)));
  const eNames = new Set(mine.flatMap((c) => Object.keys(ana(c).eagainPerOp ?? {})));
  const eagain = new Map([...eNames].map((n) => [n, est((a) => a.eagainPerOp?.[n] ?? 0)] as const));
  const total = source === 'perf' ? est((a) => a.syscallsPerOp) : undefined;
  const faults = est((a) => a.pageFaultsPerOp);
  const note = ana(first).note;
  return {
    group: g,
    source,
    n: mine.length,
    total,
    byName: sorted,
    eagain,
    voluntary: est((a) => a.contextSwitchesPerOp.voluntary),
    involuntary: est((a) => a.contextSwitchesPerOp.involuntary),
    user: est((a) => a.userUsPerOp),
    kernel: est((a) => a.kernelUsPerOp),
    faults: faults.n > 0 ? faults : undefined,
    ...(note === undefined ? {} : { note }),
  };
}

/** Where the anatomy is shown: one connection count, and the ends of each idle sweep. */
export interface AnatomySetting {
  connections: number;
  idle: number;
}

/** Of the counts measured, the one nearest 100 on a log scale (the tutorial's "many connections", before limits bite). */
function nearest100(counts: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const n of counts) if (best === undefined || Math.abs(Math.log(n / 100)) < Math.abs(Math.log(best / 100))) best = n;
  return best;
}

export function anatomySettings(results: Results, workload: string): AnatomySetting[] {
  const groups = groupCells(results.cells).filter((g) => g.workload === workload && anatomyCells(g).length > 0);
  if (groups.length === 0) return [];
  const idle = baseIdle(groups);
  const n = nearest100([...new Set(groups.filter((g) => g.idle === idle).map((g) => g.connections))]);
  const out: AnatomySetting[] = n === undefined ? [] : [{ connections: n, idle }];
  for (const s of idleSweeps(groups)) {
    const lo = s.idle[0];
    const hi = s.idle[s.idle.length - 1];
    for (const i of [lo, hi]) {
      if (i !== undefined && !out.some((o) => o.connections === s.connections && o.idle === i)) out.push({ connections: s.connections, idle: i });
    }
  }
  return out;
}

/** The rows of one setting, in plan order. */
export function anatomyRows(results: Results, workload: string, s: AnatomySetting): AnatomyRow[] {
  const groups = groupCells(results.cells).filter((g) => g.workload === workload && g.connections === s.connections && g.idle === s.idle);
  const order = results.plan.strategies;
  groups.sort((a, b) => (order.indexOf(a.strategy) + 1 || 1e9) - (order.indexOf(b.strategy) + 1 || 1e9) || a.strategy.localeCompare(b.strategy));
  return groups.flatMap((g) => {
    const r = anatomyRow(g);
    return r === undefined ? [] : [r];
  });
}

/** A per-op count: three significant digits, never a bare 0 for something small. */
export function fmtPerOp(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return fmtCount(Math.round(v));
  if (Math.abs(v) >= 0.001) return String(Number(v.toPrecision(3)));
  return '<0.001';
}

/** "2.08 [2.05–2.11]" with repetitions, "2.08" with one. */
function withCi(e: Estimate | undefined, fmt: (v: number) => string = fmtPerOp): string {
  if (e === undefined || e.n === 0) return '–';
  return e.n >= 2 && e.hi > e.lo ? `${fmt(e.median)} [${fmt(e.lo)}–${fmt(e.hi)}]` : fmt(e.median);
}

function us(v: number): string {
  return Number.isFinite(v) ? v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2) : '–';
}

/** "recvfrom 1.01 (0.19 EAGAIN), sendto 1.01, epoll_wait 0.045, other 0.005". */
function namesText(r: AnatomyRow): string {
  const parts: string[] = [];
  for (const [name, e] of r.byName) {
    const ea = r.eagain.get(name);
    const tries = ea !== undefined && ea.median > 0 ? ` (${fmtPerOp(ea.median)} EAGAIN)` : '';
    parts.push(`${name} ${fmtPerOp(e.median)}${tries}`);
  }
  return parts.length === 0 ? '–' : parts.join(', ');
}

/** The table of one setting: every counted figure per op. */
export function renderAnatomyTable(rows: readonly AnatomyRow[]): string {
  const lines = [
    '| strategy | source | syscalls/op | by name, per op | context switches/op (voluntary / involuntary) | user µs/op | kernel µs/op | page faults/op |',
    '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const marks = `${r.group.status === 'capped' ? ' ▲' : ''}${r.group.clientBound ? ' ○' : ''}`;
    lines.push(
      `| ${r.group.strategy}${marks} | ${r.source} | ${withCi(r.total)} | ${namesText(r)} | ${withCi(r.voluntary)} / ${withCi(r.involuntary)} | ` +
        `${withCi(r.user, us)} | ${withCi(r.kernel, us)} | ${withCi(r.faults)} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The wait call a row waits in most, with its per-op count (undefined: no wait call was counted). */
export function mainWait(r: AnatomyRow): { name: string; perOp: number } | undefined {
  let best: { name: string; perOp: number } | undefined;
  for (const n of WAIT_CALLS) {
    const v = r.byName.get(n)?.median ?? 0;
    if (v > 0 && (best === undefined || v > best.perOp)) best = { name: n, perOp: v };
  }
  return best;
}

/** The recv-family call a row copies with most (phase 2). */
function mainCall(r: AnatomyRow, family: readonly string[]): { name: string; perOp: number } | undefined {
  let best: { name: string; perOp: number } | undefined;
  for (const n of family) {
    const v = r.byName.get(n)?.median ?? 0;
    if (v > 0 && (best === undefined || v > best.perOp)) best = { name: n, perOp: v };
  }
  return best;
}

/** Below this a call is incidental to the op (Node's own loop, a timer), not the model's. */
const INCIDENTAL = 0.01;

/**
 * One strategy's op in the tutorial's terms, from its counts alone: which
 * call waits (phase 1) and how often, which call copies (phase 2), what the
 * tries that found nothing and the switches cost. No figure is stated that
 * was not counted.
 */
export function describeRow(r: AnatomyRow, unit: string): string {
  const s = r.group.strategy;
  if (r.source !== 'perf') {
    const v = r.voluntary.median;
    return `**${s}** (counted from /proc, so no syscalls by name): ${fmtPerOp(v)} voluntary context switches per ${unit}, ${us(r.user.median)} µs in user space and ${us(r.kernel.median)} µs in the kernel.`;
  }
  const wait = mainWait(r);
  const recv = mainCall(r, RECV_CALLS);
  const send = mainCall(r, SEND_CALLS);
  const sig = r.byName.get('rt_sigreturn')?.median ?? 0;
  const vol = r.voluntary.median;
  const parts: string[] = [];
  if (wait !== undefined && wait.name === 'io_uring_enter' && (recv === undefined || recv.perOp < 0.5)) {
    parts.push(
      `phase 1 and phase 2 are both the kernel's: ${fmtPerOp(wait.perOp)} io_uring_enter per ${unit}` +
        (wait.perOp > 0 && wait.perOp < 1 ? ` (one enter submits and reaps for about ${fmtCount(Math.round(1 / wait.perOp))} ${unit}s)` : '') +
        `, and ${recv === undefined ? 'no recv or send call at all' : `only ${fmtPerOp(recv.perOp)} ${recv.name}`}: the bytes arrive as completions in the shared ring`,
    );
  } else if (sig >= INCIDENTAL) {
    parts.push(`phase 1 is the kernel's: it signals readiness (SIGIO; ${fmtPerOp(sig)} rt_sigreturn per ${unit}, one per handled signal)`);
  } else if (wait !== undefined && wait.perOp >= INCIDENTAL) {
    parts.push(
      `phase 1 waits in ${wait.name}, ${fmtPerOp(wait.perOp)} calls per ${unit}` + (wait.perOp < 1 ? ` (one wait returns ready fds for about ${fmtCount(Math.round(1 / wait.perOp))} ${unit}s)` : ''),
    );
  } else if (vol >= 0.5) {
    parts.push(`no readiness wait: each connection's thread sleeps inside ${recv?.name ?? 'recv'} itself, phase 1 and phase 2 in one blocking call, and the kernel switches threads ${fmtPerOp(vol)} times per ${unit}`);
  } else {
    parts.push('no call waits: the loop never sleeps');
  }
  if (recv !== undefined && !(wait?.name === 'io_uring_enter' && recv.perOp < 0.5)) {
    const ea = r.eagain.get(recv.name)?.median ?? 0;
    parts.push(
      `phase 2 copies with ${recv.name}, ${fmtPerOp(recv.perOp)} per ${unit}` +
        (ea >= INCIDENTAL ? `, of which ${fmtPerOp(ea)} found nothing (EAGAIN): tries on sockets that were not ready` : ''),
    );
  }
  if (send !== undefined && !(wait?.name === 'io_uring_enter' && send.perOp < 0.5)) parts.push(`the reply goes out with ${send.name}, ${fmtPerOp(send.perOp)} per ${unit}`);
  if (vol >= INCIDENTAL && !parts[0]?.startsWith('no readiness wait')) parts.push(`${fmtPerOp(vol)} voluntary context switches per ${unit}`);
  return `**${s}**: ${parts.join('; ')}.`;
}

/** A setting's heading: "at 100 connections" or "at 10 connections (+10,000 idle)". */
export function settingText(s: AnatomySetting): string {
  return `at ${fmtCount(s.connections)} connections${fmtIdle(s.idle)}`;
}

export const ANATOMY_INTRO =
  'What the server asked of the kernel per op over the measured window, counted by the kernel itself on every thread of the server process ' +
  '(`perf stat` software and tracepoint counters; `proc` where perf was missing or refused: /proc has no syscalls by name). ' +
  'Unlike the stopwatch these counts barely move between repetitions, and they say why a model costs what it does: ' +
  'in the tutorial\'s terms, phase 1 is waiting for data (which call waits, how often per op), phase 2 is copying it to the process. ' +
  'Names under 1% of a server\'s syscalls are summed as *other*, except the wait calls, named however rare. Node\'s main thread keeps its own loop (epoll_pwait) for the harness\'s messages in every server. ' +
  'User and kernel µs are the kernel\'s own accounting of the process (utime, stime). ' +
  'Counting runs inside the measured window and is not free: every syscall passes a tracepoint and every context switch saves perf\'s counters, ' +
  'so it adds a few percent to a server\'s CPU per op, more for a thread per connection; `bench --anatomy off` measures without it.';

// ---------------------------------------------------------------------------
// Findings: sentences generated from this run's data, printed only when it holds them up.

/**
 * Whether `a` is clearly above `b`: their 95% intervals lie apart, or, with
 * one repetition (no interval), by at least this factor, far beyond the few
 * percent counts move between runs.
 */
const SINGLE_REP_FACTOR = 2;

export function clearlyAbove(a: Estimate, b: Estimate): boolean {
  if (!(a.median > b.median) || a.n === 0 || b.n === 0) return false;
  if (a.n >= 2 && b.n >= 2) return !overlaps(a, b);
  return a.median >= SINGLE_REP_FACTOR * b.median;
}

function ratioText(x: number): string {
  return x >= 10 ? `${Math.round(x)}×` : `${x.toFixed(1)}×`;
}

/** Syscalls per op: the fewest against the most, when the data separates them. */
function syscallFinding(results: Results, workload: string, s: AnatomySetting, unit: string): string | undefined {
  const rows = anatomyRows(results, workload, s).filter((r) => r.total !== undefined && r.group.status !== 'failed');
  if (rows.length < 2) return undefined;
  const by = [...rows].sort((a, b) => (a.total?.median ?? 0) - (b.total?.median ?? 0));
  const lo = by[0];
  const hi = by[by.length - 1];
  if (lo?.total === undefined || hi?.total === undefined || !clearlyAbove(hi.total, lo.total)) return undefined;
  // The model most readers compare against: epoll, when it ran and is not already named.
  const epoll = rows.find((r) => r.group.strategy === 'epoll');
  const mid = epoll !== undefined && epoll !== lo && epoll !== hi && epoll.total !== undefined && clearlyAbove(epoll.total, lo.total) ? epoll : undefined;
  const fmt = (r: AnatomyRow): string => `${r.group.strategy} ${fmtPerOp(r.total?.median ?? Number.NaN)}`;
  return `${workload} ${settingText(s)}: ${lo.group.strategy} made ${fmtPerOp(lo.total.median)} syscalls per ${unit}, ${[mid, hi].filter((r) => r !== undefined).map(fmt).join(', ')}.`;
}

/** Context switches: a thread per connection against the loops. */
function switchFinding(results: Results, workload: string, s: AnatomySetting, unit: string): string | undefined {
  const rows = anatomyRows(results, workload, s).filter((r) => r.group.status !== 'failed');
  const blocking = rows.find((r) => r.group.strategy === 'blocking');
  const others = rows.filter((r) => r !== blocking);
  if (blocking === undefined || others.length === 0 || blocking.voluntary.median < 0.5) return undefined;
  const worst = others.reduce((a, b) => (b.voluntary.median > a.voluntary.median ? b : a));
  if (!clearlyAbove(blocking.voluntary, worst.voluntary)) return undefined;
  return `${workload} ${settingText(s)}: a thread per connection cost ${fmtPerOp(blocking.voluntary.median)} voluntary context switches per ${unit}; the other models at most ${fmtPerOp(worst.voluntary.median)} (${worst.group.strategy}).`;
}

/** Tries that found nothing: busy-poll's spin and SIGIO's drain. */
function eagainFinding(results: Results, workload: string, s: AnatomySetting, unit: string): string | undefined {
  const rows = anatomyRows(results, workload, s).filter((r) => r.group.status !== 'failed' && r.source === 'perf');
  const parts: string[] = [];
  for (const r of rows) {
    let tries = 0;
    for (const n of RECV_CALLS) tries += r.eagain.get(n)?.median ?? 0;
    // More empty tries than ops: the model pays to look where nothing is.
    if (tries >= 1) parts.push(`${r.group.strategy} ${fmtPerOp(tries)}`);
  }
  if (parts.length === 0) return undefined;
  return `${workload} ${settingText(s)}: receives that found nothing (EAGAIN) per ${unit}: ${parts.join(', ')}; the readiness models try only sockets the kernel reported ready.`;
}

/** CPU per op with many idle connections against none, per strategy. */
function idleFinding(results: Results, workload: string): string | undefined {
  const groups = groupCells(results.cells).filter((g) => g.workload === workload);
  for (const sweep of idleSweeps(groups)) {
    const lo = sweep.idle[0];
    const hi = sweep.idle[sweep.idle.length - 1];
    if (lo === undefined || hi === undefined || hi <= lo) continue;
    const cpu = (c: Cell): number | undefined => (c.ops > 0 ? c.server.cpuUsPerOp : undefined);
    const growth: { strategy: string; x: number; clear: boolean; flat: boolean }[] = [];
    for (const g of groups.filter((x) => x.connections === sweep.connections && x.idle === lo && x.status !== 'failed')) {
      const h = groups.find((x) => x.strategy === g.strategy && x.connections === sweep.connections && x.idle === hi);
      // A capped cell at the far end did not hold the idle connections it was asked to: not comparable.
      if (h === undefined || h.status !== 'ok') continue;
      const a = groupEstimate(g, cpu);
      const b = groupEstimate(h, cpu);
      if (!(a.median > 0 && b.median > 0)) continue;
      growth.push({ strategy: g.strategy, x: b.median / a.median, clear: clearlyAbove(b, a), flat: b.median / a.median < SINGLE_REP_FACTOR });
    }
    const grew = growth.filter((g) => g.clear).sort((a, b) => b.x - a.x);
    const flat = growth.filter((g) => g.flat).sort((a, b) => a.x - b.x);
    const top = grew[0];
    if (top === undefined || flat.length === 0) continue;
    const unit = opUnitOf(results, workload);
    const grewText = grew.slice(0, 3).map((g) => `${g.strategy}'s ${ratioText(g.x)}`).join(', ');
    const flatText = flat.slice(0, 2).map((g) => `${g.strategy}'s ${ratioText(g.x)}`).join(' and ');
    return `${workload} with ${fmtCount(hi)} idle connections beside ${fmtCount(sweep.connections)} active: server CPU per ${unit} grew ${grewText}, against ${flatText}.`;
  }
  return undefined;
}

/** The report's opening findings, each from this run's data and only where it holds it up. */
export function findings(results: Results, workloads: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of workloads) {
    const unit = opUnitOf(results, w);
    const idle = idleFinding(results, w);
    if (idle !== undefined) out.push(idle);
    const settings = anatomySettings(results, w);
    const first = settings[0];
    if (first === undefined) continue;
    for (const f of [syscallFinding(results, w, first, unit), switchFinding(results, w, first, unit), eagainFinding(results, w, first, unit)]) {
      if (f !== undefined) out.push(f);
    }
    // The idle end of the sweep, where scanning shows in the counts.
    const far = settings[settings.length - 1];
    if (far !== undefined && far !== first && far.idle > 0) {
      const f = eagainFinding(results, w, far, unit);
      if (f !== undefined) out.push(f);
    }
  }
  return out;
}
