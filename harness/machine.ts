/** Facts about this machine for results.json and report titles. */
import { execFileSync } from 'node:child_process';
import * as os from 'node:os';
import type { MachineInfo } from '../core/results.js';

/** The fd limit of this process (soft: what children inherit; hard: how far it may be raised). */
export function fdLimit(which: 'soft' | 'hard' = 'soft'): number {
  try {
    const out = execFileSync('sh', ['-c', which === 'soft' ? 'ulimit -n' : 'ulimit -Hn'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  } catch {
    return 1024;
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    kernel: `${os.type()} ${os.release()}`,
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    ulimitN: fdLimit(),
    totalMemBytes: os.totalmem(),
    hostname: os.hostname(),
  };
}
