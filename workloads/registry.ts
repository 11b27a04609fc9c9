/**
 * Workloads by name. Each workload is one folder with both halves: the
 * sans-IO server Protocol and the client driver that loads and verifies it.
 */
import type { DriverOptions, DriverResult } from './driver.js';
import { runEchoDriver } from './echo/driver.js';
import { createEchoProtocol } from './echo/protocol.js';
import type { Protocol, ProtocolOptions, ProtocolSpec } from './protocol.js';

export interface Workload {
  readonly name: string;
  /** One line for `iomodels list`. */
  readonly description: string;
  /** What one op is, for reports: "round trip", "request", "message". */
  readonly opUnit: string;
  createProtocol(options: ProtocolOptions): Protocol;
  runDriver(opts: DriverOptions): Promise<DriverResult>;
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'echo',
    description: 'every byte sent back unchanged; closed-loop round trips, byte-exact verification',
    opUnit: 'round trip',
    createProtocol: () => createEchoProtocol(),
    runDriver: runEchoDriver,
  },
];

export function workloadNames(): string[] {
  return WORKLOADS.map((w) => w.name);
}

export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}

export function getWorkload(name: string): Workload {
  const w = findWorkload(name);
  if (w === undefined) throw new Error(`unknown workload "${name}" (valid: ${workloadNames().join(', ')})`);
  return w;
}

/** Build a protocol from its serializable spec (in any thread). */
export function createProtocol(spec: ProtocolSpec): Protocol {
  return getWorkload(spec.workload).createProtocol(spec.options);
}
