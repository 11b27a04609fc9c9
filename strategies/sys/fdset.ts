/**
 * fd_set as the seed draws it: a 1024-bit bitmap (FD_SETSIZE bits), one per
 * interest (read, write). Bit n is byte n>>3, bit n&7 on every little-endian
 * platform we run on, whatever word size libc uses for the array.
 */
import { FD_SETSIZE, FD_SET_BYTES } from './constants.js';
import { FdSetSizeError } from './errors.js';
import { allocBuffer } from './libc.js';

export class FdSet {
  /** The bitmap passed to select(2). */
  readonly bits: Buffer = allocBuffer(FD_SET_BYTES);

  /** FD_SET. An fd >= FD_SETSIZE would write past the bitmap: refused. */
  set(fd: number): void {
    if (fd < 0 || fd >= FD_SETSIZE) throw new FdSetSizeError(fd, FD_SETSIZE);
    this.bits[fd >> 3] = (this.bits[fd >> 3] ?? 0) | (1 << (fd & 7));
  }

  /** FD_CLR (ignores fds that cannot be in the set). */
  clear(fd: number): void {
    if (fd < 0 || fd >= FD_SETSIZE) return;
    this.bits[fd >> 3] = (this.bits[fd >> 3] ?? 0) & ~(1 << (fd & 7));
  }

  /** FD_ISSET. */
  has(fd: number): boolean {
    if (fd < 0 || fd >= FD_SETSIZE) return false;
    return ((this.bits[fd >> 3] ?? 0) & (1 << (fd & 7))) !== 0;
  }

  /** FD_ZERO. */
  zero(): void {
    this.bits.fill(0);
  }

  /** Copy another set's bits into this one (select overwrites its input). */
  copyFrom(other: FdSet): void {
    other.bits.copy(this.bits, 0, 0, FD_SET_BYTES);
  }
}
