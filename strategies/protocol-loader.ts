/**
 * A protocol from its spec alone: import the module the spec names. This is
 * how a strategy, and each of its threads, gets the protocol it serves
 * without importing anything of workloads/ (a strategy moves bytes for any
 * protocol it is handed), and a pool thread loads that one module and no
 * other.
 */
import type { HttpResponder, Protocol, ProtocolModule, ProtocolSpec } from '../core/protocol.js';

function isProtocolModule(m: unknown): m is ProtocolModule {
  return typeof m === 'object' && m !== null && typeof (m as { createProtocol?: unknown }).createProtocol === 'function';
}

export async function loadProtocolModule(spec: ProtocolSpec): Promise<ProtocolModule> {
  const mod: unknown = await import(spec.module);
  if (!isProtocolModule(mod)) throw new Error(`${spec.module} (workload ${spec.workload}) exports no createProtocol(options)`);
  return mod;
}

export async function loadProtocol(spec: ProtocolSpec): Promise<Protocol> {
  return (await loadProtocolModule(spec)).createProtocol(spec.options);
}

/** The spec's HTTP responder, for a strategy that parses HTTP itself; throws for a workload that has none. */
export async function loadHttpResponder(spec: ProtocolSpec): Promise<HttpResponder> {
  const mod = await loadProtocolModule(spec);
  if (mod.createHttpResponder === undefined) throw new Error(`workload ${spec.workload} has no HTTP responder (${spec.module})`);
  return mod.createHttpResponder(spec.options);
}
