/**
 * The anatomy of one operation: what a server asked of the kernel over a
 * cell's measured window, counted by the kernel itself.
 *
 * Counting runs beside the stopwatch, not instead of it: syscalls and
 * context switches per op stay within a few percent run to run on a shared
 * machine where timing moves by tens of percent, and they say *why* a model
 * costs what it does (who waits in which call, who scans, how many kernel
 * crossings an op takes).
 *
 * The source is `perf stat` in counting mode, started disabled on every
 * thread of the server (`-p`, inherited by threads started later) and
 * switched on and off with the window over its control fds, so its own
 * start-up never lands inside the window. Where perf is missing or refused,
 * /proc's counters stand in (per-thread context switches, utime/stime, page
 * faults, /proc/PID/io's syscr/syscw) and the cell says so: /proc cannot
 * count syscalls by name, so those are left null, never zero.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Anatomy, AnatomyMode, AnatomySource } from '../core/results.js';
import { WAIT_CALLS } from '../reports/anatomy.js';

export const ANATOMY_MODES: readonly AnatomyMode[] = ['auto', 'perf', 'proc', 'off'];

/** USER_HZ: 100 on every Linux ABI Node runs on. */
const CLK_TCK = 100;

/**
 * Syscalls counted by name, most telling first: each multiplexing model's
 * wait, then the data phase, then what a connection or a signal costs. A
 * name the kernel has no tracepoint for (another ABI) is dropped; when
 * there are many threads the tail is dropped to stay inside the fd limit,
 * and whatever is not named is summed as "other" from the total.
 */
const SYSCALL_NAMES: readonly string[] = [
  // Every model's data phase and thread wake-ups, then each model's wait:
  // with many threads (blocking) only the head of the list fits. Each name
  // is a tracepoint perf registers and unregisters per cell, so the tail
  // holds only what a server of this kind (ours, nginx) calls often.
  'recvfrom', 'sendto', 'futex', 'epoll_wait', 'read', 'write', 'epoll_pwait', 'poll', 'pselect6', 'io_uring_enter',
  'rt_sigreturn', 'accept4', 'ppoll', 'select', 'epoll_pwait2', 'readv', 'writev', 'recvmsg', 'sendmsg', 'close',
  'epoll_ctl', 'shutdown', 'setsockopt', 'accept', 'getpid', 'sched_yield', 'nanosleep', 'clock_nanosleep', 'rt_sigprocmask', 'tgkill',
  'mmap', 'munmap', 'mprotect', 'madvise', 'brk', 'fcntl', 'ioctl', 'sendfile', 'openat', 'newfstatat', 'fstat', 'statx',
];

/** Receives whose EAGAIN returns are counted: a try that found nothing (busy-poll's spin, SIGIO's drain). */
const EAGAIN_NAMES: readonly string[] = ['recvfrom', 'read', 'recvmsg', 'accept4'];

/**
 * perf opens one fd per event per thread, and attaching and detaching take
 * time per fd: a thread-per-connection server gets fewer names (the head of
 * SYSCALL_NAMES; the rest are still in the total, as "other").
 */
export const PERF_FD_BUDGET = 1_000;
/** perf's print interval: at most this long between the load's "disable" and the last block of counts. */
const PERF_INTERVAL_MS = 100;
/** A name under this share of all syscalls goes to "other". */
const NAMED_SHARE = 0.01;

/** Raw counts over the counted interval, before dividing by ops. */
export interface KernelTally {
  source: AnatomySource;
  syscalls: number | null;
  byName: Record<string, number>;
  /** Of `byName`, the calls that returned EAGAIN. */
  eagain: Record<string, number>;
  voluntary: number;
  involuntary: number;
  pageFaults: number | null;
  userSec: number;
  kernelSec: number;
  countedSec: number;
  note?: string;
}

interface ProcSnapshot {
  userTicks: number;
  kernelTicks: number;
  faults: number;
  syscr: number | null;
  syscw: number | null;
  /** Per thread (tid → [voluntary, involuntary]). */
  switches: Map<string, [number, number]>;
}

function readText(p: string): string | null {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
}

/** /proc's counters for a set of processes (every thread), or null when none can be read. */
export function procSnapshot(pids: readonly number[]): ProcSnapshot | null {
  const s: ProcSnapshot = { userTicks: 0, kernelTicks: 0, faults: 0, syscr: 0, syscw: 0, switches: new Map() };
  let any = false;
  for (const pid of pids) {
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === null) continue;
    any = true;
    // Fields after the ")" that closes comm: minflt is field 10, majflt 12, utime 14, stime 15 (1-based).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    s.faults += Number(f[7]) + Number(f[9]);
    s.userTicks += Number(f[11]);
    s.kernelTicks += Number(f[12]);
    const io = readText(`/proc/${pid}/io`);
    const r = io === null ? undefined : /syscr:\s+(\d+)/.exec(io)?.[1];
    const w = io === null ? undefined : /syscw:\s+(\d+)/.exec(io)?.[1];
    s.syscr = r === undefined || s.syscr === null ? null : s.syscr + Number(r);
    s.syscw = w === undefined || s.syscw === null ? null : s.syscw + Number(w);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      tids = [];
    }
    for (const tid of tids) {
      const st = readText(`/proc/${pid}/task/${tid}/status`);
      if (st === null) continue;
      const v = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0);
      const nv = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1] ?? 0);
      s.switches.set(`${pid}/${tid}`, [v, nv]);
    }
  }
  return any ? s : null;
}

/**
 * Context switches between two snapshots, per thread: a thread that started
 * in between counts from zero; one that ended in between took its count
 * with it (an undercount /proc cannot avoid; perf's inherited counters do not
 * have it).
 */
function switchesBetween(a: ProcSnapshot, b: ProcSnapshot): [number, number] {
  let v = 0;
  let nv = 0;
  for (const [tid, [bv, bnv]] of b.switches) {
    const [av, anv] = a.switches.get(tid) ?? [0, 0];
    v += Math.max(0, bv - av);
    nv += Math.max(0, bnv - anv);
  }
  return [v, nv];
}

/** The pid and its children (nginx's workers under its master): the server is all of them. */
export function serverPids(pid: number): number[] {
  const out = [pid];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const stat = readText(`/proc/${e}/stat`);
    if (stat === null) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(e));
  }
  return out;
}

function threadCount(pids: readonly number[]): number {
  let n = 0;
  for (const pid of pids) {
    try {
      n += readdirSync(`/proc/${pid}/task`).length;
    } catch {
      // gone: counts nothing
    }
  }
  return Math.max(1, n);
}

let perfProbe: { ok: true; names: string[] } | { ok: false; why: string } | undefined;

/** The perf binary: `IOMODELS_PERF` names another (a build of its own, or a missing one to see the /proc fallback). */
function perfBinary(): string {
  const p = process.env['IOMODELS_PERF'];
  return p === undefined || p === '' ? 'perf' : p;
}

/**
 * Whether perf can count here, asked once per process: it must exist, be
 * allowed (perf_event_paranoid, or root) and see the syscall tracepoints.
 * Running it once also mounts tracefs, where the tracepoint names are read.
 */
export function probePerf(): { ok: true; names: string[] } | { ok: false; why: string } {
  if (perfProbe !== undefined) return perfProbe;
  if (process.platform !== 'linux') return (perfProbe = { ok: false, why: `perf counting is Linux-only (this is ${process.platform})` });
  const r = spawnSync(perfBinary(), ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter,context-switches', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return (perfProbe = { ok: false, why: code === 'ENOENT' ? 'perf is not installed (Debian: apt-get install linux-perf)' : `perf did not run (${code ?? r.error.message})` });
  }
  if (r.status !== 0 || !/raw_syscalls:sys_enter/.test(r.stderr) || /not supported|not counted/.test(r.stderr)) {
    const first = r.stderr.split('\n').find((l) => l.trim() !== '')?.trim() ?? `exit ${r.status}`;
    const paranoid = readText('/proc/sys/kernel/perf_event_paranoid')?.trim();
    return (perfProbe = { ok: false, why: `perf was refused: ${first}${paranoid === undefined ? '' : ` (perf_event_paranoid ${paranoid}; run as root or lower it)`}` });
  }
  const dir = '/sys/kernel/tracing/events/syscalls';
  const names = existsSync(dir) ? SYSCALL_NAMES.filter((n) => existsSync(`${dir}/sys_enter_${n}`)) : [...SYSCALL_NAMES];
  return (perfProbe = { ok: true, names });
}

/** What perf is asked to count, in order (its CSV lines come back in this order). */
interface PerfEvent {
  key: string;
  args: string[];
}

export function perfEvents(names: readonly string[], threads: number): PerfEvent[] {
  const base: PerfEvent[] = [
    { key: 'syscalls', args: ['-e', 'raw_syscalls:sys_enter'] },
    { key: 'switches', args: ['-e', 'context-switches'] },
    // Switched out while still runnable: preempted, not waiting.
    { key: 'involuntary', args: ['-e', 'sched:sched_switch', '--filter', 'prev_state == 0'] },
    { key: 'faults', args: ['-e', 'page-faults'] },
  ];
  const room = Math.max(0, Math.floor(PERF_FD_BUDGET / threads) - base.length);
  const eagain = EAGAIN_NAMES.filter((n) => names.includes(n)).map((n) => ({ key: `eagain:${n}`, args: ['-e', `syscalls:sys_exit_${n}`, '--filter', 'ret == -11'] }));
  const named = names.map((n) => ({ key: `name:${n}`, args: ['-e', `syscalls:sys_enter_${n}`] }));
  // The named waits and the data phase first, then the EAGAIN tries, then the tail.
  const head = named.slice(0, 16);
  return [...base, ...[...head, ...eagain, ...named.slice(16)].slice(0, room)];
}

/**
 * perf's `-x, -I` lines: one block of counts per interval, in event order,
 * each a delta. Summed over every complete block; an event never counted in
 * any block is null. Null when no block is complete.
 */
export function parsePerfIntervals(text: string, n: number): (number | null)[] | null {
  const blocks = new Map<string, (number | null)[]>();
  for (const line of text.split('\n')) {
    const m = /^\s*([\d.]+),(<not counted>|<not supported>|[\d.]+),[^,]*,([^,]+),/.exec(line);
    if (m === null || m[1] === undefined) continue;
    const block = blocks.get(m[1]) ?? [];
    block.push(m[2] === undefined || m[2].startsWith('<') ? null : Number(m[2]));
    blocks.set(m[1], block);
  }
  const complete = [...blocks.values()].filter((b) => b.length === n);
  if (complete.length === 0) return null;
  const sums: (number | null)[] = new Array<number | null>(n).fill(null);
  for (const b of complete) {
    for (const [i, v] of b.entries()) if (v !== null) sums[i] = (sums[i] ?? 0) + v;
  }
  return sums;
}

/**
 * One cell's counter. perf is started disabled before the window (it takes
 * a moment to attach to every thread), and the load child switches it on
 * and off through its control FIFO on the window's own edges
 * (harness/load/count-control.ts): so its counts are the window's, and
 * divide by the window's ops. /proc is read when the harness hears of the
 * edges, so its counts are rates over that interval, as cpuUsPerOp is.
 */
export class KernelCounter {
  readonly source: AnatomySource;
  readonly #pids: readonly number[];
  readonly #note: string | undefined;
  #perf: ChildProcess | undefined;
  #dir: string | undefined;
  #events: PerfEvent[] = [];
  #stderr = '';
  #ready: Promise<boolean> = Promise.resolve(true);
  #perfFailed: string | undefined;
  /** Set before the SIGINT that makes perf print its counts, so that exit is not taken for a failure. */
  #stopping = false;
  #t0 = 0;
  #t1 = 0;
  #p0: ProcSnapshot | null = null;
  #p1: ProcSnapshot | null = null;

  private constructor(pids: readonly number[], source: AnatomySource, note?: string) {
    this.#pids = pids;
    this.source = source;
    this.#note = note;
  }

  /** A counter for these processes, or undefined when nothing can count here (mode off, no /proc). */
  static start(pids: readonly number[], mode: AnatomyMode): KernelCounter | undefined {
    if (mode === 'off' || pids.length === 0 || pids.some((p) => p <= 0)) return undefined;
    if (procSnapshot(pids) === null) return undefined;
    if (mode === 'proc') return new KernelCounter(pids, 'proc', 'asked for with --anatomy proc');
    const probe = probePerf();
    if (!probe.ok) return new KernelCounter(pids, 'proc', probe.why);
    const c = new KernelCounter(pids, 'perf');
    c.#spawnPerf(probe.names);
    return c;
  }

  /** perf's control FIFO, for whoever switches it on the window's edges (undefined: not counting with perf). */
  get controlPath(): string | undefined {
    return this.#dir === undefined || this.#perfFailed !== undefined ? undefined : path.join(this.#dir, 'control');
  }

  #spawnPerf(names: readonly string[]): void {
    this.#events = perfEvents(names, threadCount(this.#pids));
    this.#dir = mkdtempSync(path.join(tmpdir(), 'iomodels-perf-'));
    const fifo = path.join(this.#dir, 'control');
    const made = spawnSync('mkfifo', ['-m', '600', fifo], { encoding: 'utf8' });
    if (made.status !== 0) {
      this.#perfFailed = `mkfifo failed: ${made.error?.message ?? made.stderr.trim()}`;
      return;
    }
    // -I: counts are printed as they go, so they can be read without waiting
    // for perf's exit (it unregisters every tracepoint first, which takes
    // seconds); the blocks while disabled count nothing.
    const args = ['stat', '-x', ',', '--no-big-num', '-I', String(PERF_INTERVAL_MS), '-D', '-1', '--control', `fifo:${fifo}`, ...this.#events.flatMap((e) => e.args), '-p', this.#pids.join(',')];
    const perf = spawn(perfBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#perf = perf;
    perf.stderr?.setEncoding('utf8');
    this.#ready = new Promise<boolean>((resolve) => {
      perf.stderr?.on('data', (d: string) => {
        this.#stderr += d;
        // Printed once every event is open, before the first enable.
        if (this.#stderr.includes('Events disabled')) resolve(true);
      });
      perf.once('error', (err) => {
        this.#perfFailed = `perf did not start: ${err.message}`;
        resolve(false);
      });
      perf.once('exit', () => {
        if (!this.#stopping) this.#perfFailed ??= `perf exited before the window: ${this.#stderr.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'no message'}`;
        resolve(false);
      });
    });
  }

  /** Resolves when counting can start (at most `ms`): the window should not open before. */
  async ready(ms = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([this.#ready, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
    clearTimeout(timer);
    if (!ok) this.#perfFailed ??= `perf was not ready within ${ms / 1000} s`;
  }

  /** The harness heard the window open: /proc's first reading. */
  windowOpened(): void {
    this.#t0 = performance.now();
    this.#p0 = procSnapshot(this.#pids);
  }

  /** The harness heard the window close: /proc's second reading. */
  windowClosed(): void {
    if (this.#t0 === 0) return;
    this.#p1 = procSnapshot(this.#pids);
    this.#t1 = performance.now();
  }

  /** perf printed that the load switched it on and then off: the window was counted whole. */
  #switched(): boolean {
    const on = this.#stderr.indexOf('Events enabled');
    return on >= 0 && this.#stderr.indexOf('Events disabled', on) > on;
  }

  /** A whole block of counts printed after the last switch off: it holds the window's last part. */
  #lastBlock(): boolean {
    const off = this.#stderr.lastIndexOf('Events disabled');
    return this.#switched() && parsePerfIntervals(this.#stderr.slice(off), this.#events.length) !== null;
  }

  /** Stop perf and return what was counted (undefined: the window was never counted). */
  async finish(): Promise<KernelTally | undefined> {
    const perf = this.#perf;
    let counts: (number | null)[] | null = null;
    if (perf !== undefined) {
      // The load's "disable" may still be on its way through the FIFO.
      for (let waited = 0; this.#t0 > 0 && !this.#switched() && waited < 2000 && perf.exitCode === null; waited += 20) await new Promise((r) => setTimeout(r, 20));
      if (perf.exitCode === null && perf.signalCode === null) {
        // SIGINT prints the last interval's block at once; perf then
        // unregisters its tracepoints, which takes seconds, and finishes its
        // exit on its own while the next cell goes on.
        this.#stopping = true;
        perf.kill('SIGINT');
        for (let waited = 0; this.#switched() && !this.#lastBlock() && waited < 5000 && perf.exitCode === null; waited += 10) await new Promise((r) => setTimeout(r, 10));
        perf.stderr?.destroy();
        perf.unref();
      }
      if (this.#perfFailed === undefined && !this.#switched()) this.#perfFailed = 'the window never switched perf on and off (the load could not write its control FIFO)';
      if (this.#perfFailed === undefined && !this.#lastBlock()) this.#perfFailed = 'perf printed no counts after the window closed';
      counts = this.#perfFailed === undefined ? parsePerfIntervals(this.#stderr, this.#events.length) : null;
    }
    this.#cleanup();
    const a = this.#p0;
    const b = this.#p1;
    if (a === null || b === null || this.#t1 <= this.#t0) return undefined;
    const [voluntaryProc, involuntaryProc] = switchesBetween(a, b);
    const base = {
      userSec: (b.userTicks - a.userTicks) / CLK_TCK,
      kernelSec: (b.kernelTicks - a.kernelTicks) / CLK_TCK,
      countedSec: (this.#t1 - this.#t0) / 1000,
    };
    if (counts !== null) {
      const at = (key: string): number | null => counts[this.#events.findIndex((e) => e.key === key)] ?? null;
      const switches = at('switches');
      const involuntary = at('involuntary');
      const syscalls = at('syscalls');
      if (switches !== null && involuntary !== null && syscalls !== null) {
        const byName: Record<string, number> = {};
        const eagain: Record<string, number> = {};
        for (const e of this.#events) {
          const v = at(e.key);
          if (v === null) continue;
          if (e.key.startsWith('name:')) byName[e.key.slice(5)] = v;
          else if (e.key.startsWith('eagain:')) eagain[e.key.slice(7)] = v;
        }
        return { source: 'perf', syscalls, byName, eagain, voluntary: Math.max(0, switches - involuntary), involuntary, pageFaults: at('faults'), ...base };
      }
    }
    // perf was meant to count and did not: say why, and fall back on /proc's counts.
    const note = this.source === 'perf' ? (this.#perfFailed ?? 'perf printed no counts') : this.#note;
    const byName: Record<string, number> = {};
    if (a.syscr !== null && b.syscr !== null) byName['syscr'] = b.syscr - a.syscr;
    if (a.syscw !== null && b.syscw !== null) byName['syscw'] = b.syscw - a.syscw;
    return { source: 'proc', syscalls: null, byName, eagain: {}, voluntary: voluntaryProc, involuntary: involuntaryProc, pageFaults: b.faults - a.faults, ...base, ...(note === undefined ? {} : { note }) };
  }

  #cleanup(): void {
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }
}

const round = (x: number, digits = 4): number => Number(x.toPrecision(digits));

/**
 * Per op: perf's counts (switched on the window's own edges) divided by the
 * window's ops; /proc's, read when the harness heard of the edges, as a rate
 * over that interval divided by the op rate (as cpuUsPerOp is). Names under 1%
 * of all syscalls are summed into "other", with whatever was not named,
 * except the wait calls, which are always named.
 */
export function anatomyOf(t: KernelTally, w: { ops: number; opsPerSec: number }): Anatomy | undefined {
  const { ops, opsPerSec } = w;
  if (ops <= 0 || opsPerSec <= 0 || t.countedSec <= 0) return undefined;
  // perf was switched on the window's edges: its counts are the window's. /proc was read when the harness heard of them: a rate.
  const perOp = (n: number): number => round(t.source === 'perf' ? n / ops : n / t.countedSec / opsPerSec);
  const syscalls: Record<string, number> = {};
  let named = 0;
  for (const [name, n] of Object.entries(t.byName).sort((x, y) => y[1] - x[1])) {
    // A model's wait call is its phase 1: named however rarely it runs (a busy epoll loop waits once per many ops).
    if (t.syscalls !== null && n < NAMED_SHARE * t.syscalls && !(WAIT_CALLS.includes(name) && n > 0)) continue;
    syscalls[name] = perOp(n);
    named += n;
  }
  if (t.syscalls !== null && t.syscalls - named > 0) syscalls['other'] = perOp(t.syscalls - named);
  const eagain: Record<string, number> = {};
  for (const [name, n] of Object.entries(t.eagain)) {
    // Exits are counted apart from entries: a call that straddles a window edge can be in one and not the other.
    const calls = t.byName[name] ?? 0;
    if (name in syscalls && n > 0) eagain[name] = perOp(Math.min(n, calls));
  }
  return {
    source: t.source,
    syscallsPerOp: t.syscalls === null ? null : perOp(t.syscalls),
    syscalls,
    ...(Object.keys(eagain).length > 0 ? { eagainPerOp: eagain } : {}),
    contextSwitchesPerOp: { voluntary: perOp(t.voluntary), involuntary: perOp(t.involuntary) },
    userUsPerOp: round((t.userSec * 1e6) / t.countedSec / opsPerSec),
    kernelUsPerOp: round((t.kernelSec * 1e6) / t.countedSec / opsPerSec),
    pageFaultsPerOp: t.pageFaults === null ? null : perOp(t.pageFaults),
    countedSec: round(t.countedSec),
    ...(t.note === undefined ? {} : { note: t.note }),
  };
}
