/**
 * select(2): the kernel is handed two 1024-bit bitmaps (read, write) on every
 * call and hands back the ready bits; we then scan every bit up to the
 * highest fd. O(highest fd) per wait, and an fd >= FD_SETSIZE cannot be
 * expressed at all: register() refuses it (FdSetSizeError) instead of
 * writing past the bitmap, which is what FD_SET does in C.
 */
import * as sys from '../sys/index.js';
import { BaseSelector, EVENT_READ, EVENT_WRITE, type Ready, type SelectorKey } from './selector.js';

export class SelectSelector<T> extends BaseSelector<T> {
  readonly name = 'select';
  readonly #readMaster = new sys.FdSet();
  readonly #writeMaster = new sys.FdSet();
  // select() overwrites its input sets, so it gets copies of the masters.
  readonly #readWork = new sys.FdSet();
  readonly #writeWork = new sys.FdSet();
  #maxFd = -1;

  protected add(key: SelectorKey<T>): void {
    if (key.fd >= sys.FD_SETSIZE) throw new sys.FdSetSizeError(key.fd, sys.FD_SETSIZE);
    this.#set(key);
    if (key.fd > this.#maxFd) this.#maxFd = key.fd;
  }

  protected remove(key: SelectorKey<T>): void {
    this.#readMaster.clear(key.fd);
    this.#writeMaster.clear(key.fd);
    if (key.fd === this.#maxFd) {
      let m = key.fd - 1;
      while (m >= 0 && this.keys[m] === undefined) m--;
      this.#maxFd = m;
    }
  }

  protected change(key: SelectorKey<T>): void {
    this.#readMaster.clear(key.fd);
    this.#writeMaster.clear(key.fd);
    this.#set(key);
  }

  #set(key: SelectorKey<T>): void {
    if ((key.events & EVENT_READ) !== 0) this.#readMaster.set(key.fd);
    if ((key.events & EVENT_WRITE) !== 0) this.#writeMaster.set(key.fd);
  }

  protected release(): void {
    this.#maxFd = -1;
    this.#readMaster.zero();
    this.#writeMaster.zero();
  }

  select(timeoutMs: number): Ready<T> {
    this.checkOpen();
    const ready = this.ready;
    ready.count = 0;
    this.#readWork.copyFrom(this.#readMaster);
    this.#writeWork.copyFrom(this.#writeMaster);
    const n = sys.select(this.#maxFd + 1, this.#readWork.bits, this.#writeWork.bits, timeoutMs);
    if (n < 0) {
      if (n === -sys.EINTR) return ready;
      throw new sys.SysError('select', -n);
    }
    if (n === 0) return ready;
    // The seed's "scan all": walk the bitmaps byte by byte up to maxFd.
    const r = this.#readWork.bits;
    const w = this.#writeWork.bits;
    const lastByte = this.#maxFd >> 3;
    for (let b = 0; b <= lastByte; b++) {
      const rb = r[b] ?? 0;
      const wb = w[b] ?? 0;
      if ((rb | wb) === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        const m = 1 << bit;
        const ev = ((rb & m) !== 0 ? EVENT_READ : 0) | ((wb & m) !== 0 ? EVENT_WRITE : 0);
        if (ev === 0) continue;
        const key = this.keys[(b << 3) | bit];
        if (key !== undefined) this.push(key, ev & key.events);
      }
    }
    return ready;
  }
}
