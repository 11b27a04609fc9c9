/**
 * Protocols for the blocking strategy's tests, loaded by its pool threads
 * from their spec's module, as any protocol (they are not workloads).
 * - kind "throw": echo, but a message containing "boom" throws.
 * - kind "fanout": every newline-terminated line goes through Hub.broadcast;
 *   the line "size?" is answered (to its sender only) with "size N".
 */
import type { Conn, Hub, Protocol, ProtocolOptions, Session } from '../../core/protocol.js';

const BOOM = Buffer.from('boom');

export function createProtocol(options: ProtocolOptions): Protocol {
  if (options['kind'] === 'throw') {
    return {
      open(conn: Conn): Session {
        return {
          onData(bytes) {
            if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).includes(BOOM)) throw new Error('fixture: boom');
            conn.write(bytes);
          },
          onClose() {},
        };
      },
    };
  }
  return {
    open(conn: Conn, hub: Hub): Session {
      let partial = Buffer.alloc(0);
      return {
        onData(bytes) {
          partial = Buffer.concat([partial, bytes]);
          let nl: number;
          while ((nl = partial.indexOf(0x0a)) >= 0) {
            const line = partial.subarray(0, nl + 1);
            partial = partial.subarray(nl + 1);
            if (line.toString() === 'size?\n') conn.write(Buffer.from(`size ${hub.size}\n`));
            else hub.broadcast(line);
          }
        },
        onClose() {},
      };
    },
  };
}
