/**
 * Echo messages carry their connection id and sequence number, and every
 * byte is a function of (id, seq, offset), so a mis-routed, reordered or
 * corrupted echo fails verification at the first wrong byte.
 */

import type { ProtocolOptions } from '../../core/protocol.js';

export const ECHO_DEFAULT_MESSAGE_SIZE = 64;

/** The message size both drivers use: protocol.messageSize, else 64 bytes. */
export function echoMessageSize(opts: { readonly protocol: ProtocolOptions }): number {
  const v = opts.protocol['messageSize'];
  return typeof v === 'number' ? v : ECHO_DEFAULT_MESSAGE_SIZE;
}

/** Bytes of header (u32 connection id, u32 sequence) when the message has room. */
export const HEADER_BYTES = 8;

/** Write message (id, seq) into `buf` (its whole length). */
export function fillMessage(buf: Uint8Array, id: number, seq: number): void {
  fillMessageAt(buf, 0, buf.length, id, seq);
}

/**
 * Write message (id, seq) of `len` bytes into buf[off, off+len). The same
 * bytes as fillMessage, without a view per call: the selector driver fills
 * messages straight into its preallocated slabs.
 */
export function fillMessageAt(buf: Uint8Array, off: number, len: number, id: number, seq: number): void {
  const seed = (Math.imul(id, 131) + Math.imul(seq, 17) + 7) & 0xff;
  for (let i = 0; i < len; i++) buf[off + i] = (seed + Math.imul(i, 7)) & 0xff;
  if (len >= HEADER_BYTES) {
    // Big-endian u32 id, then u32 seq.
    buf[off] = (id >>> 24) & 0xff;
    buf[off + 1] = (id >>> 16) & 0xff;
    buf[off + 2] = (id >>> 8) & 0xff;
    buf[off + 3] = id & 0xff;
    buf[off + 4] = (seq >>> 24) & 0xff;
    buf[off + 5] = (seq >>> 16) & 0xff;
    buf[off + 6] = (seq >>> 8) & 0xff;
    buf[off + 7] = seq & 0xff;
  }
}

/**
 * Compare `got` with `expected[offset…]`. Returns -1 when they match, or the
 * index in `got` of the first byte that differs.
 */
export function firstMismatch(expected: Uint8Array, offset: number, got: Uint8Array): number {
  return firstMismatchAt(expected, offset, expected.length - offset, got, 0, got.length);
}

/**
 * Compare got[gotOff, gotOff+n) with the `expLen`-byte message at
 * expected[expOff…]. Returns -1 when they match, or the index (relative to
 * gotOff) of the first byte that differs; running past the message's end is
 * a mismatch at the first byte beyond it.
 */
export function firstMismatchAt(
  expected: Uint8Array,
  expOff: number,
  expLen: number,
  got: Uint8Array,
  gotOff: number,
  n: number,
): number {
  if (n > expLen) return Math.max(0, expLen);
  for (let i = 0; i < n; i++) if (expected[expOff + i] !== got[gotOff + i]) return i;
  return -1;
}
