/**
 * What the driver comparison scripts share: one load run in a child
 * process pinned to CPU 1 (the server has CPU 0, as bench does on 2
 * cores), with the load process's own CPU over the measured window only,
 * the median the scripts print, and how a script ends on an error.
 */
import { spawn } from 'node:child_process';
import { UsageError } from '../core/errors.js';
import type { DriverResult } from '../harness/load/driver.js';
import { runDriver } from '../harness/load/drivers.js';

/**
 * One load run (closed loop, or open loop at `rate` ops/s): its result, the
 * process's user + system CPU seconds inside the window, and the system
 * (kernel) part of them.
 */
export async function measuredRun(workload: string, tcpDriver: string, port: number, connections: number, seconds: number, rate = 0): Promise<{ r: DriverResult; cpuSec: number; sysSec: number; errors: number }> {
  let c0 = process.cpuUsage();
  let cpuSec = 0;
  let sysSec = 0;
  const r = await runDriver(workload, {
    host: '127.0.0.1',
    port,
    connections,
    warmupSec: 1,
    durationSec: seconds,
    timeoutMs: 5000,
    connectConcurrency: 500,
    connectTimeoutMs: 30_000,
    protocol: { messageSize: 64 },
    tcpDriver,
    ...(rate > 0 ? { rate } : {}),
    onPhase: (p) => {
      if (p === 'measuring') c0 = process.cpuUsage();
      if (p === 'draining') {
        const d = process.cpuUsage(c0);
        cpuSec = (d.user + d.system) / 1e6;
        sysSec = d.system / 1e6;
      }
    },
  });
  return { r, cpuSec, sysSec, errors: Object.values(r.errors).reduce((a, b) => a + b, 0) };
}

/** Run `cmd args` on CPU 1; resolves with its stdout once it exits 0. */
export function runPinned(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', '1', cmd, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** Run a script's main; any failure ends it with one line on stderr (exit 2 for bad arguments, 1 otherwise). */
export async function runScript(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
