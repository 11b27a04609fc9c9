/**
 * Workloads by name: what each is, where its server protocol lives, and the
 * rules only it knows. Sans-IO like everything in workloads/: no driver is
 * imported here (the load side maps workloads to its drivers in
 * harness/load/drivers.ts), and a strategy rebuilds a protocol from the
 * spec's module alone.
 */
import type { ProtocolOptions, ProtocolSpec } from '../core/protocol.js';
import { httpMicroOps } from './http/micro.js';
import { HTTP_ERROR_PREFIX } from './http/response-reader.js';

/** A cell's outcome that the runner cannot judge without knowing the workload. */
export interface WorkloadVerdict {
  status: 'failed' | 'capped';
  reason: string;
}

export interface Workload {
  readonly name: string;
  /** One line for `iomodels list`. */
  readonly description: string;
  /** What one op is, for reports: "round trip", "request", "message". */
  readonly opUnit: string;
  /** URL of the module that builds its server protocol (core's ProtocolModule). */
  readonly module: string;
  /** URL of the module that builds its client half (core's ClientModule), run by the load transports. */
  readonly client: string;
  /** The most load threads its client can be split over (chat: 1, its ledger is one per group); absent: any. */
  readonly maxLoadThreads?: number;
  /**
   * What an idle connection of this workload does before it falls silent
   * (`bench --idle`): echo only connects; http sends one request and reads
   * its response, then stays in keep-alive. Absent: the workload has no idle
   * connections (a chat client receives every broadcast, so it is never idle).
   */
  readonly idle?: 'connect' | 'http-request';
  /** Figures in the driver's `extra` that are counts over the window, reported per second too (`<name>PerSec`). */
  readonly perSecond?: readonly string[];
  /**
   * The workload's own checks of a cell's errors (the driver's, and its idle
   * connections' as "idle <kind>"), beyond `verify` (chat: exactly once, in order).
   */
  verdict?(errors: Readonly<Record<string, number>>): WorkloadVerdict | undefined;
  /** Per-operation costs for `iomodels micro` (e.g. HTTP parse). */
  microOps?(): { name: string; fn: () => void }[];
}

const moduleUrl = (path: string): string => new URL(path, import.meta.url).href;

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'echo',
    description: 'every byte sent back unchanged; closed-loop round trips, byte-exact verification',
    opUnit: 'round trip',
    module: moduleUrl('./echo/protocol.js'),
    client: moduleUrl('./echo/client.js'),
    idle: 'connect',
  },
  {
    name: 'chat',
    description: 'group chat: every line broadcast to every client, sender included; exactly-once, per-sender order verified',
    opUnit: 'message',
    module: moduleUrl('./chat/protocol.js'),
    client: moduleUrl('./chat/client.js'),
    maxLoadThreads: 1,
    perSecond: ['deliveries'],
    verdict(errors) {
      // Any lost, duplicated or reordered delivery: the server broke the group's promise.
      const bad = (['lost', 'duplicated', 'reordered'] as const).filter((k) => (errors[k] ?? 0) > 0).map((k) => `${errors[k] ?? 0} ${k}`);
      return bad.length === 0 ? undefined : { status: 'failed', reason: `delivery check failed: ${bad.join(', ')} messages` };
    },
  },
  {
    name: 'http',
    description: "HTTP/1.1 keep-alive: GET / returns the seed's page, our own parser; status, length and body verified",
    opUnit: 'request',
    module: moduleUrl('./http/protocol.js'),
    client: moduleUrl('./http/client.js'),
    idle: 'http-request',
    microOps: httpMicroOps,
    verdict(errors) {
      // Any reply of the wrong status, a wrong body, or a stream that could not be framed.
      const bad = Object.entries(errors)
        .filter(([k, n]) => n > 0 && (k.startsWith(HTTP_ERROR_PREFIX) || k.startsWith(`idle ${HTTP_ERROR_PREFIX}`)))
        .sort((a, b) => b[1] - a[1]);
      if (bad.length === 0) return undefined;
      const total = bad.reduce((s, [, n]) => s + n, 0);
      return { status: 'failed', reason: `verification failed: ${total} wrong replies (${bad.map(([k, n]) => `${k} ×${n}`).join(', ')})` };
    },
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

/** The serializable spec of `workload`'s protocol with `options`. */
export function protocolSpec(workload: string, options: ProtocolOptions): ProtocolSpec {
  return { workload, options, module: getWorkload(workload).module };
}
