/**
 * SO_SNDBUF for the node:net strategies (libuv, node-http). node:net has no
 * option for it, so it is set on the listening fd after listen(2); accepted
 * sockets inherit it from the listener (Linux, the BSDs). The FFI is loaded
 * only when a size is asked for, so a default libuv run never loads koffi.
 */
import type * as net from 'node:net';

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
