/**
 * Sampling a process from /proc (Linux): CPU ticks, RSS, threads, open fds.
 * On platforms without /proc every reading is null and the cell reports 0.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second: USER_HZ is 100 on every Linux ABI Node runs on. */
const CLK_TCK = 100;

export interface ProcSample {
  /** utime + stime of all threads, seconds. */
  cpuSeconds: number;
  rssBytes: number;
  threads: number;
  fds: number;
}

export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes comm (comm may contain spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const threads = Number(rest[17]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    let fds = 0;
    try {
      fds = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      fds = 0;
    }
    return { cpuSeconds: (utime + stime) / CLK_TCK, rssBytes: rssKb * 1024, threads, fds };
  } catch {
    return null;
  }
}

/** Peaks of a process over time, sampled several times a second. */
export class ProcWatcher {
  peakRss = 0;
  peakThreads = 0;
  peakFds = 0;
  #timer: NodeJS.Timeout | undefined;
  last: ProcSample | null = null;

  constructor(
    readonly pid: number,
    private readonly onSample?: (s: ProcSample) => void,
  ) {}

  start(intervalMs = 200): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  sample(): ProcSample | null {
    const s = sampleProc(this.pid);
    if (s !== null) {
      this.last = s;
      this.peakRss = Math.max(this.peakRss, s.rssBytes);
      this.peakThreads = Math.max(this.peakThreads, s.threads);
      this.peakFds = Math.max(this.peakFds, s.fds);
      this.onSample?.(s);
    }
    return s;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}
