/**
 * A protocol from its spec alone: import the module the spec names. This is
 * how a strategy, and each of its threads, gets the protocol it serves
 * without importing anything of workloads/ (a strategy moves bytes for any
 * protocol it is handed), and a pool thread loads that one module and no
 * other.
 */
import type { HttpResponder, Protocol, ProtocolHost, ProtocolModule, ProtocolSpec } from '../core/protocol.js';

function isProtocolModule(m: unknown): m is ProtocolModule {
  return typeof m === 'object' && m !== null && typeof (m as { createProtocol?: unknown }).createProtocol === 'function';
}

export async function loadProtocolModule(spec: ProtocolSpec): Promise<ProtocolModule> {
  const mod: unknown = await import(spec.module);
  if (!isProtocolModule(mod)) throw new Error(`${spec.module} (workload ${spec.workload}) exports no createProtocol(options)`);
  return mod;
}

/** The option that asks for syscalls per request (`--extra-syscalls`). */
const EXTRA_SYSCALLS = 'extraSyscalls';

/**
 * The host a protocol's cost knobs run on. getpid is the cheapest real
 * syscall (glibc no longer caches it), so N of them cost N kernel crossings
 * and nothing else; libc is loaded only when they are asked for, so a
 * strategy that never calls through FFI (libuv, node-http) keeps its
 * footprint otherwise.
 */
async function hostFor(spec: ProtocolSpec): Promise<ProtocolHost | undefined> {
  const n = spec.options[EXTRA_SYSCALLS];
  if (typeof n !== 'number' || !(n > 0)) return undefined;
  const { getpid } = await import('./sys/libc.js');
  return {
    syscalls(count) {
      for (let i = 0; i < count; i++) getpid();
    },
  };
}

export async function loadProtocol(spec: ProtocolSpec): Promise<Protocol> {
  const [mod, host] = await Promise.all([loadProtocolModule(spec), hostFor(spec)]);
  return mod.createProtocol(spec.options, host);
}

/** The spec's HTTP responder, for a strategy that parses HTTP itself; throws for a workload that has none. */
export async function loadHttpResponder(spec: ProtocolSpec): Promise<HttpResponder> {
  const mod = await loadProtocolModule(spec);
  if (mod.createHttpResponder === undefined) throw new Error(`workload ${spec.workload} has no HTTP responder (${spec.module})`);
  return mod.createHttpResponder(spec.options, await hostFor(spec));
}
