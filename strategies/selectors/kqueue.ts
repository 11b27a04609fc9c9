/**
 * kqueue(2), macOS/BSD: epoll's peer. Read and write interest are separate
 * filters (EVFILT_READ, EVFILT_WRITE), registered in the kernel once, and
 * kevent returns only what is ready, so a key can be reported twice in one
 * select() (once per filter), as in Python's KqueueSelector.
 */
import * as sys from '../sys/index.js';
import { BaseSelector, EVENT_READ, EVENT_WRITE, type Ready, type SelectorKey } from './selector.js';

export class KqueueSelector<T> extends BaseSelector<T> {
  readonly name = 'kqueue';
  readonly #kq: number;
  readonly #max: number;
  readonly #events: Buffer;
  readonly #changes = sys.allocBuffer(2 * sys.KEVENT_SIZE);

  constructor(maxEvents = 1024) {
    super();
    this.#kq = sys.kqueue();
    this.#max = maxEvents;
    this.#events = sys.allocBuffer(maxEvents * sys.KEVENT_SIZE);
  }

  #writeChange(i: number, fd: number, filter: number, flags: number): void {
    const b = this.#changes;
    const o = i * sys.KEVENT_SIZE;
    b.fill(0, o, o + sys.KEVENT_SIZE);
    b.writeUInt32LE(fd, o + sys.KEVENT_IDENT_OFFSET);
    b.writeInt16LE(filter, o + sys.KEVENT_FILTER_OFFSET);
    b.writeUInt16LE(flags, o + sys.KEVENT_FLAGS_OFFSET);
  }

  /** Apply adds for `on` bits and deletes for `off` bits; throws only if `strict`. */
  #apply(fd: number, on: number, off: number, strict: boolean): void {
    let n = 0;
    if ((on & EVENT_READ) !== 0) this.#writeChange(n++, fd, sys.EVFILT_READ, sys.EV_ADD);
    if ((on & EVENT_WRITE) !== 0) this.#writeChange(n++, fd, sys.EVFILT_WRITE, sys.EV_ADD);
    if ((off & EVENT_READ) !== 0) this.#writeChange(n++, fd, sys.EVFILT_READ, sys.EV_DELETE);
    if ((off & EVENT_WRITE) !== 0) this.#writeChange(n++, fd, sys.EVFILT_WRITE, sys.EV_DELETE);
    if (n === 0) return;
    const rc = sys.kevent(this.#kq, this.#changes, n, null, 0, 0);
    if (rc < 0 && strict) throw new sys.SysError('kevent', -rc, `fd ${fd}`);
  }

  protected add(key: SelectorKey<T>): void {
    this.#apply(key.fd, key.events, 0, true);
  }

  protected remove(key: SelectorKey<T>): void {
    // Closing an fd removes its filters, so errors here mean "already gone".
    this.#apply(key.fd, 0, key.events, false);
  }

  protected change(key: SelectorKey<T>, old: number): void {
    this.#apply(key.fd, key.events & ~old, old & ~key.events, true);
  }

  protected release(): void {
    sys.close(this.#kq);
  }

  select(timeoutMs: number): Ready<T> {
    this.checkOpen();
    const ready = this.ready;
    ready.count = 0;
    const n = sys.kevent(this.#kq, null, 0, this.#events, this.#max, timeoutMs);
    if (n < 0) {
      if (n === -sys.EINTR) return ready;
      throw new sys.SysError('kevent', -n);
    }
    const b = this.#events;
    for (let i = 0; i < n; i++) {
      const o = i * sys.KEVENT_SIZE;
      const key = this.keys[b.readUInt32LE(o + sys.KEVENT_IDENT_OFFSET)];
      if (key === undefined) continue;
      const filter = b.readInt16LE(o + sys.KEVENT_FILTER_OFFSET);
      const ev = filter === sys.EVFILT_READ ? EVENT_READ : filter === sys.EVFILT_WRITE ? EVENT_WRITE : 0;
      const mask = ev & key.events;
      if (mask !== 0) this.push(key, mask);
    }
    return ready;
  }
}
