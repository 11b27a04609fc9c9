/** Echo: every byte received is sent back unchanged, in order. */
import type { Conn, Protocol, Session } from '../../core/protocol.js';

export function createProtocol(): Protocol {
  return {
    open(conn: Conn): Session {
      return {
        // Conn.write sends or copies before returning, so the receive view
        // can go straight back out without a copy of our own.
        onData(bytes) {
          conn.write(bytes);
        },
        onClose() {},
      };
    },
  };
}
