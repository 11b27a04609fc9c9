/**
 * Checks that run before any load: each failure is one line that names the
 * limit and the fix (the CLI exits 2 on it).
 */
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from './errors.js';
import { fdLimit } from './machine.js';

/** Fds a process needs beyond one per connection (stdio, epoll, pipes, libs). */
const FD_HEADROOM = 64;

export function checkNodeVersion(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) throw new UsageError(`Node ${process.versions.node} is too old: iomodels needs Node >= 20`);
}

/** Each process (server and load child) holds one fd per connection. */
export function checkFdLimit(maxConnections: number): void {
  const limit = fdLimit();
  const need = maxConnections + FD_HEADROOM;
  if (need > limit) {
    throw new UsageError(
      `${maxConnections} connections need ~${need} fds per process but ulimit -n is ${limit}: raise it (ulimit -n ${need}) or use fewer --connections`,
    );
  }
}

/** The load child needs one ephemeral port per connection. */
export function checkEphemeralPorts(maxConnections: number): void {
  let lo = 32768;
  let hi = 60999;
  try {
    const parts = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (parts.length === 2 && parts.every(Number.isFinite)) [lo, hi] = parts as [number, number];
  } catch {
    return;
  }
  const avail = hi - lo + 1;
  if (maxConnections > avail) {
    throw new UsageError(
      `${maxConnections} connections need as many ephemeral ports but net.ipv4.ip_local_port_range gives ${avail} (${lo}-${hi}): widen it or use fewer --connections`,
    );
  }
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

/** Create `dir` if needed and prove we can write into it, before any load. */
export function checkOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    const probe = path.join(dir, `.iomodels-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`--out ${dir} is not writable (${code}): choose another directory`);
  }
}

/** Resolve whether host:port can be bound right now. */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}
