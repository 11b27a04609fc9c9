/**
 * SO_SNDBUF for the node:net strategies (libuv, node-http). node:net has no
 * option for it, so it is set on the listening fd after listen(2); accepted
 * sockets inherit it from the listener (Linux, the BSDs). The FFI is loaded
 * only when a size is asked for, so a default libuv run never loads koffi.
 */
import type * as net from 'node:net';
import { bump, type ServerCounters } from '../core/strategy.js';

export type SndbufSetter = (server: net.Server) => void;

/**
 * Resolve a setter to call synchronously in the listen callback (no await
 * between listen and setsockopt, so no connection is accepted in between
 * with the default buffer). `bytes` 0: a no-op that loads nothing.
 */
export async function listenerSndbuf(bytes: number): Promise<SndbufSetter> {
  if (bytes <= 0) return () => undefined;
  const sys = await import('./sys/index.js');
  return (server) => {
    // `_handle` is Node's internal TCPWrap and `fd` its descriptor on Unix
    // (-1 on Windows); neither is typed. This is the only untyped access.
    const fd = (server as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new Error('cannot reach the listening fd of node:net here, so SO_SNDBUF cannot be set');
    sys.setSendBuffer(fd, bytes);
  };
}

/**
 * listen() for the node:net strategies: bind, set SO_SNDBUF before any
 * connection is accepted, and count later listener errors instead of
 * crashing. Resolves with the bound address.
 */
export async function listenNodeServer(
  server: net.Server,
  o: { host: string; port: number; backlog: number; sndbufBytes: number; counters: ServerCounters },
): Promise<{ host: string; port: number }> {
  const setSndbuf = await listenerSndbuf(o.sndbufBytes);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, backlog: o.backlog }, () => {
      server.off('error', reject);
      try {
        setSndbuf(server);
      } catch (err) {
        server.close();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      server.on('error', () => bump(o.counters, 'errors: listen'));
      const addr = server.address() as net.AddressInfo;
      resolve({ host: addr.address, port: addr.port });
    });
  });
}
