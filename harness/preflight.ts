/**
 * Checks that run before any load: each failure is one line that names the
 * limit and the fix (the CLI exits 2 on it).
 */
import * as dns from 'node:dns/promises';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../core/errors.js';
import { fdLimit } from './machine.js';

/** Fds a process needs beyond one per connection (stdio, epoll, pipes, libs). */
const FD_HEADROOM = 64;

export function checkNodeVersion(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new UsageError(`Node ${process.versions.node} is too old: iomodels needs Node >= 20`);
}

/** "10 connections" or "10 connections + 10000 idle": what a budget line is about. */
function what(active: number, idle: number): string {
  return idle > 0 ? `${active} connections + ${idle} idle` : `${active} connections`;
}

/** The flags that set the count, for "use fewer …". */
function fewer(idle: number): string {
  return idle > 0 ? '--connections or --idle' : '--connections';
}

/**
 * Each process (server and load child) holds one fd per connection, active
 * or idle. The limit is the machine's, not ours: name it and how to raise it.
 */
export function checkFdLimit(active: number, idle = 0): void {
  const limit = fdLimit();
  const need = active + idle + FD_HEADROOM;
  if (need > limit) {
    const hard = fdLimit('hard');
    const raise = hard >= need ? `raise it (ulimit -n ${need})` : `raise it (ulimit -n ${need}; the hard limit ulimit -Hn is ${hard}, so raise that first, e.g. LimitNOFILE or /etc/security/limits.conf)`;
    throw new UsageError(`${what(active, idle)} need ~${need} open fds in each of the server and load processes but the fd limit (ulimit -n) is ${limit}: ${raise} or use fewer ${fewer(idle)}`);
  }
}

/** The load child needs one ephemeral port per connection, active or idle (all go to one address). */
export function checkEphemeralPorts(active: number, idle = 0): void {
  let lo = 32768;
  let hi = 60999;
  try {
    const parts = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (parts.length === 2 && parts.every(Number.isFinite)) [lo, hi] = parts as [number, number];
  } catch {
    return;
  }
  const avail = hi - lo + 1;
  const need = active + idle;
  if (need > avail) {
    throw new UsageError(
      `${what(active, idle)} need ${need} ephemeral ports but net.ipv4.ip_local_port_range gives ${avail} (${lo}-${hi}): widen it (sysctl -w net.ipv4.ip_local_port_range="1024 65535") or use fewer ${fewer(idle)}`,
    );
  }
}

/**
 * Both ends of every connection live on this machine: two sockets with
 * their kernel buffers, and each process's per-connection state. A
 * conservative allowance per connection, against what the kernel says is
 * available, catches a sweep that would end in the OOM killer.
 */
export const MEMORY_PER_CONNECTION = 48 * 1024;

export function checkMemory(active: number, idle = 0, available = availableMemory()): void {
  const need = (active + idle) * MEMORY_PER_CONNECTION;
  if (available > 0 && need > available) {
    const mib = (b: number): string => `${Math.round(b / 2 ** 20)} MiB`;
    throw new UsageError(
      `${what(active, idle)} need about ${mib(need)} of memory (~${MEMORY_PER_CONNECTION / 1024} KiB each for both ends' sockets and state) but ${mib(available)} is available: free memory or use fewer ${fewer(idle)}`,
    );
  }
}

/** MemAvailable from /proc/meminfo (Linux), else free memory. */
function availableMemory(): number {
  try {
    const kb = /MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
    if (kb !== undefined) return Number(kb) * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return os.freemem();
}

/** Parse a taskset CPU list ("0", "1-3", "0,2") and check each CPU exists. */
export function checkCpuList(flag: string, list: string): number[] {
  if (list === '') return [];
  const n = os.cpus().length;
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) throw new UsageError(`${flag} "${list}" is not a CPU list (examples: 0, 1-3, 0,2)`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UsageError(`${flag} "${list}": range ${part} runs backwards`);
    for (let c = a; c <= b; c++) {
      if (c >= n) throw new UsageError(`${flag} "${list}": CPU ${c} does not exist (this machine has CPUs 0-${n - 1})`);
      out.push(c);
    }
  }
  return out;
}

/**
 * mkdir -p, one level at a time. Not mkdirSync({ recursive: true }): on
 * Node 20 that spins forever at 100% CPU when a parent exists but refuses
 * children with ENOENT (e.g. `--out /proc/x`).
 */
function makeDirs(dir: string): void {
  const abs = path.resolve(dir);
  try {
    if (statSync(abs).isDirectory()) return;
  } catch {
    // Absent (or unreadable): create it below, which reports the real error.
  }
  const parent = path.dirname(abs);
  if (parent !== abs) makeDirs(parent);
  mkdirSync(abs);
}

/** Create `dir` if needed and prove we can write into it, before any load. */
export function checkOutDir(dir: string, flag = '--out'): void {
  if (dir.trim() === '') throw new UsageError(`${flag} is empty: name a directory`);
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
    const probe = path.join(dir, `.iomodels-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${flag} ${dir} is not writable (${code}): choose another directory`);
  }
}

/** A file we will create (a chart): its directory must exist and be writable, and it must not be a directory. */
export function checkOutFile(flag: string, file: string): void {
  if (file.trim() === '') throw new UsageError(`${flag} is empty: name a file`);
  const dir = path.dirname(path.resolve(file));
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${flag} ${file}: cannot write into ${dir} (${code})`);
  }
  let isDir = false;
  try {
    isDir = statSync(file).isDirectory();
  } catch {
    // Absent: it will be created.
  }
  if (isDir) throw new UsageError(`${flag} ${file} is a directory: name a file`);
}

/** An address `serve` can bind: an IP literal, or a name that resolves. */
export async function checkBindHost(flag: string, host: string): Promise<void> {
  if (host.trim() === '') throw new UsageError(`${flag} is empty: name an address to bind, like 127.0.0.1`);
  if (net.isIP(host) !== 0) return;
  try {
    await dns.lookup(host);
  } catch (err) {
    throw new UsageError(`${flag} ${host} is neither an IP address nor a name that resolves (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** A process we will sample from /proc: it must exist now. */
export function checkPid(flag: string, pid: number): void {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else (/proc still reads it).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw new UsageError(`${flag} ${pid}: no such process`);
  }
}

