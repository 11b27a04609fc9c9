/**
 * micro.json (and results.json's `micro` section): what `iomodels micro`
 * measured, a contract like results.json.
 */
import type { MachineInfo } from './results.js';

export const MICRO_SCHEMA_VERSION = 1;

export type WaitMechanism = 'select' | 'poll' | 'epoll' | 'sigio';

export interface WaitPoint {
  mechanism: WaitMechanism;
  /** fds watched by the call: idle ones plus the one ready fd. */
  fds: number;
  nsPerWait: number;
  /** Relative margin of error of the mean, %. */
  rme: number;
}

export interface OpPoint {
  name: string;
  nsPerOp: number;
  rme: number;
}

export interface MicroResults {
  schemaVersion: typeof MICRO_SCHEMA_VERSION;
  kind: 'iomodels-micro';
  startedAt: string;
  machine: MachineInfo;
  /** ms tinybench spent per task. */
  timeMs: number;
  wait: WaitPoint[];
  /** FFI and syscall costs for context; parse costs per workload. */
  ops: OpPoint[];
  /** Why a point is missing (select past FD_SETSIZE, epoll off Linux …). */
  notes: string[];
}

