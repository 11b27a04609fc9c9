/**
 * What the kernel holds for a listening port that its server has not taken
 * yet, read from /proc/net/tcp (Linux). A client cannot see the server's
 * accept(2); the kernel can: a LISTEN socket's rx_queue there is its accept
 * queue (handshakes done, accept(2) not yet called), and a SYN_RECV row is a
 * handshake the kernel has not finished on its side (its final ACK not
 * taken, e.g. dropped while the accept queue was full). When both are 0 and
 * every client's connect() has returned, the server has accepted them all.
 */
import { readFile } from 'node:fs/promises';

const LISTEN = '0A';
const SYN_RECV = '03';

export interface PendingAccepts {
  /** Connections in the accept queue: the kernel finished them, the server has not called accept(2) on them. */
  readonly queued: number;
  /** Handshakes the server's side has not finished (SYN_RECV). */
  readonly handshaking: number;
}

/**
 * The listener on 127.0.0.1:`port` as the kernel sees it, or undefined
 * where /proc/net/tcp cannot be read (not Linux) or has no such listener.
 */
export async function pendingAccepts(port: number): Promise<PendingAccepts | undefined> {
  let text: string;
  try {
    text = await readFile('/proc/net/tcp', 'latin1');
  } catch {
    return undefined;
  }
  // 127.0.0.1 in /proc's byte order, and the port as 4 upper-case hex digits.
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let queued: number | undefined;
  let handshaking = 0;
  for (const line of text.split('\n')) {
    // sl local_address rem_address st tx_queue:rx_queue …
    const f = line.trim().split(/\s+/);
    if (f[1] !== local) continue;
    if (f[3] === LISTEN) queued = Number.parseInt(f[4]?.split(':')[1] ?? '', 16);
    else if (f[3] === SYN_RECV) handshaking++;
  }
  return queued === undefined || Number.isNaN(queued) ? undefined : { queued, handshaking };
}
