/**
 * As the window closes: the connections it closes on without the server
 * having served them. An op in flight since before the window opened and
 * still unanswered when it closes is not yet a timeout (the reply timeout
 * may be longer than the window), so without this count a cell whose
 * server never took some of its connections reported 0 errors. Where the
 * kernel shows the server's end (server-ends.ts), such a connection is
 * counted by where it waits: `not accepted` (in the listener's accept queue:
 * the kernel accepted it, the server had not taken it) or `handshake
 * unfinished` (the server's kernel never finished the handshake). One the
 * server took and left unanswered is the reply timeout's business.
 */
import type { ClientSession } from '../../core/client.js';
import type { LoadRecorder } from './recorder.js';
import { serverEnds, unservedKind } from './server-ends.js';

export function countUnserved<C>(
  target: { readonly host: string; readonly port: number },
  conns: readonly (C | undefined)[],
  windowStart: number,
  rec: LoadRecorder,
  /** The session of a live connection (undefined: closed). */
  sessionOf: (c: C) => ClientSession | undefined,
  /** The connection's own address (its client end). */
  addressOf: (c: C) => { host: string; port: number },
): void {
  const waiting: C[] = [];
  for (const c of conns) {
    if (c === undefined) continue;
    if ((sessionOf(c)?.oldestInFlight() ?? Number.POSITIVE_INFINITY) < windowStart) waiting.push(c);
  }
  if (waiting.length === 0) return;
  const clients = waiting.map((c) => {
    try {
      return addressOf(c);
    } catch {
      // A socket already gone (reset this instant): nothing to look up.
      return { host: '', port: 0 };
    }
  });
  const ends = serverEnds(target.host, target.port, clients);
  if (ends === undefined) return;
  for (const end of ends) {
    const kind = unservedKind(end);
    if (kind !== undefined) rec.errorAlways(kind, 1);
  }
}

/** How often the connect phase looks whether the server has taken its connections. */
export const TAKEN_POLL_MS = 50;

/**
 * How many of the live `conns` the kernel still holds in the target's
 * accept queue or half-done (SYN_RECV, finished by a SYN-ACK retransmit):
 * connected as the client sees it, not yet taken by the server (0 where
 * the kernel cannot be asked: not Linux, a remote target).
 *
 * The connect phase waits for this to reach 0 before the load starts. A
 * connect storm outruns a server's accept loop, and Node's loop (libuv)
 * takes one new connection per loop turn: once the established ones are
 * busy, each turn serves up to a thousand of them first, so a few hundred
 * left in the queue when the load began were still there when a 5 s window
 * closed (the ten-thousand test's fresh-clone failure, 9,658 of 10,000
 * accepted). Measured load runs on connections the server holds.
 */
export function notYetTaken<C>(
  target: { readonly host: string; readonly port: number },
  conns: readonly (C | undefined)[],
  isLive: (c: C) => boolean,
  addressOf: (c: C) => { host: string; port: number },
): number {
  const clients: { host: string; port: number }[] = [];
  for (const c of conns) {
    if (c === undefined || !isLive(c)) continue;
    try {
      clients.push(addressOf(c));
    } catch {
      // Gone this instant: nothing to wait for.
    }
  }
  if (clients.length === 0) return 0;
  // Not 'none': nothing but the load's first bytes can finish those.
  return serverEnds(target.host, target.port, clients)?.filter((e) => e === 'queued' || e === 'handshake').length ?? 0;
}
