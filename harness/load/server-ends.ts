/**
 * The server's end of a load connection as the kernel holds it, from
 * /proc/net/tcp (Linux, IPv4, a target on this host). A client sees its
 * connect() return once the kernel has finished the handshake, whether or
 * not the server has called accept(2): in a connect storm against a busy
 * server, thousands can sit in the listener's accept queue for seconds, and
 * a window that closes on them must say so rather than count them as held.
 *
 * In /proc/net/tcp a socket that no process has accepted yet has inode 0
 * (no file is attached to it until accept(2)); a SYN_RECV row is a
 * handshake the server's kernel has not finished (its last ACK was dropped
 * while the accept queue was full; the client already counts it connected).
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/**
 * queued: in the listener's accept queue (the kernel accepted it, the
 * server has not taken it); taken: accept(2)ed; handshake: SYN_RECV (the
 * server's kernel retransmits its SYN-ACK and finishes it on the client's
 * ACK); none: no server end at all (a SYN cookie's connection whose ACK
 * was dropped: only the client's next segment can finish it).
 */
export type ServerEnd = 'queued' | 'taken' | 'handshake' | 'none';

const ESTABLISHED = '01';
const SYN_RECV = '03';
const LISTEN = '0A';

/** An IPv4 address and port as /proc/net/tcp prints them (the address in host byte order, little-endian here). */
function procAddr(ip: string, port: number): string | undefined {
  if (!net.isIPv4(ip)) return undefined;
  const hex = ip
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
  return `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** What the kernel holds for one listener: connections by where their server end is. */
export interface ListenerView {
  /** In the accept queue: the kernel accepted them, the server has not taken them. */
  readonly queued: number;
  /** Handshakes the server's kernel has not finished (SYN_RECV). */
  readonly handshaking: number;
  /** Taken by the server (accept(2) returned them) and not yet closed. */
  readonly taken: number;
}

/** The rows of /proc/net/tcp whose local end is `local`, and whether the listener itself is among them. */
function rowsAt(local: string): { listening: boolean; ends: Map<string, { st: string; inode: string }> } | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'latin1');
  } catch {
    return undefined;
  }
  let listening = false;
  /** Remote address → the server end's state and inode. */
  const ends = new Map<string, { st: string; inode: string }>();
  for (const line of text.split('\n')) {
    // sl local_address rem_address st tx_queue:rx_queue tr:when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/);
    if (f[1] !== local) continue;
    if (f[3] === LISTEN) listening = true;
    else if (f[2] !== undefined && f[3] !== undefined) ends.set(f[2], { st: f[3], inode: f[9] ?? '0' });
  }
  return { listening, ends };
}

/** The listener on `host`:`port` as the kernel holds it; undefined where it is not visible here. */
export function listenerView(host: string, port: number): ListenerView | undefined {
  const local = procAddr(host, port);
  const rows = local === undefined ? undefined : rowsAt(local);
  if (rows?.listening !== true) return undefined;
  let queued = 0;
  let handshaking = 0;
  let taken = 0;
  for (const e of rows.ends.values()) {
    if (e.st === SYN_RECV) handshaking++;
    else if (e.st === ESTABLISHED) {
      if (e.inode === '0') queued++;
      else taken++;
    }
  }
  return { queued, handshaking, taken };
}

/**
 * Where the kernel holds the server end of each client connection
 * (`clients`: the client sockets' own address and port) to the listener on
 * `host`:`port`; undefined when that listener is not visible here (not
 * Linux, IPv6, a remote target): nothing can be said then.
 */
export function serverEnds(host: string, port: number, clients: readonly { readonly host: string; readonly port: number }[]): (ServerEnd | undefined)[] | undefined {
  const local = procAddr(host, port);
  const rows = local === undefined ? undefined : rowsAt(local);
  if (rows?.listening !== true) return undefined;
  return clients.map((c) => {
    const key = procAddr(c.host, c.port);
    if (key === undefined) return undefined;
    const e = rows.ends.get(key);
    if (e === undefined) return 'none';
    if (e.st === SYN_RECV) return 'handshake';
    if (e.inode === '0' && e.st === ESTABLISHED) return 'queued';
    return 'taken';
  });
}

/** The error kind of a connection left unanswered for the whole window, by where the server end is; undefined: not counted here. */
export function unservedKind(end: ServerEnd | undefined): string | undefined {
  if (end === 'queued') return 'not accepted';
  if (end === 'handshake' || end === 'none') return 'handshake unfinished';
  return undefined;
}
