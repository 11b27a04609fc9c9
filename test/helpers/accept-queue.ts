/**
 * What the kernel holds for a test server's listener that the server has
 * not taken yet (harness/load/server-ends.ts reads it from /proc/net/tcp,
 * Linux). A client cannot see the server's accept(2); the kernel can. When
 * nothing is queued or half-done and every client's connect() has
 * returned, the server has accepted them all.
 */
import { listenerView, type ListenerView } from '../../harness/load/server-ends.js';

export type PendingAccepts = ListenerView;

/** The listener on 127.0.0.1:`port`, or undefined where the kernel cannot be asked (not Linux). */
export function pendingAccepts(port: number): Promise<PendingAccepts | undefined> {
  return Promise.resolve(listenerView('127.0.0.1', port));
}
