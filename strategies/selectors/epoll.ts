/**
 * epoll(7), Linux: the interest list lives in the kernel (epoll_ctl once per
 * change, not per wait), and epoll_wait returns only the ready fds, copied
 * into our preallocated event array. O(ready fds) per wait. Level-triggered,
 * as select and poll are, so the same reactor runs on all three.
 */
import * as sys from '../sys/index.js';
import { BaseSelector, EVENT_READ, EVENT_WRITE, type Ready, type SelectorKey } from './selector.js';

const READ_BITS = sys.EPOLLIN | sys.EPOLLERR | sys.EPOLLHUP | sys.EPOLLRDHUP;
const WRITE_BITS = sys.EPOLLOUT | sys.EPOLLERR | sys.EPOLLHUP;
const STRIDE = sys.EPOLL_EVENT_SIZE / 4;
const DATA = sys.EPOLL_DATA_OFFSET / 4;

function epollEvents(events: number): number {
  return ((events & EVENT_READ) !== 0 ? sys.EPOLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? sys.EPOLLOUT : 0);
}

export class EpollSelector<T> extends BaseSelector<T> {
  readonly name = 'epoll';
  readonly #epfd: number;
  readonly #max: number;
  readonly #buf: Buffer;
  readonly #u32: Uint32Array;

  /** maxEvents: how many ready fds one epoll_wait may return. */
  constructor(maxEvents = 1024) {
    super();
    this.#epfd = sys.epollCreate();
    this.#max = maxEvents;
    this.#buf = sys.allocBuffer(maxEvents * sys.EPOLL_EVENT_SIZE);
    this.#u32 = new Uint32Array(this.#buf.buffer, this.#buf.byteOffset, (maxEvents * sys.EPOLL_EVENT_SIZE) / 4);
  }

  /** The epoll fd itself (e.g. to nest it in another selector). */
  get fd(): number {
    return this.#epfd;
  }

  protected add(key: SelectorKey<T>): void {
    const rc = sys.epollCtl(this.#epfd, sys.EPOLL_CTL_ADD, key.fd, epollEvents(key.events), key.fd);
    if (rc < 0) throw new sys.SysError('epoll_ctl', -rc, `ADD fd ${key.fd}`);
  }

  protected remove(key: SelectorKey<T>): void {
    // ENOENT/EBADF: the fd was closed already, which removed it from the set.
    sys.epollCtl(this.#epfd, sys.EPOLL_CTL_DEL, key.fd, 0, 0);
  }

  protected change(key: SelectorKey<T>): void {
    const rc = sys.epollCtl(this.#epfd, sys.EPOLL_CTL_MOD, key.fd, epollEvents(key.events), key.fd);
    if (rc < 0) throw new sys.SysError('epoll_ctl', -rc, `MOD fd ${key.fd}`);
  }

  protected release(): void {
    sys.close(this.#epfd);
  }

  select(timeoutMs: number): Ready<T> {
    this.checkOpen();
    const ready = this.ready;
    ready.count = 0;
    const n = sys.epollWait(this.#epfd, this.#buf, this.#max, timeoutMs);
    if (n < 0) {
      if (n === -sys.EINTR) return ready;
      throw new sys.SysError('epoll_wait', -n);
    }
    const u32 = this.#u32;
    for (let i = 0; i < n; i++) {
      const e = u32[i * STRIDE] ?? 0;
      const key = this.keys[u32[i * STRIDE + DATA] ?? -1];
      if (key === undefined) continue;
      const mask = (((e & READ_BITS) !== 0 ? EVENT_READ : 0) | ((e & WRITE_BITS) !== 0 ? EVENT_WRITE : 0)) & key.events;
      if (mask !== 0) this.push(key, mask);
    }
    return ready;
  }
}
