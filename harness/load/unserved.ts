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
