/** The Hub of a single-threaded strategy: fan-out over a set of live conns. */
import type { Conn, Hub } from '../core/protocol.js';

export class LocalHub implements Hub {
  readonly #conns = new Set<Conn>();

  add(conn: Conn): void {
    this.#conns.add(conn);
  }

  delete(conn: Conn): void {
    this.#conns.delete(conn);
  }

  get size(): number {
    return this.#conns.size;
  }

  broadcast(bytes: Uint8Array): void {
    // A write may close a slow consumer and remove it from the set while we
    // iterate; Set iteration tolerates deletion of visited entries.
    for (const c of this.#conns) c.write(bytes);
  }
}
