/**
 * poll(2): an array of struct pollfd { fd, events, revents } handed to the
 * kernel on every call, which writes revents; we scan the array for non-zero
 * revents. No FD_SETSIZE limit, but still O(watched fds) per wait, both in
 * the kernel and here.
 */
import * as sys from '../sys/index.js';
import { BaseSelector, EVENT_READ, EVENT_WRITE, type Ready, type SelectorKey } from './selector.js';

const READ_BITS = sys.POLLIN | sys.POLLERR | sys.POLLHUP | sys.POLLNVAL;
const WRITE_BITS = sys.POLLOUT | sys.POLLERR | sys.POLLHUP | sys.POLLNVAL;

function pollEvents(events: number): number {
  return ((events & EVENT_READ) !== 0 ? sys.POLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? sys.POLLOUT : 0);
}

export class PollSelector<T> extends BaseSelector<T> {
  readonly name = 'poll';
  #buf: Buffer = sys.allocBuffer(0);
  #fds: Int32Array = new Int32Array(0);
  #ev: Int16Array = new Int16Array(0);
  #n = 0;
  /** slot of each fd in the pollfd array, indexed by fd. */
  readonly #slot: number[] = [];
  /** key of each slot. */
  readonly #slotKey: SelectorKey<T>[] = [];

  constructor(initialCapacity = 64) {
    super();
    this.#grow(initialCapacity);
  }

  #grow(capacity: number): void {
    const buf = sys.allocBuffer(capacity * sys.POLLFD_SIZE);
    this.#buf.copy(buf, 0, 0, this.#n * sys.POLLFD_SIZE);
    this.#buf = buf;
    this.#fds = new Int32Array(buf.buffer, buf.byteOffset, capacity * 2);
    this.#ev = new Int16Array(buf.buffer, buf.byteOffset, capacity * 4);
  }

  protected add(key: SelectorKey<T>): void {
    const i = this.#n;
    if ((i + 1) * sys.POLLFD_SIZE > this.#buf.length) this.#grow(Math.max(64, i * 2));
    this.#fds[i * 2] = key.fd;
    this.#ev[i * 4 + 2] = pollEvents(key.events);
    this.#ev[i * 4 + 3] = 0;
    this.#slot[key.fd] = i;
    this.#slotKey[i] = key;
    this.#n = i + 1;
  }

  protected remove(key: SelectorKey<T>): void {
    const i = this.#slot[key.fd];
    if (i === undefined) return;
    // Keep the array dense: move the last slot into the hole.
    const last = this.#n - 1;
    const moved = this.#slotKey[last];
    if (i !== last && moved !== undefined) {
      this.#fds[i * 2] = this.#fds[last * 2] ?? -1;
      this.#ev[i * 4 + 2] = this.#ev[last * 4 + 2] ?? 0;
      this.#ev[i * 4 + 3] = 0;
      this.#slotKey[i] = moved;
      this.#slot[moved.fd] = i;
    }
    this.#slotKey.length = last;
    this.#n = last;
  }

  protected change(key: SelectorKey<T>): void {
    const i = this.#slot[key.fd];
    if (i !== undefined) this.#ev[i * 4 + 2] = pollEvents(key.events);
  }

  protected release(): void {
    this.#n = 0;
    this.#slotKey.length = 0;
  }

  select(timeoutMs: number): Ready<T> {
    this.checkOpen();
    const ready = this.ready;
    ready.count = 0;
    const n = sys.poll(this.#buf, this.#n, timeoutMs);
    if (n < 0) {
      if (n === -sys.EINTR) return ready;
      throw new sys.SysError('poll', -n);
    }
    let found = 0;
    const ev = this.#ev;
    for (let i = 0; found < n && i < this.#n; i++) {
      const re = ev[i * 4 + 3] ?? 0;
      if (re === 0) continue;
      found++;
      const key = this.#slotKey[i];
      if (key === undefined) continue;
      const mask =
        (((re & READ_BITS) !== 0 ? EVENT_READ : 0) | ((re & WRITE_BITS) !== 0 ? EVENT_WRITE : 0)) & key.events;
      if (mask !== 0) this.push(key, mask);
    }
    return ready;
  }
}
