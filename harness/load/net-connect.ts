/** node:net connects with a deadline, for the drivers that use libuv. */
import * as net from 'node:net';

export type ConnectOutcome = { ok: true; socket: net.Socket } | { ok: false; kind: string };

export function connectWithTimeout(host: string, port: number, timeoutMs: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, kind: 'connect timeout' });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ ok: true, socket });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, kind: `connect ${err.code ?? 'error'}` });
    });
  });
}

/** Error kind for a socket error after connect. */
export function socketErrorKind(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return 'reset';
  return err.code ?? 'socket error';
}
