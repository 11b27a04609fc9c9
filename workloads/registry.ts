/**
 * Workloads by name. Each workload is one folder with both halves: the
 * sans-IO server Protocol and the client driver that loads and verifies it.
 */
import { runChatDriver } from './chat/driver.js';
import { createChatProtocol } from './chat/protocol.js';
import type { DriverOptions, DriverResult } from './driver.js';
import { runEchoDriver } from './echo/driver.js';
import { createEchoProtocol } from './echo/protocol.js';
import { runHttpDriver } from './http/driver.js';
import { createHttpProtocol } from './http/protocol.js';
import { httpMicroOps } from './http/micro.js';
import type { Protocol, ProtocolOptions, ProtocolSpec } from './protocol.js';

export interface Workload {
  readonly name: string;
  /** One line for `iomodels list`. */
  readonly description: string;
  /** What one op is, for reports: "round trip", "request", "message". */
  readonly opUnit: string;
  createProtocol(options: ProtocolOptions): Protocol;
  runDriver(opts: DriverOptions): Promise<DriverResult>;
  /**
   * What an idle connection of this workload does before it falls silent
   * (`bench --idle`): echo only connects; http sends one request and reads
   * its response, then stays in keep-alive. Absent: the workload has no idle
   * connections (a chat client receives every broadcast, so it is never idle).
   */
  readonly idle?: 'connect' | 'http-request';
  /** Per-operation costs for `iomodels micro` (e.g. HTTP parse). */
  microOps?(): { name: string; fn: () => void }[];
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'echo',
    description: 'every byte sent back unchanged; closed-loop round trips, byte-exact verification',
    opUnit: 'round trip',
    idle: 'connect',
    createProtocol: () => createEchoProtocol(),
    runDriver: runEchoDriver,
  },
  {
    name: 'chat',
    description: 'group chat: every line broadcast to every client, sender included; exactly-once, per-sender order verified',
    opUnit: 'message',
    createProtocol: (o) => createChatProtocol(o),
    runDriver: runChatDriver,
  },
  {
    name: 'http',
    description: "HTTP/1.1 keep-alive: GET / returns the seed's page, our own parser; status, length and body verified",
    opUnit: 'request',
    idle: 'http-request',
    createProtocol: (o) => createHttpProtocol(o),
    runDriver: runHttpDriver,
    microOps: httpMicroOps,
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
