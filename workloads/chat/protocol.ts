/**
 * Group chat, the seed's ChatServer: every newline-terminated line a client
 * sends goes through the Hub to every connected client, the sender
 * included. `quit` (a line) or EOF leaves. A line longer than the limit
 * closes its connection with an error line, so one client cannot make the
 * server buffer without bound. Slow receivers are the strategy's business:
 * it closes a connection whose write queue passes the cap and counts it
 * under `overflowReason`.
 */
import { GrowBuffer } from '../grow-buffer.js';
import type { Conn, Hub, Protocol, ProtocolOptions, Session } from '../../core/protocol.js';

/** Longest line accepted, newline excluded. */
export const CHAT_MAX_LINE = 64 * 1024;

const NL = 0x0a;
const CR = 0x0d;

function isQuit(b: Uint8Array, start: number, end: number): boolean {
  // "quit" or "quit\r" (a telnet user's line ending).
  let n = end - start;
  if (n === 5 && b[end - 1] === CR) n = 4;
  return n === 4 && b[start] === 0x71 && b[start + 1] === 0x75 && b[start + 2] === 0x69 && b[start + 3] === 0x74;
}

export function chatMaxLine(options: ProtocolOptions): number {
  const v = options['chatMaxLine'];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : CHAT_MAX_LINE;
}

export function createProtocol(options: ProtocolOptions = {}): Protocol {
  const maxLine = chatMaxLine(options);
  const tooLong = new TextEncoder().encode(`error: line longer than ${maxLine} bytes\n`);
  return {
    overflowReason: 'slow consumer',
    open(conn: Conn, hub: Hub): Session {
      /** The start of a line that has not ended yet (copied: views die with the call). */
      const partial = new GrowBuffer(64);
      let done = false;

      const fail = (): void => {
        done = true;
        partial.clear();
        conn.write(tooLong);
        conn.close();
      };

      return {
        onData(bytes) {
          if (done) return;
          let off = 0;
          if (partial.length > 0) {
            const nl = bytes.indexOf(NL);
            if (partial.length + (nl < 0 ? bytes.length : nl) > maxLine) return fail();
            if (nl < 0) {
              partial.append(bytes);
              return;
            }
            partial.append(bytes.subarray(0, nl + 1));
            const line = partial.view().slice();
            partial.clear();
            off = nl + 1;
            if (isQuit(line, 0, line.length - 1)) {
              done = true;
              conn.close();
              return;
            }
            hub.broadcast(line);
          }
          // Broadcast each run of complete lines as one write per receiver:
          // the receivers see the same bytes in the same order, with far
          // fewer writes than one per line.
          const runStart = off;
          while (off < bytes.length) {
            const nl = bytes.indexOf(NL, off);
            if (nl < 0) break;
            if (nl - off > maxLine || isQuit(bytes, off, nl)) {
              if (runStart < off) hub.broadcast(bytes.subarray(runStart, off));
              if (nl - off > maxLine) return fail();
              done = true;
              conn.close();
              return;
            }
            off = nl + 1;
          }
          if (runStart < off) hub.broadcast(bytes.subarray(runStart, off));
          if (off < bytes.length) {
            if (bytes.length - off > maxLine) return fail();
            partial.append(bytes.subarray(off));
          }
        },
        onClose() {
          done = true;
          partial.clear();
        },
      };
    },
  };
}
