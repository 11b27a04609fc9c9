/**
 * Echo messages carry their connection id and sequence number, and every
 * byte is a function of (id, seq, offset), so a mis-routed, reordered or
 * corrupted echo fails verification at the first wrong byte.
 */

/** Bytes of header (u32 connection id, u32 sequence) when the message has room. */
export const HEADER_BYTES = 8;

/** Write message (id, seq) into `buf` (its whole length). */
export function fillMessage(buf: Uint8Array, id: number, seq: number): void {
  const seed = (Math.imul(id, 131) + Math.imul(seq, 17) + 7) & 0xff;
  const n = buf.length;
  for (let i = 0; i < n; i++) buf[i] = (seed + Math.imul(i, 7)) & 0xff;
  if (n >= HEADER_BYTES) {
    const dv = new DataView(buf.buffer, buf.byteOffset, HEADER_BYTES);
    dv.setUint32(0, id >>> 0);
    dv.setUint32(4, seq >>> 0);
  }
}

/**
 * Compare `got` with `expected[offset…]`. Returns -1 when they match, or the
 * index in `got` of the first byte that differs.
 */
export function firstMismatch(expected: Uint8Array, offset: number, got: Uint8Array): number {
  const n = got.length;
  if (offset + n > expected.length) return Math.max(0, expected.length - offset);
  for (let i = 0; i < n; i++) if (expected[offset + i] !== got[i]) return i;
  return -1;
}
